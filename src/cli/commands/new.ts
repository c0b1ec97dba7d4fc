/**
 * `partner-token new` (alias `new-access-token`): New-PartnerAccessToken on the command line.
 * Flags are the cmdlet's parameters in kebab case, and the PowerShell spelling works too.
 * The library resolves the parameter set; this file reads flags, environment and secret
 * sources, and prints the AuthResult.
 */
import type { ClientOptions, NewPartnerAccessTokenParams } from "../../client/types.ts";
import type { RefreshTokenStore } from "../../session/types.ts";
import { formatFlags, getBoolean, getString, type FlagSpec, type ParsedArgs } from "../args.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult, type OutputFormat } from "../output.ts";
import { progress, say } from "../redact.ts";
import { SOURCE_SPELLINGS } from "../secret-source.ts";
import { signInFlags, toParams } from "../sign-in-flags.ts";
import { encryptionKeyFlag, refreshTokenStoreFlag } from "../store-flags.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...signInFlags([
    {
      name: "save-refresh-token",
      kind: "string",
      valueName: "file",
      help: "write the rotated refresh token to FILE (atomically, mode 0600) after a successful sign-in (= --refresh-token-store file:FILE)",
    },
    refreshTokenStoreFlag,
    encryptionKeyFlag,
  ]),
  ...outputFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
  // PowerShell compatibility: accepted so a script ports unchanged.
  { name: "consent", kind: "boolean", hidden: true, help: "" },
  { name: "verbose", kind: "boolean", hidden: true, help: "" },
];

const usage =
  "Usage: partner-token new [--application-id ID] (--scopes S… | --resource URI | --module ExchangeOnline) [options]";

/** Built when asked for, not at load: every run of the command pays for its top level. */
const help = (): string =>
  `partner-token new — get an access token and a refresh token (New-PartnerAccessToken)

Examples:
  # App + User, once: sign in in the browser, keep the refresh token (file mode 0600)
  partner-token new --application-id "$APP" --service-principal --credential env:APP_SECRET \\
    --tenant "$TENANT" --use-authorization-code --save-refresh-token ~/.pt/rt \\
    --scopes https://api.partnercenter.microsoft.com/user_impersonation

  # Unattended: trade it for a Graph token; the rotated refresh token is saved again
  partner-token new --application-id "$APP" --credential env:APP_SECRET --tenant "$TENANT" \\
    --refresh-token @~/.pt/rt --save-refresh-token ~/.pt/rt \\
    --scopes https://graph.microsoft.com/.default --query accessToken -o tsv

  # The application itself (client credentials)
  partner-token new --service-principal --application-id "$APP" --credential env:APP_SECRET \\
    --tenant "$TENANT" --scopes https://graph.microsoft.com/.default

  # A device code (SSH, containers), Exchange Online as its PowerShell module signs in
  partner-token new --use-device-authentication --application-id "$APP" --scopes https://graph.microsoft.com/.default
  partner-token new --module ExchangeOnline --tenant contoso.onmicrosoft.com

  # The cmdlet's own spelling, pasted from a PowerShell script
  partner-token new -ApplicationId $APP -Scopes 'https://graph.microsoft.com/.default' -ServicePrincipal -Tenant $TENANT

${usage}

Parameter sets (as the cmdlet; the first that applies wins, in this order):
  AccessToken                  --access-token SRC --application-id ID --scopes S…
  authorization code           --use-authorization-code --application-id ID --scopes S…
                               (+ --service-principal --credential/--certificate-*: App + User)
  RefreshToken                 --refresh-token SRC --scopes S… [--application-id ID]
                               [--credential SRC | --certificate-*] [--tenant T]
  User, device code            --use-device-authentication --application-id ID --scopes S…
  User, browser                --application-id ID --scopes S…
  ServicePrincipal             --service-principal --application-id ID --credential [SRC] --tenant T --scopes S…
  ServicePrincipalCertificate  --service-principal --application-id ID --certificate-thumbprint X --tenant T --scopes S…
  ByModule                     --module ExchangeOnline [--refresh-token SRC] [--tenant T]
  With --authority (any OpenID Connect issuer) no set needs --tenant: the issuer decides.

Options:
${formatFlags(flags)}

PowerShell spelling works too, any case, any alias, unique prefixes (-App for -ApplicationId);
'-Switch:$true' must be quoted in a POSIX shell.

Secrets (--credential, --refresh-token, --access-token, --certificate-password) are read from a
source, never given on the command line: ${SOURCE_SPELLINGS}.
  -Credential maps to --credential: its password is the client secret, read from the source
  (AZURE_CLIENT_SECRET when the source is left out, else a hidden prompt); its user name is
  --credential-user, else --application-id, else AZURE_CLIENT_ID.
  With --service-principal and no secret or certificate given, AZURE_CLIENT_SECRET is used,
  else AZURE_CLIENT_CERTIFICATE_PATH (+ AZURE_CLIENT_CERTIFICATE_PASSWORD), else a prompt.

Environment: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
  AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_AUTHORITY_HOST, PARTNER_TOKEN_CA_FILE,
  NODE_EXTRA_CA_CERTS, BROWSER (the program that opens the sign-in page).

Output: the AuthResult as JSON on stdout; messages (device code, browser) on stderr.
  partner-token new … --query accessToken -o tsv     prints the bare access token

Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in needed (expired, revoked, MFA, consent), 130 cancelled.
`;

export const spec: CommandSpec = {
  flags,
  usage,
  help,
  strayHint:
    "(A PowerShell variable such as $credential has no meaning here: see --help for secret sources.)",
};

export async function body({
  args,
  format,
  query,
  clientOptions,
}: CommandContext): Promise<number> {
  const saveTo = getString(args, "save-refresh-token");
  const storeUri = getString(args, "refresh-token-store");
  if (saveTo !== undefined && storeUri !== undefined)
    throw usageError(
      "--save-refresh-token FILE is --refresh-token-store file:FILE: give one of them.",
    );
  if (saveTo !== undefined) {
    const { expandHome } = await import("../save-refresh-token.ts");
    const { existsSync } = await import("node:fs");
    const { dirname } = await import("node:path");
    if (saveTo.trim() === "" || !existsSync(dirname(expandHome(saveTo))))
      throw usageError(`--save-refresh-token: no folder for '${saveTo}'; create it first.`);
  }
  if (getBoolean(args, "consent"))
    say(
      "partner-token: -Consent (module 1.5.x) is accepted and ignored: consent is given at sign-in.",
    );

  const params = await toParams(args);
  // Opened before the sign-in: a wrong URI, an unreachable store or a missing key shows now,
  // not after someone has signed in.
  let store: RefreshTokenStore | undefined;
  if (storeUri !== undefined) {
    const { openStoreFromArgs } = await import("../store-flags.ts");
    store = await openStoreFromArgs(args, storeUri);
  }
  try {
    return await signIn(args, params, clientOptions, format, query, saveTo, store);
  } finally {
    await store?.close?.();
  }
}

/** The sign-in, then the refresh token written where asked (a store, or --save-refresh-token). */
async function signIn(
  args: ParsedArgs,
  params: NewPartnerAccessTokenParams,
  clientOptions: ClientOptions,
  format: OutputFormat,
  query: string | undefined,
  saveTo: string | undefined,
  store: RefreshTokenStore | undefined,
): Promise<number> {
  const options: ClientOptions = {
    log: (message) => progress(message),
    ...clientOptions,
    ...(getBoolean(args, "no-browser")
      ? {
          openBrowser: async (url: string) =>
            say(`Open this address in a browser to sign in:\n  ${url}`),
        }
      : {}),
  };
  // Not the package index: it loads every flow, and this command runs one.
  const { newPartnerAccessToken } = await import("../../client/new-partner-access-token.ts");
  const result = await newPartnerAccessToken(params, options);
  let saveFailed: unknown;
  const target = store?.description ?? saveTo;
  if (target !== undefined) {
    try {
      if (result.refreshToken === null || result.refreshToken === "")
        say(`partner-token: the server issued no refresh token; ${target} was left as it was.`);
      else if (store) await store.write(result.refreshToken);
      else {
        const { saveRefreshToken } = await import("../save-refresh-token.ts");
        await saveRefreshToken(saveTo!, result.refreshToken);
      }
    } catch (error) {
      saveFailed = error;
    }
  }
  // The result is written even when saving failed: the rotated token must not be lost.
  await writeResult(result, format, query);
  if (saveFailed !== undefined) {
    const { saveFailureMessage } = await import("../save-refresh-token.ts");
    say(`partner-token: ${saveFailureMessage(target!, saveFailed)}`);
    return ExitCode.error;
  }
  return ExitCode.ok;
}
