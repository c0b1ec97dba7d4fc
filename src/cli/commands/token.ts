/**
 * `partner-token token`: an access token from the session — from the cache while it stays valid,
 * otherwise renewed (the rotated refresh token written back first). Prints the AuthResult like
 * `new` does, without the refresh token, which stays in the session.
 */
import { formatFlags, getBoolean, getString, parseArgs, type FlagSpec } from "../args.ts";
import { abortOnInterrupt, installCrashGuard, reportError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { compileQuery, outputFlags, parseOutputFormat, writeResult } from "../output.ts";
import { say } from "../redact.ts";
import {
  openTokenSourceFromArgs,
  profileFlags,
  tokenRequestFlags,
  tokenRequestOf,
} from "../session-flags.ts";
import { storeSourceFlags } from "../store-flags.ts";
import { UsageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...tokenRequestFlags,
  ...profileFlags,
  ...storeSourceFlags,
  ...outputFlags,
  {
    name: "debug",
    kind: "boolean",
    help: "show the HTTP exchange on stderr, secrets and tokens redacted",
  },
  { name: "help", short: "h", kind: "boolean", help: "show this help" },
];

const usage = "Usage: partner-token token [--scopes S…] [--tenant T] [--profile P] [options]";

const help = (): string => `partner-token token — an access token from the session

Examples:
  partner-token token --scopes https://graph.microsoft.com/.default --tenant $CUSTOMER
  partner-token token --query accessToken -o tsv          # the bare token, Partner Center's scope
  TOKEN=$(partner-token token --profile contoso --scopes https://outlook.office365.com/.default --query accessToken -o tsv)
  partner-token token --refresh-token-store keyvault:https://kv.vault.azure.net/secrets/rt \\
    --application-id $APP --credential env:SECRET --tenant $CUSTOMER --scopes …   # no session
  partner-token token --cache redis://10.0.0.5:6379 --encryption-key env:KEY …         # a fleet

${usage}

Answers from the cache while the token stays valid for --min-validity seconds; otherwise renews it
with the session's refresh token (or client credentials), writes the rotated refresh token back
first, and caches the new access token. Processes asking at the same moment share one renewal.

Options:
${formatFlags(flags)}

Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in needed (no session, expired, revoked), 130 cancelled.
`;

export async function run(argv: string[]): Promise<number> {
  let debug = false;
  installCrashGuard();
  try {
    const args = parseArgs(argv, flags);
    if (getBoolean(args, "help")) {
      process.stdout.write(help());
      return ExitCode.ok;
    }
    debug = getBoolean(args, "debug");
    if (args.positionals.length > 0)
      throw new UsageError(`unexpected argument '${args.positionals[0]}'.`);
    const format = parseOutputFormat(getString(args, "output"));
    const query = getString(args, "query");
    await compileQuery(query);
    const request = tokenRequestOf(args);
    const signal = abortOnInterrupt();
    const source = await openTokenSourceFromArgs(args, {
      signal,
      ...(debug ? { debug: (line: string) => say(line) } : {}),
    });
    try {
      const result = await source.getToken({ ...request, signal });
      await writeResult(result, format, query);
    } finally {
      await source.close?.();
    }
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, usage, debug);
  }
}
