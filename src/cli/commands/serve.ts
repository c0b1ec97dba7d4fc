/**
 * `partner-token serve [--port N] [--tenant T] [session flags]`: the managed-identity endpoint of
 * `exec`, long-running, for programs started some other way (a service manager, an IDE, several
 * shells). One JSON ready line on stdout says where it is and its header secret.
 */
import { formatFlags, getBoolean, getString, type FlagSpec } from "../args.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { say } from "../redact.ts";
import { noCaeFlag, openTokenSourceFromArgs, profileFlags } from "../session-flags.ts";
import { tenantFlag, withHelp } from "../sign-in-flags.ts";
import { storeSourceFlags } from "../store-flags.ts";
import { TENANT } from "../../sidecar/server.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  {
    name: "port",
    kind: "string",
    valueName: "n",
    help: "port on 127.0.0.1 (default 0: a free one)",
  },
  withHelp(
    tenantFlag,
    "the customer tenant for /msi/token (default the session's own); /tenants/{T}/msi/token picks any",
  ),
  ...profileFlags,
  noCaeFlag,
  // Not --show-new-refresh-token: stdout belongs to the command (exec) or the ready line (serve).
  ...storeSourceFlags.filter((f) => f.name !== "show-new-refresh-token"),
  { name: "quiet", kind: "boolean", help: "no request log on stderr" },
  withHelp(
    debugFlag,
    "show the HTTP exchange with Entra ID on stderr, secrets and tokens redacted",
  ),
  timeoutFlag,
  helpFlag,
];

const usage = "Usage: partner-token serve [--port N] [--tenant T] [--profile P] [options]";

const help =
  (): string => `partner-token serve — a local managed-identity endpoint for the session's tokens

Examples:
  partner-token serve                           # a free port: the ready line says which
  partner-token serve --port 50342 --tenant fabrikam.onmicrosoft.com --profile contoso

${usage}

Serves App Service's managed-identity protocol (api-version 2019-08-01) on 127.0.0.1 until
stopped (Ctrl-C, SIGTERM). When ready it prints one JSON line on stdout:

  {"identityEndpoint":"http://127.0.0.1:PORT/msi/token","identityHeader":"…","port":PORT,"tenant":…,"pid":…}

Give a program IDENTITY_ENDPOINT and IDENTITY_HEADER from it (on a terminal, the export lines
are shown on stderr) and remove AZURE_CLIENT_SECRET and the other variables listed by
'partner-token exec --help'. A customer tenant per request: /tenants/{tenant}/msi/token.
The header secret is new at every start; requests without it are refused (401).

Options:
${formatFlags(flags)}

Exit codes: 0 stopped, 1 error (the port is taken…), 2 usage, 4 sign-in needed (no session).
`;

export const spec: CommandSpec = { flags, usage, help, output: false, interrupt: "stop" };

export async function body({ args, signal, clientOptions }: CommandContext): Promise<number> {
  const portText = getString(args, "port");
  const port = portText === undefined ? 0 : Number(portText);
  if (!/^\d+$/.test(portText ?? "0") || port > 65535)
    throw usageError(`--port takes a port number (0 to 65535), not '${portText}'.`);
  const tenant = getString(args, "tenant")?.trim();
  if (tenant !== undefined && !TENANT.test(tenant))
    throw usageError(`--tenant takes a tenant id or domain name, not '${tenant}'.`);

  // Not the stop signal: stopping must not abort a token request the endpoint is answering.
  const { signal: _stop, ...requestOptions } = clientOptions;
  const source = await openTokenSourceFromArgs(args, requestOptions);
  try {
    const { startSidecar } = await import("../../sidecar/server.ts");
    let sidecar;
    try {
      sidecar = await startSidecar({
        source,
        port,
        ...(tenant !== undefined ? { tenant } : {}),
        clientId: source.info.applicationId,
        ...(getBoolean(args, "quiet") ? {} : { log: say }),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
        throw new Error(
          `port ${port} on 127.0.0.1 is already in use. Pick another with --port, or leave it out for a free one.`,
          { cause: error },
        );
      throw error;
    }
    process.stdout.write(
      JSON.stringify({
        identityEndpoint: sidecar.identityEndpoint,
        identityHeader: sidecar.identityHeader,
        port: sidecar.address.port,
        tenant: tenant ?? null,
        pid: process.pid,
      }) + "\n",
    );
    // The secret goes to a terminal only: stderr is often a log file when not.
    if (process.stderr.isTTY) {
      const { REMOVED_VARIABLES } = await import("../../sidecar/environment.ts");
      process.stderr.write(
        `export IDENTITY_ENDPOINT='${sidecar.identityEndpoint}'\n` +
          `export IDENTITY_HEADER='${sidecar.identityHeader}'\n` +
          `unset ${REMOVED_VARIABLES.map((v) => v.name).join(" ")}\n`,
      );
    }
    say(`partner-token serve: listening on ${sidecar.identityEndpoint}; stop with Ctrl-C.`);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await sidecar.close();
    say("partner-token serve: stopped.");
    return ExitCode.ok;
  } finally {
    await source.close();
  }
}
