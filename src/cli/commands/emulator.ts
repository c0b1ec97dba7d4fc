/** `partner-token emulator`: runs the local Entra ID + Partner Center emulator until interrupted. */
import { parseArgs } from "node:util";
import { ExitCode } from "../exit-codes.ts";

const help = `Usage: partner-token emulator [options]

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
  -h, --help        this help

Exit codes: 0 stopped, 1 error, 2 bad options or seed.`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        http: { type: "boolean" },
        "data-dir": { type: "string" },
        seed: { type: "string" },
        "auto-approve": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`partner-token emulator: ${(e as Error).message}\n\n${help}\n`);
    return ExitCode.usage;
  }
  if (values.help) {
    process.stderr.write(help + "\n");
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
    });
  } catch (e) {
    if (e instanceof SeedError) {
      process.stderr.write(`partner-token emulator: ${e.message}\n`);
      return ExitCode.usage;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      process.stderr.write(
        `partner-token emulator: port ${port ?? 9443} is already in use. Is an emulator already running? Use --port 0 for a free port.\n`,
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
