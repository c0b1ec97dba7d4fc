/**
 * `partner-token decode [SOURCE]`: the header and claims of a JWT (an access or id token), read
 * from a source like every other secret. The signature is not checked: this is for reading
 * what a token says (audience, scopes, tenant, expiry), not for trusting it.
 */
import { formatFlags, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { readSecret, SOURCE_SPELLINGS } from "../secret-source.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [...outputFlags, stackDebugFlag, helpFlag];

const usage =
  "Usage: partner-token decode [- | @path | env:NAME | prompt] [-o FORMAT] [--query EXPR]";

/** Built when asked for, not at load: every run of the command pays for its top level. */
const help = (): string =>
  `partner-token decode — show the header and claims of a token

Examples:
  partner-token token --query accessToken -o tsv | partner-token decode --query claims.aud
  partner-token decode env:ACCESS_TOKEN --query 'claims.{app: appid, tenant: tid, scopes: scp}'
  partner-token decode @token.txt -o table

${usage}

The token is read from a source, never from the command line: ${SOURCE_SPELLINGS}.
Without one, it is read from standard input when that is not a terminal, else prompted for.
The signature is not verified. Refresh tokens are opaque and cannot be decoded.

Options:
${formatFlags(flags)}

Output: {"header": {…}, "claims": {…}} as JSON on stdout.
Exit codes: 0 ok, 1 not a JWT, 2 usage.
`;

export const spec: CommandSpec = { flags, usage, help, positionals: true };

export async function body({ args, format, query }: CommandContext): Promise<number> {
  if (args.positionals.length > 1) throw usageError("decode takes one token source.");
  const source = args.positionals[0] ?? (process.stdin.isTTY ? "prompt" : "-");
  const token = (await readSecret(source, { flag: "decode", what: "token" })).trim();
  await writeResult(await decode(token), format, query);
  return ExitCode.ok;
}

async function decode(token: string): Promise<{ header: unknown; claims: unknown }> {
  const parts = token.split(".").length;
  if (parts === 5) throw new Error("this token is encrypted (JWE): only its audience can read it.");
  if (parts !== 3)
    throw new Error("this is not a JWT (refresh tokens and some access tokens are opaque).");
  const { decodeJwt, decodeProtectedHeader } = await import("jose");
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch (error) {
    throw new Error(`this is not a valid JWT: ${(error as Error).message}`);
  }
}
