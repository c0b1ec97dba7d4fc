/** `partner-token emulator`: runs the local Entra ID + Partner Center emulator until interrupted. */
import { getBoolean, getString, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { usageError } from "../usage-error.ts";

/** Its options; the shared parser also takes the PowerShell spelling (`-Port 0`). */
export const flags: FlagSpec[] = [
  {
    name: "port",
    kind: "string",
    valueName: "n",
    help: "port to listen on (default 9443; 0 picks a free one)",
  },
  {
    name: "host",
    kind: "string",
    valueName: "address",
    help: "address to listen on (default 127.0.0.1)",
  },
  { name: "http", kind: "boolean", help: "plain HTTP instead of HTTPS" },
  {
    name: "data-dir",
    kind: "string",
    valueName: "dir",
    help: "where the CA, signing key and demo certificate are kept",
  },
  {
    name: "seed",
    kind: "string",
    valueName: "file",
    help: "a JSON directory seed (default: the embedded seed)",
  },
  {
    name: "auto-approve",
    kind: "boolean",
    help: "sign in without a form, approve device codes after one poll",
  },
  {
    name: "print-seed",
    kind: "boolean",
    help: "print the embedded default seed (JSON) on stdout and exit",
  },
  {
    name: "impersonate",
    kind: "boolean",
    help: "answer under Microsoft's host names (default port 443)",
  },
  stackDebugFlag,
  { ...helpFlag, help: "this help" },
];

const usage = "Usage: partner-token emulator [options]";

const help =
  (): string => `partner-token emulator — a local Microsoft Entra ID + Partner Center, for tests and demos

Examples:
  # Start it, then sign in against it from another shell (the demo user is approved)
  partner-token emulator --auto-approve
  partner-token connect --use-device-authentication --environment Emulator

  # A throwaway instance on a free port, for a test: its url and caFile are in the ready line
  partner-token emulator --port 0 --data-dir "$(mktemp -d)" > ready.json &

  # Tenants, apps and users of your own
  partner-token emulator --print-seed > seed.json   # edit it, then:
  partner-token emulator --seed seed.json

${usage}

Runs a local Microsoft Entra ID + Partner Center emulator. When it is ready it prints one JSON
line on stdout (url, caFile, partnerTenant, customers, apps, user; see docs/emulator.md);
everything else goes to stderr. Stop it with Ctrl-C.

Options:
  --port N          port to listen on (default 9443; 0 picks a free one)
  --host ADDRESS    address to listen on (default 127.0.0.1)
  --http            plain HTTP instead of HTTPS
  --data-dir DIR    where the CA, signing key and demo certificate are kept
                    (default $PARTNER_TOKEN_EMULATOR_DIR or ~/.local/share/partner-token/emulator)
  --seed FILE       a JSON directory seed (default: the embedded seed)
  --auto-approve    sign in the default user (or login_hint) without a form, and approve
                    device codes after their first pending poll
  --print-seed      print the embedded default seed (JSON) on stdout and exit: a start
                    for a seed of your own
  --impersonate     answer under Microsoft's own host names (login.microsoftonline.com,
                    api.partnercenter.microsoft.com, management.azure.com, ...), routed by
                    Host, with Entra's exact issuers; port 443 unless --port. Point the names
                    in the ready line's "hosts" at 127.0.0.1 (see docs/emulator.md)
  --debug           on failure, show the stack on stderr
  -h, --help        this help

Exit codes: 0 stopped, 1 error, 2 bad options or seed.
`;

export const spec: CommandSpec = { flags, usage, help, output: false, interrupt: "stop" };

export async function body({ args, signal }: CommandContext): Promise<number> {
  if (getBoolean(args, "print-seed")) {
    const { defaultSeed, parseSeed } = await import("../../emulator/seed.ts");
    // The settings with their defaults written out, so that each can be seen and changed.
    const seed = { settings: parseSeed(defaultSeed).settings, ...defaultSeed };
    process.stdout.write(JSON.stringify(seed, null, 2) + "\n");
    return ExitCode.ok;
  }
  const portText = getString(args, "port");
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw usageError(`--port '${portText}' is not a port number (0 to 65535).`);
  const impersonate = getBoolean(args, "impersonate");
  if (impersonate && getBoolean(args, "http"))
    throw usageError(
      "--impersonate and --http do not go together: Microsoft's clients speak only HTTPS to its hosts.",
    );
  const host = getString(args, "host");
  const dataDir = getString(args, "data-dir");
  const seed = getString(args, "seed");
  const { startEmulator, SeedError } = await import("../../emulator/index.ts");
  let emulator;
  try {
    emulator = await startEmulator({
      ...(port !== undefined ? { port } : {}),
      ...(host ? { host } : {}),
      http: getBoolean(args, "http"),
      ...(dataDir ? { dataDir } : {}),
      ...(seed ? { seed } : {}),
      autoApprove: getBoolean(args, "auto-approve"),
      impersonate,
    });
  } catch (e) {
    if (e instanceof SeedError) {
      const { UsageError } = await import("../../client/errors.ts");
      throw new UsageError("ERR_SEED", e.message, { cause: e });
    }
    const code = (e as NodeJS.ErrnoException).code;
    const shownPort = port ?? (impersonate ? 443 : 9443);
    if (code === "EADDRINUSE")
      throw new Error(
        `port ${shownPort} is already in use. Is an emulator already running? Use --port 0 for a free port.`,
        { cause: e },
      );
    if (code === "EACCES")
      throw new Error(
        `not permitted to listen on port ${shownPort}. Run it with the privilege to bind low ports (for example in a namespace of your own), or choose --port 8443.`,
        { cause: e },
      );
    throw e;
  }
  process.stdout.write(JSON.stringify(emulator.info) + "\n");
  process.stderr.write(
    `emulator: listening on ${emulator.url}${emulator.caFile ? ` (trust ${emulator.caFile}: NODE_EXTRA_CA_CERTS or --ca-file)` : ""}\n` +
      `emulator: demo user ${emulator.info.user.username}; control API ${emulator.info.controlUrl}; Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await emulator.close();
  return ExitCode.ok;
}
