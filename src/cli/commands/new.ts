/**
 * `partner-token new` (alias `new-access-token`): New-PartnerAccessToken on the command line.
 * Flags are the cmdlet's parameters in kebab case, and the PowerShell spelling works too.
 * The library resolves the parameter set; this file reads flags, environment and secret
 * sources, and prints the AuthResult.
 */
import type { ClientOptions, NewPartnerAccessTokenParams } from "../../client/types.ts";
import type { RefreshTokenStore } from "../../session/types.ts";
import {
  formatFlags,
  getBoolean,
  getList,
  getSource,
  getString,
  parseArgs,
  type FlagSpec,
  type ParsedArgs,
} from "../args.ts";
import { abortOnInterrupt, installCrashGuard, reportError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { compileQuery, outputFlags, parseOutputFormat, writeResult } from "../output.ts";
import { progress, say } from "../redact.ts";
import { readSecret, SOURCE_SPELLINGS } from "../secret-source.ts";
import { cacheFlags, refreshTokenStoreFlag } from "../store-flags.ts";
import { UsageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  {
    name: "application-id",
    aliases: ["client-id", "ApplicationId", "ClientId"],
    kind: "string",
    valueName: "id",
    help: "application (client) id [env AZURE_CLIENT_ID]",
  },
  {
    name: "scopes",
    aliases: ["scope"],
    kind: "list",
    valueName: "scope",
    help: "scopes to ask for: repeated, or several after the flag (spaces or commas)",
  },
  {
    name: "resource",
    kind: "string",
    valueName: "uri",
    help: "module 1.5.x -Resource: asks for the scope <uri>/.default",
  },
  {
    name: "tenant",
    aliases: ["tenant-id", "domain", "TenantId", "Domain"],
    kind: "string",
    valueName: "id|domain",
    help: "tenant id or domain (default organizations) [env AZURE_TENANT_ID]",
  },
  {
    name: "environment",
    aliases: ["environment-name", "EnvironmentName"],
    kind: "string",
    valueName: "name",
    help: "AzureCloud (default), AzureChinaCloud, AzureGermanCloud, AzurePPE, AzureUSGovernment, legacy names, Emulator",
  },
  {
    name: "service-principal",
    kind: "boolean",
    help: "sign in as the application (client credentials), or with --use-authorization-code as App + User",
  },
  {
    name: "credential",
    aliases: ["client-secret"],
    kind: "source",
    help: "the client secret (the -Credential password) from a source [default env AZURE_CLIENT_SECRET]",
  },
  {
    name: "credential-user",
    kind: "string",
    valueName: "id",
    help: "the -Credential user name (an application id); default --application-id",
  },
  {
    name: "certificate-thumbprint",
    kind: "string",
    valueName: "sha1",
    help: "SHA-1 thumbprint of a certificate in the certificate folder",
  },
  {
    name: "certificate-path",
    aliases: ["certificate-file"],
    kind: "string",
    valueName: "file",
    help: "certificate file, PEM with its key or PFX [env AZURE_CLIENT_CERTIFICATE_PATH]",
  },
  {
    name: "certificate-password",
    kind: "source",
    help: "PFX password from a source [default env AZURE_CLIENT_CERTIFICATE_PASSWORD]",
  },
  {
    name: "use-authorization-code",
    aliases: ["auth-code", "UseAuthorizationCode", "AuthCode"],
    kind: "boolean",
    help: "sign in through the browser (authorization code, loopback http://localhost:8400/…)",
  },
  {
    name: "use-device-authentication",
    aliases: ["device-code", "device-auth", "device", "UseDeviceAuthentication", "DeviceCode"],
    kind: "boolean",
    help: "sign in with a device code (shown on stderr)",
  },
  {
    name: "module",
    aliases: ["module-name", "ModuleName"],
    kind: "string",
    valueName: "name",
    help: "ExchangeOnline: the Exchange Online PowerShell app and scope",
  },
  {
    name: "refresh-token",
    kind: "source",
    help: "a refresh token from a source",
  },
  {
    name: "save-refresh-token",
    kind: "string",
    valueName: "file",
    help: "write the rotated refresh token to FILE (atomically, mode 0600) after a successful sign-in (= --refresh-token-store file:FILE)",
  },
  refreshTokenStoreFlag,
  cacheFlags.find((f) => f.name === "encryption-key")!,
  {
    name: "access-token",
    kind: "source",
    help: "an access token from a source (decoded, no network call)",
  },
  {
    name: "authority-host",
    kind: "string",
    valueName: "url",
    help: "a custom environment's login host, e.g. the emulator's URL [env AZURE_AUTHORITY_HOST]",
  },
  {
    name: "partner-center-endpoint",
    kind: "string",
    valueName: "url",
    help: "a custom environment's Partner Center API",
  },
  {
    name: "authority",
    kind: "string",
    valueName: "url",
    help: "any OpenID Connect issuer, found through its discovery document",
  },
  {
    name: "ca-file",
    kind: "string",
    valueName: "pem",
    help: "extra certificate authority to trust [env PARTNER_TOKEN_CA_FILE]",
  },
  {
    name: "no-browser",
    kind: "boolean",
    help: "print the sign-in URL instead of opening a browser",
  },
  ...outputFlags,
  {
    name: "debug",
    kind: "boolean",
    help: "show the HTTP exchange on stderr, secrets and tokens redacted",
  },
  { name: "help", short: "h", kind: "boolean", help: "show this help" },
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

/** The values of --module (completion offers them). */
export const MODULES = ["ExchangeOnline"] as const;

/** Entry point of `partner-token new`; resolves to the exit code. */
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
      throw new UsageError(
        `unexpected argument '${args.positionals[0]}'. (A PowerShell variable such as $credential has no meaning here: see --help for secret sources.)`,
      );
    const format = parseOutputFormat(getString(args, "output"));
    const saveTo = getString(args, "save-refresh-token");
    const storeUri = getString(args, "refresh-token-store");
    if (saveTo !== undefined && storeUri !== undefined)
      throw new UsageError(
        "--save-refresh-token FILE is --refresh-token-store file:FILE: give one of them.",
      );
    if (saveTo !== undefined) {
      const { expandHome } = await import("../save-refresh-token.ts");
      const { existsSync } = await import("node:fs");
      const { dirname } = await import("node:path");
      if (saveTo.trim() === "" || !existsSync(dirname(expandHome(saveTo))))
        throw new UsageError(`--save-refresh-token: no folder for '${saveTo}'; create it first.`);
    }
    const query = getString(args, "query");
    await compileQuery(query);
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
      return await signIn(args, params, debug, format, query, saveTo, store);
    } finally {
      await store?.close?.();
    }
  } catch (error) {
    return reportError(error, usage, debug);
  }
}

/** The sign-in, then the refresh token written where asked (a store, or --save-refresh-token). */
async function signIn(
  args: ParsedArgs,
  params: NewPartnerAccessTokenParams,
  debug: boolean,
  format: ReturnType<typeof parseOutputFormat>,
  query: string | undefined,
  saveTo: string | undefined,
  store: RefreshTokenStore | undefined,
): Promise<number> {
  const signal = abortOnInterrupt();
  const options: ClientOptions = {
    log: (message) => progress(message),
    signal,
    ...(debug ? { debug: (line: string) => say(line) } : {}),
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
    say(
      `partner-token: could not save the refresh token to ${target}: ${(saveFailed as Error).message}. ` +
        `${target} was left as it was; the new refresh token is in the result on stdout.`,
    );
    return ExitCode.error;
  }
  return ExitCode.ok;
}

/** Flags + environment → the library's parameters, reading every secret from its source. */
export async function toParams(args: ParsedArgs): Promise<NewPartnerAccessTokenParams> {
  const env = process.env;
  const flag = (name: string): string => args.spelled.get(name) ?? `--${name}`;
  const p: NewPartnerAccessTokenParams = {};

  const moduleName = getString(args, "module");
  if (moduleName !== undefined) {
    const match = MODULES.find((m) => m.toLowerCase() === moduleName.toLowerCase());
    if (!match)
      throw new UsageError(`${flag("module")} takes ${MODULES.join(", ")}, not '${moduleName}'.`);
    p.module = match;
  }

  const applicationId =
    getString(args, "application-id") ?? (p.module ? undefined : env.AZURE_CLIENT_ID);
  if (applicationId) p.applicationId = applicationId;
  const scopes = getList(args, "scopes");
  if (scopes) p.scopes = scopes;
  const resource = getString(args, "resource");
  if (resource) p.resource = resource;
  const tenant = getString(args, "tenant") ?? env.AZURE_TENANT_ID;
  if (tenant) p.tenant = tenant;

  // Where to sign in: a named cloud, a custom host, or any OIDC issuer.
  const environment = getString(args, "environment");
  const authority = getString(args, "authority");
  const authorityHost =
    getString(args, "authority-host") ??
    (environment === undefined && authority === undefined ? env.AZURE_AUTHORITY_HOST : undefined);
  if (environment) p.environment = environment;
  if (authority) p.authority = authority;
  if (authorityHost) p.authorityHost = authorityHost;
  const partnerCenter = getString(args, "partner-center-endpoint");
  if (partnerCenter) p.partnerCenterEndpoint = partnerCenter;
  const caFile = getString(args, "ca-file") ?? env.PARTNER_TOKEN_CA_FILE;
  if (caFile) p.caFile = caFile;

  if (getBoolean(args, "service-principal")) p.servicePrincipal = true;
  if (getBoolean(args, "use-authorization-code")) p.useAuthorizationCode = true;
  if (getBoolean(args, "use-device-authentication")) p.useDeviceAuthentication = true;

  const thumbprint = getString(args, "certificate-thumbprint");
  if (thumbprint) p.certificateThumbprint = thumbprint;
  let certificatePath = getString(args, "certificate-path");

  // -Credential: the user name is an application id, the password the client secret.
  const credential = getSource(args, "credential");
  const credentialUser = getString(args, "credential-user") ?? applicationId;
  const secretFor = async (source: string | undefined): Promise<void> => {
    if (!credentialUser)
      throw new UsageError(
        `${flag("credential")} needs the application id it belongs to: --application-id, --credential-user or AZURE_CLIENT_ID.`,
      );
    const password = await readSecret(source, {
      flag: flag("credential"),
      what: "client secret",
      defaultEnv: "AZURE_CLIENT_SECRET",
    });
    p.credential = { userName: credentialUser, password };
  };
  if (credential) await secretFor(credential.source);
  else if (p.servicePrincipal && !thumbprint && !certificatePath) {
    // The Azure SDK's EnvironmentCredential order: a secret, else a certificate.
    if (env.AZURE_CLIENT_SECRET) await secretFor(undefined);
    else if (env.AZURE_CLIENT_CERTIFICATE_PATH) certificatePath = env.AZURE_CLIENT_CERTIFICATE_PATH;
    else if (process.stdin.isTTY && process.stderr.isTTY) await secretFor(undefined);
  }

  if (certificatePath) {
    p.certificatePath = certificatePath;
    const password = getSource(args, "certificate-password");
    const isPfx = /\.(pfx|p12)$/i.test(certificatePath);
    if (password || (isPfx && env.AZURE_CLIENT_CERTIFICATE_PASSWORD))
      p.certificatePassword = await readSecret(password?.source, {
        flag: flag("certificate-password"),
        what: "certificate password",
        defaultEnv: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
      });
  } else if (getSource(args, "certificate-password"))
    throw new UsageError(`${flag("certificate-password")} goes with --certificate-path.`);

  const refreshToken = getSource(args, "refresh-token");
  if (refreshToken)
    p.refreshToken = await readSecret(refreshToken.source, {
      flag: flag("refresh-token"),
      what: "refresh token",
    });
  const accessToken = getSource(args, "access-token");
  if (accessToken)
    p.accessToken = await readSecret(accessToken.source, {
      flag: flag("access-token"),
      what: "access token",
    });
  return p;
}
