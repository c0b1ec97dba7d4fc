/**
 * `partner-token exec [--tenant T] [session flags] -- COMMAND ARGS…`: runs COMMAND beside a local
 * managed-identity endpoint, so that the Azure SDKs in it (any language, unmodified) get the
 * session's tokens — in a customer's tenant with `--tenant`. The endpoint lives as long as the
 * command; the exit code is the command's.
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
  withHelp(
    tenantFlag,
    "the customer tenant the command's tokens are for (default the session's own)",
  ),
  ...profileFlags,
  noCaeFlag,
  // Not --show-new-refresh-token: stdout belongs to the command (exec) or the ready line (serve).
  ...storeSourceFlags.filter((f) => f.name !== "show-new-refresh-token"),
  {
    name: "log-requests",
    kind: "boolean",
    help: "log each token request on stderr (resource, tenant, status; never a token)",
  },
  withHelp(
    debugFlag,
    "show the HTTP exchange with Entra ID on stderr, secrets and tokens redacted",
  ),
  timeoutFlag,
  helpFlag,
];

const usage = "Usage: partner-token exec [--tenant T] [--profile P] [options] -- COMMAND [ARGS…]";

const help = async (): Promise<string> => {
  const { REMOVED_VARIABLES, SET_VARIABLES } = await import("../../sidecar/environment.ts");
  return `partner-token exec — run a command whose Azure SDKs get the session's tokens

Examples:
  partner-token exec --tenant fabrikam.onmicrosoft.com -- python3 report.py
  partner-token exec --profile contoso -- pwsh -c 'Connect-MgGraph -Identity; Get-MgUser -Top 5'

${usage}

Starts a managed-identity endpoint on 127.0.0.1 (a free port; App Service's protocol,
api-version 2019-08-01) and runs COMMAND with:
${Object.entries(SET_VARIABLES)
  .map(([name, why]) => `  ${name.padEnd(36)}${why}`)
  .join("\n")}
and without the variables that would make an SDK pick another credential first:
${REMOVED_VARIABLES.map((v) => `  ${v.name.padEnd(36)}${v.why}`).join("\n")}

ManagedIdentityCredential and DefaultAzureCredential then get tokens from the session: for
resource R, the scope R/.default, in --tenant, from the cache while valid. Signals (INT, TERM,
HUP) are passed on to COMMAND. See docs/sidecar.md for each language.

Options:
${formatFlags(flags)}

Exit codes: COMMAND's exit code (128+N when signal N ended it, 127 not found, 126 not
executable); before COMMAND runs: 1 error, 2 usage, 4 sign-in needed (no session).
`;
};

export const spec: CommandSpec = {
  flags,
  usage,
  help,
  positionals: true,
  output: false,
  // Flags before `--` are ours; everything after is the command, untouched.
  rest: true,
  // Signals go to the command, whose exit code is ours.
  interrupt: "none",
};

export async function body({
  args,
  rest: command,
  clientOptions,
}: CommandContext): Promise<number> {
  if (args.positionals.length > 0 || command.length === 0)
    throw usageError(
      args.positionals.length > 0
        ? `put the command after '--': partner-token exec … -- ${args.positionals.join(" ")}`
        : "exec needs a command after '--'.",
    );
  const tenant = getString(args, "tenant");
  if (tenant !== undefined && !TENANT.test(tenant.trim()))
    throw usageError(`--tenant takes a tenant id or domain name, not '${tenant}'.`);

  const source = await openTokenSourceFromArgs(args, clientOptions);
  try {
    const [{ startSidecar }, { childEnvironment }, { runChild }] = await Promise.all([
      import("../../sidecar/server.ts"),
      import("../../sidecar/environment.ts"),
      import("../../sidecar/exec.ts"),
    ]);
    const sidecar = await startSidecar({
      source,
      ...(tenant !== undefined ? { tenant: tenant.trim() } : {}),
      clientId: source.info.applicationId,
      ...(getBoolean(args, "log-requests") ? { log: say } : {}),
    });
    try {
      return await runChild(command[0]!, command.slice(1), {
        env: childEnvironment(process.env, sidecar),
        log: say,
      });
    } finally {
      await sidecar.close();
    }
  } finally {
    await source.close();
  }
}
