/**
 * `partner-token status`: the profile's session — who, where, which app, the cached tokens, the
 * refresh token's last rotation and days left in its 90-day window, and (when the session signs in
 * with a client secret or certificate and Graph can be read within a few seconds) when that
 * credential expires. Nothing secret. The exit code is the health: 0 healthy, 3 expiring within
 * --warn-days, 4 sign-in needed.
 */
import type { SessionCredentialExpiry } from "../../app-setup/credentials.ts";
import type { ClientOptions } from "../../client/types.ts";
import { formatFlags, getBoolean, getString, type FlagSpec, type ParsedArgs } from "../args.ts";
import {
  helpFlag,
  stackDebugFlag,
  timeoutFlag,
  type CommandContext,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { say } from "../redact.ts";
import { profileFlags, sessionOptionsOf, warnDaysFlag, warnDaysOf } from "../session-flags.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...profileFlags,
  {
    ...warnDaysFlag,
    help: "exit 3 when the refresh token has fewer days left of its 90-day window (default 14), or the app's secret or certificate the session uses expires within this many days (default 30)",
  },
  {
    name: "offline",
    kind: "boolean",
    help: "no network: skip reading the app's credential expiry through Graph",
  },
  {
    ...timeoutFlag,
    help: "give up reading the app's credential expiry after this many seconds (default 10) [env PARTNER_TOKEN_TIMEOUT]",
  },
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
  partner-token status --offline          # the local session only, no network

When the session signs in with a client secret or a certificate (App + User, service principal),
status also reads, through Graph, when that credential expires (the app's secrets and certificates,
matched by the secret's first three characters or the certificate's thumbprint). That read is
bounded (--timeout, default 10 s) and silent when it cannot be made: the session cannot get a
Graph token, or the app may not read its own registration (Application.Read.All or
Directory.Read.All is needed). It may renew the session's Graph token, as 'token' would.

${usage}

Options:
${formatFlags(flags)}

Exit codes: 0 healthy, 3 the refresh token expires within --warn-days (run any 'partner-token
token' to renew it) or the app's credential does (rotate it: partner-token app rotate-secret or
rotate-certificate), 4 sign-in needed (no session, window passed, revoked), 1 error, 2 usage.
`;

export const spec: CommandSpec = { flags, usage, help, output: false };

export async function body({ args, signal, clientOptions }: CommandContext): Promise<number> {
  const output = (
    getString(args, "output") ?? (process.stdout.isTTY ? "table" : "json")
  ).toLowerCase();
  if (output !== "json" && output !== "table")
    throw usageError(`--output takes json or table, not '${getString(args, "output")}'.`);
  const options = sessionOptionsOf(args);
  const { sessionStatus } = await import("../../session/session.ts");
  const before = await sessionStatus({ ...options, warnDays: warnDaysOf(args) });
  // Read before the status is taken: a Graph token renewed for it shows as the latest rotation.
  const appCredential =
    getBoolean(args, "offline") ||
    before.state === "signInRequired" ||
    before.kind === "accessToken"
      ? null
      : await readCredentialExpiry(args, signal, clientOptions);
  const status: Status = {
    ...(appCredential ? await sessionStatus({ ...options, warnDays: warnDaysOf(args) }) : before),
    appCredential,
  };
  // Its own line, also when the refresh token is the first reason to warn.
  let credentialLine: string | undefined;
  if (appCredential?.expiring && status.state !== "signInRequired") {
    credentialLine = credentialReason(appCredential);
    if (status.state === "ok") {
      status.state = "expiring";
      status.reason = credentialLine;
      credentialLine = undefined;
    }
  }
  if (output === "json") process.stdout.write(JSON.stringify(status, null, 2) + "\n");
  else process.stdout.write(table(status));
  if (status.state !== "ok") say(`partner-token: ${status.reason}.`);
  if (credentialLine) say(`partner-token: ${credentialLine}.`);
  return status.state === "ok"
    ? ExitCode.ok
    : status.state === "expiring"
      ? ExitCode.expiring
      : ExitCode.signInNeeded;
}

type Status = Awaited<ReturnType<typeof import("../../session/session.ts").sessionStatus>> & {
  /** When the secret or certificate the session renews with expires; null when not read. */
  appCredential: SessionCredentialExpiry | null;
};

const DEFAULT_CREDENTIAL_WARN_DAYS = 30;
const DEFAULT_CREDENTIAL_TIMEOUT_MS = 10_000;

/**
 * The session's own credential as Graph lists it, within the time bound; null (and silent, but for
 * --debug) when the session has none, or Graph cannot be read for any reason.
 */
async function readCredentialExpiry(
  args: ParsedArgs,
  signal: AbortSignal,
  clientOptions: ClientOptions,
): Promise<SessionCredentialExpiry | null> {
  const timeoutMs = clientOptions.timeoutMs ?? DEFAULT_CREDENTIAL_TIMEOUT_MS;
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const quiet: ClientOptions = { ...clientOptions, signal: bounded, timeoutMs };
  const { openSession } = await import("../../session/session.ts");
  const session = await openSession({ ...sessionOptionsOf(args, quiet), warn: () => {} }).catch(
    () => null,
  );
  if (!session) return null;
  try {
    const [{ GraphClient }, { sessionCredentialExpiry }, { graphOf }] = await Promise.all([
      import("../../graph/client.ts"),
      import("../../app-setup/credentials.ts"),
      import("../partner-center-source.ts"),
    ]);
    const env = session.info.environment;
    const { graphEndpoint, graphResource } = await graphOf(env);
    const graph = new GraphClient({
      source: session,
      endpoint: graphEndpoint,
      resource: graphResource,
      ...(env.caFile ? { caFile: env.caFile } : {}),
      signal: bounded,
      timeoutMs,
      retries: 1,
      ...(clientOptions.debug ? { debug: clientOptions.debug } : {}),
    });
    const warnDays =
      getString(args, "warn-days") !== undefined ? warnDaysOf(args) : DEFAULT_CREDENTIAL_WARN_DAYS;
    // The whole read within the bound, a store the session reads its secret from included.
    const expired = new Promise<never>((_, reject) => {
      const fail = () => reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      if (bounded.aborted) fail();
      else bounded.addEventListener("abort", fail, { once: true });
    });
    return await Promise.race([sessionCredentialExpiry(graph, session, { warnDays }), expired]);
  } catch (error) {
    if (signal.aborted) throw error;
    clientOptions.debug?.(
      `status: the app's credential expiry was not read: ${(error as Error).message}`,
    );
    return null;
  }
}

function credentialReason(c: SessionCredentialExpiry): string {
  const what = c.kind === "secret" ? "client secret" : "certificate";
  const command = c.kind === "secret" ? "rotate-secret" : "rotate-certificate";
  const when =
    c.daysLeft !== null && c.daysLeft < 0
      ? `expired on ${c.endDateTime}`
      : `expires in ${c.daysLeft} days (${c.endDateTime})`;
  return `the app's ${what} the session uses ${when}: rotate it with partner-token app ${command} --application-id ${c.applicationId}`;
}

function credentialRow(c: SessionCredentialExpiry): string {
  const what = c.kind === "secret" ? `secret ${c.hint}…` : `certificate ${c.hint}`;
  if (!c.found) return `${what}: not among the app's credentials (removed?)`;
  if (c.endDateTime === null) return `${what}: no end date`;
  return `${what}: expires ${c.endDateTime} (${c.daysLeft} days)`;
}

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
  if (s.kind === "user")
    rows.push([
      "MFA sign-in",
      s.mfa === null ? "unknown (no cached token says)" : s.mfa ? "yes" : "no",
    ]);
  if (s.refreshToken)
    rows.push(
      ["Refresh token", s.refreshToken.location],
      ["Last rotation", s.refreshToken.lastRotation ?? "unknown"],
      ["Days left", s.refreshToken.daysLeft === null ? "unknown" : String(s.refreshToken.daysLeft)],
    );
  if (s.appCredential) rows.push(["App credential", credentialRow(s.appCredential)]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  let text = rows.map(([k, v]) => `${k.padEnd(width)}${v}`).join("\n") + "\n";
  if (s.tokens.length > 0) {
    text += "\nCached tokens:\n";
    for (const t of s.tokens)
      text += `  ${t.valid ? "valid  " : "expired"}  ${t.expiresOn}  ${t.tenant}  ${t.scopes.join(" ")}\n`;
  }
  return text;
}
