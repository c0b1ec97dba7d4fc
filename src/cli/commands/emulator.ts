/** `partner-token emulator`: runs the local Entra ID + Partner Center emulator until interrupted. */
import { parseArgs, type FlagSpec } from "../args.ts";
import { ExitCode } from "../exit-codes.ts";

/** Its own options; the shared parser also takes the PowerShell spelling (`-Port 0`). */
const options = {
  port: { type: "string" },
  host: { type: "string" },
  http: { type: "boolean" },
  "data-dir": { type: "string" },
  seed: { type: "string" },
  "auto-approve": { type: "boolean" },
  "print-seed": { type: "boolean" },
  impersonate: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Value name and description of each option: the compiler asks for one per option. */
const described: Record<keyof typeof options, [string | undefined, string]> = {
  port: ["n", "port to listen on (default 9443; 0 picks a free one)"],
  host: ["address", "address to listen on (default 127.0.0.1)"],
  http: [undefined, "plain HTTP instead of HTTPS"],
  "data-dir": ["dir", "where the CA, signing key and demo certificate are kept"],
  seed: ["file", "a JSON directory seed (default: the embedded seed)"],
  "auto-approve": [undefined, "sign in without a form, approve device codes after one poll"],
  "print-seed": [undefined, "print the embedded default seed (JSON) on stdout and exit"],
  impersonate: [undefined, "answer under Microsoft's host names (default port 443)"],
  help: [undefined, "this help"],
};

/** The options as `partner-token completion` offers them. */
export const flags: FlagSpec[] = Object.entries(options).map(([name, option]) => {
  const [valueName, help] = described[name as keyof typeof options];
  return {
    name,
    kind: option.type,
    help,
    ...(valueName ? { valueName } : {}),
    ...("short" in option ? { short: option.short } : {}),
  };
});

const help = `partner-token emulator — a local Microsoft Entra ID + Partner Center, for tests and demos

Examples:
  # Start it, then sign in against it from another shell (the demo user is approved)
  partner-token emulator --auto-approve
  partner-token connect --use-device-authentication --environment Emulator

  # A throwaway instance on a free port, for a test: its url and caFile are in the ready line
  partner-token emulator --port 0 --data-dir "$(mktemp -d)" > ready.json &

  # Tenants, apps and users of your own
  partner-token emulator --print-seed > seed.json   # edit it, then:
  partner-token emulator --seed seed.json

Usage: partner-token emulator [options]

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
  -h, --help        this help

Exit codes: 0 stopped, 1 error, 2 bad options or seed.`;

export async function run(argv: string[]): Promise<number> {
  let values: {
    [K in keyof typeof options]?: (typeof options)[K]["type"] extends "boolean" ? boolean : string;
  };
  try {
    const args = parseArgs(argv, flags);
    if (args.positionals.length > 0)
      throw new Error(`unexpected argument '${args.positionals[0]}'.`);
    values = Object.fromEntries(args.values) as typeof values;
  } catch (e) {
    process.stderr.write(`partner-token emulator: ${(e as Error).message}\n\n${help}\n`);
    return ExitCode.usage;
  }
  if (values.help) {
    process.stderr.write(help + "\n");
    return ExitCode.ok;
  }
  if (values["print-seed"]) {
    const { defaultSeed, parseSeed } = await import("../../emulator/seed.ts");
    // The settings with their defaults written out, so that each can be seen and changed.
    const seed = { settings: parseSeed(defaultSeed).settings, ...defaultSeed };
    process.stdout.write(JSON.stringify(seed, null, 2) + "\n");
    return ExitCode.ok;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(
        `partner-token emulator: --port '${values.port}' is not a port number (0 to 65535).\n`,
      );
      return ExitCode.usage;
    }
  }
  if (values.impersonate && values.http) {
    process.stderr.write(
      "partner-token emulator: --impersonate and --http do not go together: Microsoft's clients speak only HTTPS to its hosts.\n",
    );
    return ExitCode.usage;
  }
  const { startEmulator, SeedError } = await import("../../emulator/index.ts");
  let emulator;
  try {
    emulator = await startEmulator({
      ...(port !== undefined ? { port } : {}),
      ...(values.host ? { host: values.host } : {}),
      http: values.http ?? false,
      ...(values["data-dir"] ? { dataDir: values["data-dir"] } : {}),
      ...(values.seed ? { seed: values.seed } : {}),
      autoApprove: values["auto-approve"] ?? false,
      impersonate: values.impersonate ?? false,
    });
  } catch (e) {
    if (e instanceof SeedError) {
      process.stderr.write(`partner-token emulator: ${e.message}\n`);
      return ExitCode.usage;
    }
    const code = (e as NodeJS.ErrnoException).code;
    const shownPort = port ?? (values.impersonate ? 443 : 9443);
    if (code === "EADDRINUSE") {
      process.stderr.write(
        `partner-token emulator: port ${shownPort} is already in use. Is an emulator already running? Use --port 0 for a free port.\n`,
      );
      return ExitCode.error;
    }
    if (code === "EACCES") {
      process.stderr.write(
        `partner-token emulator: not permitted to listen on port ${shownPort}. Run it with the privilege to bind low ports (for example in a namespace of your own), or choose --port 8443.\n`,
      );
      return ExitCode.error;
    }

    throw e;
  }
  process.stdout.write(JSON.stringify(emulator.info) + "\n");
  process.stderr.write(
    `emulator: listening on ${emulator.url}${emulator.caFile ? ` (trust ${emulator.caFile}: NODE_EXTRA_CA_CERTS or --ca-file)` : ""}\n` +
      `emulator: demo user ${emulator.info.user.username}; control API ${emulator.info.controlUrl}; Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await emulator.close();
  return ExitCode.ok;
}
