/**
 * `partner-token partner-center token`: Partner Center's `POST /generatetoken` with the session's
 * Entra token for Partner Center; prints the Partner Center token as JSON.
 */
import { formatFlags, type FlagSpec } from "../args.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { profileFlags } from "../session-flags.ts";
import { storeSourceFlags } from "../store-flags.ts";

export const flags: FlagSpec[] = [
  ...profileFlags,
  ...storeSourceFlags,
  ...outputFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
];

const usage = "Usage: partner-token partner-center token [--profile P] [options]";

const help =
  (): string => `partner-token partner-center token — a Partner Center token (POST /generatetoken)

Examples:
  partner-token partner-center token
  PC_TOKEN=$(partner-token partner-center token --profile contoso --query accessToken -o tsv)

${usage}

Trades the session's Entra token for Partner Center (scope {PartnerCenter}/user_impersonation) for
a Partner Center token, with grant_type=jwt_token, and prints it as JSON on stdout:
  {"accessToken": "…", "tokenType": "Bearer", "expiresOn": "2026-…Z", "resource": "…", "correlationId": "…"}
Every call carries a new MS-CorrelationId, an MS-RequestId kept across its retries, and
MS-PartnerCenter-Client: partner-token; 408, 429 and 5xx are retried with backoff, honouring
Retry-After.

Partner Center's answers:
  400  the request is invalid (the description says which input)
  401  the Entra token was refused: sign in again for Partner Center with a partner user
  403  the user has no Partner Center role: assign Admin agent (or Sales/Helpdesk agent)
  404  the signed-in tenant is not a partner in this environment (check --environment)
  429  throttled even after the retries: try again later
  500  Partner Center failed even after the retries: try again later (quote the correlation id)

Options:
${formatFlags(flags)}

Exit codes: 0 ok, 1 error (Partner Center refused: code, description and correlation id shown),
2 usage, 4 sign-in needed (no session, expired, revoked), 130 cancelled.
`;

const token: CommandSpec = { flags, usage, help };

async function tokenBody({ args, format, query, clientOptions }: CommandContext): Promise<number> {
  const { withPartnerCenter } = await import("../partner-center-source.ts");
  await withPartnerCenter(args, clientOptions, async (client) => {
    const { generatePartnerCenterToken } = await import("../../partner-center/generate-token.ts");
    await writeResult(await generatePartnerCenterToken(client), format, query);
  });
  return ExitCode.ok;
}

export const spec: CommandGroup["spec"] = {
  flags: [helpFlag],
  usage,
  help,
  unknown: (name) =>
    `unknown partner-center command '${name}': the command is 'partner-center token'.`,
  subcommands: { token: { spec: token, body: tokenBody } },
};
