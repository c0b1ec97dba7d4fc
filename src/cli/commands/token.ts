/**
 * `partner-token token`: an access token from the session — from the cache while it stays valid,
 * otherwise renewed (the rotated refresh token written back first). Prints the AuthResult like
 * `new` does, without the refresh token, which stays in the session.
 */
import { formatFlags, getString, type FlagSpec } from "../args.ts";
import { readClaimsChallenge } from "../../client/claims.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import {
  openTokenSourceFromArgs,
  profileFlags,
  tokenRequestFlags,
  tokenRequestOf,
} from "../session-flags.ts";
import { storeSourceFlags } from "../store-flags.ts";

export const flags: FlagSpec[] = [
  ...tokenRequestFlags,
  {
    name: "claims",
    kind: "string",
    valueName: "challenge",
    help: 'a claims challenge (the WWW-Authenticate value, its claims="…" base64, or the JSON): skips the cache, sent to Entra with cp1',
  },
  ...profileFlags,
  ...storeSourceFlags,
  ...outputFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
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
  partner-token token --scopes https://graph.microsoft.com/.default --claims "$WWW_AUTHENTICATE"

${usage}

Answers from the cache while the token stays valid for --min-validity seconds; otherwise renews it
with the session's refresh token (or client credentials), writes the rotated refresh token back
first, and caches the new access token. Processes asking at the same moment share one renewal.
Graph and Exchange tokens are CAE tokens (a day long, revoked by a claims challenge) unless
--no-cae; after a 401 with error="insufficient_claims", pass its WWW-Authenticate to --claims.

Options:
${formatFlags(flags)}

Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in needed (no session, expired, revoked), 130 cancelled.
`;

export const spec: CommandSpec = { flags, usage, help };

export async function body({
  args,
  format,
  query,
  signal,
  clientOptions,
}: CommandContext): Promise<number> {
  const claims = getString(args, "claims");
  const request = {
    ...tokenRequestOf(args),
    ...(claims !== undefined ? { claims: readClaimsChallenge(claims) } : {}),
  };
  const source = await openTokenSourceFromArgs(args, clientOptions);
  try {
    await writeResult(await source.getToken({ ...request, signal }), format, query);
  } finally {
    await source.close();
  }
  return ExitCode.ok;
}
