/**
 * `partner-token status`: the profile's session — who, where, which app, the cached tokens, and
 * the refresh token's last rotation and days left in its 90-day window. Nothing secret. The exit
 * code is the health: 0 healthy, 3 expiring within --warn-days, 4 sign-in needed.
 */
import { formatFlags, getString, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { say } from "../redact.ts";
import { profileFlags, sessionOptionsOf, warnDaysFlag, warnDaysOf } from "../session-flags.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...profileFlags,
  warnDaysFlag,
  {
    name: "output",
    short: "o",
    kind: "string",
    valueName: "json|table",
    help: "how to print the status (default table on a terminal, json otherwise)",
  },
  stackDebugFlag,
  helpFlag,
];

const usage = "Usage: partner-token status [--profile P] [-o json|table] [--warn-days N]";

const help = (): string => `partner-token status — is the session healthy?

Examples:
  partner-token status
  partner-token status --profile contoso -o json
  partner-token status --warn-days 30 || notify-admin "partner-token needs a sign-in"

${usage}

Options:
${formatFlags(flags)}

Exit codes: 0 healthy, 3 the refresh token expires within --warn-days (run any 'partner-token
token' to renew it), 4 sign-in needed (no session, window passed, revoked), 1 error, 2 usage.
`;

export const spec: CommandSpec = { flags, usage, help, output: false };

export async function body({ args }: CommandContext): Promise<number> {
  const output = (
    getString(args, "output") ?? (process.stdout.isTTY ? "table" : "json")
  ).toLowerCase();
  if (output !== "json" && output !== "table")
    throw usageError(`--output takes json or table, not '${getString(args, "output")}'.`);
  const options = sessionOptionsOf(args);
  const { sessionStatus } = await import("../../session/session.ts");
  const status = await sessionStatus({ ...options, warnDays: warnDaysOf(args) });
  if (output === "json") process.stdout.write(JSON.stringify(status, null, 2) + "\n");
  else process.stdout.write(table(status));
  if (status.state !== "ok") say(`partner-token: ${status.reason}.`);
  return status.state === "ok"
    ? ExitCode.ok
    : status.state === "expiring"
      ? ExitCode.expiring
      : ExitCode.signInNeeded;
}

type Status = Awaited<ReturnType<typeof import("../../session/session.ts").sessionStatus>>;

function table(s: Status): string {
  const rows: Array<[string, string]> = [
    ["Profile", s.profile],
    ["State", s.state],
    ["Kind", s.kind ?? "-"],
    ["Account", s.account ?? "-"],
    ["Tenant", s.tenantId ?? s.tenant ?? "-"],
    ["Environment", s.environment ? `${s.environment.name} (${s.environment.authorityHost})` : "-"],
    ["Application", s.applicationId ?? "-"],
  ];
  if (s.refreshToken)
    rows.push(
      ["Refresh token", s.refreshToken.location],
      ["Last rotation", s.refreshToken.lastRotation ?? "unknown"],
      ["Days left", s.refreshToken.daysLeft === null ? "unknown" : String(s.refreshToken.daysLeft)],
    );
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  let text = rows.map(([k, v]) => `${k.padEnd(width)}${v}`).join("\n") + "\n";
  if (s.tokens.length > 0) {
    text += "\nCached tokens:\n";
    for (const t of s.tokens)
      text += `  ${t.valid ? "valid  " : "expired"}  ${t.expiresOn}  ${t.tenant}  ${t.scopes.join(" ")}\n`;
  }
  return text;
}
