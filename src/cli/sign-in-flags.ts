/**
 * The sign-in flags, declared once: the app (`--application-id`, `--credential`,
 * `--certificate-*`), where to sign in (`--environment`, `--authority-host`, `--ca-file`), and each
 * one's environment fallback (`env`, read through `getSetting`). `new` and `connect` take the
 * whole cmdlet's set ({@link signInFlags}, {@link toParams}); `token`, `exec`, `serve`,
 * `partner-center` and `customers` take the app's flags to redeem a store's refresh token
 * (`store-flags.ts`), with help texts of their own.
 */
import type { ClientOptions, NewPartnerAccessTokenParams } from "../client/types.ts";
import {
  getBoolean,
  getList,
  getSetting,
  getSource,
  getString,
  type FlagSpec,
  type ParsedArgs,
} from "./args.ts";
import { say } from "./redact.ts";
import { secretOf } from "./secret-source.ts";

export { secretOf };
import { usageError } from "./usage-error.ts";

/** The values of --module (completion offers them). */
export const MODULES = ["ExchangeOnline"] as const;

export const applicationIdFlag: FlagSpec = {
  name: "application-id",
  aliases: ["client-id", "ApplicationId", "ClientId"],
  kind: "string",
  valueName: "id",
  env: "AZURE_CLIENT_ID",
  help: "application (client) id [env AZURE_CLIENT_ID]",
};

export const scopesFlag: FlagSpec = {
  name: "scopes",
  aliases: ["scope"],
  kind: "list",
  valueName: "scope",
  help: "scopes to ask for: repeated, or several after the flag (spaces or commas)",
};

/** `--tenant`: where to sign in (`new`, `connect`; env AZURE_TENANT_ID), or a token request's tenant. */
export const tenantFlag: FlagSpec = {
  name: "tenant",
  aliases: ["tenant-id", "domain", "TenantId", "Domain"],
  kind: "string",
  valueName: "id|domain",
  help: "tenant id or domain (default organizations) [env AZURE_TENANT_ID]",
};
/** `--tenant` of a sign-in (`new`, `connect`): its variable is also a store session's default tenant. */
export const signInTenantFlag: FlagSpec = { ...tenantFlag, env: "AZURE_TENANT_ID" };

export const environmentFlag: FlagSpec = {
  name: "environment",
  aliases: ["environment-name", "EnvironmentName"],
  kind: "string",
  valueName: "name",
  help: "AzureCloud (default), AzureChinaCloud, AzureGermanCloud, AzurePPE, AzureUSGovernment, legacy names, Emulator",
};

export const credentialFlag: FlagSpec = {
  name: "credential",
  aliases: ["client-secret"],
  kind: "source",
  env: "AZURE_CLIENT_SECRET",
  help: "the client secret (the -Credential password) from a source [default env AZURE_CLIENT_SECRET]",
};

export const certificateThumbprintFlag: FlagSpec = {
  name: "certificate-thumbprint",
  kind: "string",
  valueName: "sha1",
  help: "SHA-1 thumbprint of a certificate in the certificate folder (on Linux, also .NET's store My of CurrentUser)",
};

export const certificatePathFlag: FlagSpec = {
  name: "certificate-path",
  aliases: ["certificate-file"],
  kind: "string",
  valueName: "file",
  env: "AZURE_CLIENT_CERTIFICATE_PATH",
  help: "certificate file, PEM with its key or PFX; or a store (keyvault:URL, keyring:NAME, file:PATH) holding a PFX's base64 or the PEM [env AZURE_CLIENT_CERTIFICATE_PATH]",
};

export const certificatePasswordFlag: FlagSpec = {
  name: "certificate-password",
  kind: "source",
  env: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  help: "PFX password from a source [default env AZURE_CLIENT_CERTIFICATE_PASSWORD]",
};

export const authorityHostFlag: FlagSpec = {
  name: "authority-host",
  kind: "string",
  valueName: "url",
  env: "AZURE_AUTHORITY_HOST",
  help: "a custom environment's login host, e.g. the emulator's URL [env AZURE_AUTHORITY_HOST]",
};

export const caFileFlag: FlagSpec = {
  name: "ca-file",
  kind: "string",
  valueName: "pem",
  env: "PARTNER_TOKEN_CA_FILE",
  help: "extra certificate authority to trust [env PARTNER_TOKEN_CA_FILE]",
};

/** The same flag with the help text of another command. */
export const withHelp = (flag: FlagSpec, help: string): FlagSpec => ({ ...flag, help });

/**
 * New-PartnerAccessToken's parameters, in the order `new --help` lists them; `store` holds the
 * flags of `store-flags.ts` that go between them (`--refresh-token-store`, `--encryption-key`).
 */
export function signInFlags(store: readonly FlagSpec[]): FlagSpec[] {
  return [
    applicationIdFlag,
    scopesFlag,
    {
      name: "resource",
      kind: "string",
      valueName: "uri",
      help: "module 1.5.x -Resource: asks for the scope <uri>/.default",
    },
    signInTenantFlag,
    environmentFlag,
    {
      name: "service-principal",
      kind: "boolean",
      help: "sign in as the application (client credentials), or with --use-authorization-code as App + User",
    },
    credentialFlag,
    {
      name: "credential-user",
      kind: "string",
      valueName: "id",
      help: "the -Credential user name (an application id); default --application-id",
    },
    certificateThumbprintFlag,
    certificatePathFlag,
    certificatePasswordFlag,
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
    ...store,
    {
      name: "access-token",
      kind: "source",
      help: "an access token from a source (decoded, no network call)",
    },
    authorityHostFlag,
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
    caFileFlag,
    {
      name: "no-browser",
      kind: "boolean",
      help: "print the sign-in URL instead of opening a browser",
    },
  ];
}

/** `--no-browser`: the sign-in address printed for a person to open, instead of a browser. */
export function signInOptionsOf(args: ParsedArgs): Pick<ClientOptions, "openBrowser"> {
  return getBoolean(args, "no-browser")
    ? {
        openBrowser: async (url: string) =>
          say(`Open this address in a browser to sign in:\n  ${url}`),
      }
    : {};
}

/** The flag as the user wrote it, for messages. */
const spelledFlag = (args: ParsedArgs, name: string): string =>
  args.spelled.get(name) ?? `--${name}`;

/**
 * Where to sign in: `--environment`, `--authority-host` (AZURE_AUTHORITY_HOST only when neither
 * `--environment` nor `--authority` is given) and `--ca-file` (or PARTNER_TOKEN_CA_FILE).
 */
export function signInPlaceOf(args: ParsedArgs): {
  environment?: string;
  authority?: string;
  authorityHost?: string;
  caFile?: string;
} {
  const environment = getString(args, "environment");
  const authority = getString(args, "authority");
  const authorityHost =
    environment === undefined && authority === undefined
      ? getSetting(args, "authority-host")
      : getString(args, "authority-host");
  const caFile = getSetting(args, "ca-file");
  return {
    ...(environment ? { environment } : {}),
    ...(authority ? { authority } : {}),
    ...(authorityHost ? { authorityHost } : {}),
    ...(caFile ? { caFile } : {}),
  };
}

/** Flags + environment → New-PartnerAccessToken's parameters, reading every secret from its source. */
export async function toParams(args: ParsedArgs): Promise<NewPartnerAccessTokenParams> {
  const env = process.env;
  const flag = (name: string): string => spelledFlag(args, name);
  const p: NewPartnerAccessTokenParams = {};

  const moduleName = getString(args, "module");
  if (moduleName !== undefined) {
    const match = MODULES.find((m) => m.toLowerCase() === moduleName.toLowerCase());
    if (!match)
      throw usageError(`${flag("module")} takes ${MODULES.join(", ")}, not '${moduleName}'.`);
    p.module = match;
  }

  const applicationId = p.module
    ? getString(args, "application-id")
    : getSetting(args, "application-id");
  if (applicationId) p.applicationId = applicationId;
  const scopes = getList(args, "scopes");
  if (scopes) p.scopes = scopes;
  const resource = getString(args, "resource");
  if (resource) p.resource = resource;
  const tenant = getSetting(args, "tenant");
  if (tenant) p.tenant = tenant;

  // Where to sign in: a named cloud, a custom host, or any OIDC issuer.
  Object.assign(p, signInPlaceOf(args));
  const partnerCenter = getString(args, "partner-center-endpoint");
  if (partnerCenter) p.partnerCenterEndpoint = partnerCenter;

  if (getBoolean(args, "service-principal")) p.servicePrincipal = true;
  if (getBoolean(args, "use-authorization-code")) p.useAuthorizationCode = true;
  if (getBoolean(args, "use-device-authentication")) p.useDeviceAuthentication = true;

  const thumbprint = getString(args, "certificate-thumbprint");
  if (thumbprint) p.certificateThumbprint = thumbprint;
  let certificatePath = getString(args, "certificate-path");

  // -Credential: the user name is an application id, the password the client secret.
  const credential = getSource(args, "credential");
  const credentialUser = getString(args, "credential-user") ?? applicationId;
  const secretFor = async (): Promise<void> => {
    if (!credentialUser)
      throw usageError(
        `${flag("credential")} needs the application id it belongs to: --application-id, --credential-user or AZURE_CLIENT_ID.`,
      );
    const password = (await secretOf(args, "credential", "client secret", true))!;
    p.credential = { userName: credentialUser, password };
  };
  if (credential) await secretFor();
  else if (p.servicePrincipal && !thumbprint && !certificatePath) {
    // The Azure SDK's EnvironmentCredential order: a secret, else a certificate.
    if (env[credentialFlag.env!]) await secretFor();
    else if (getSetting(args, "certificate-path"))
      certificatePath = getSetting(args, "certificate-path");
    else if (process.stdin.isTTY && process.stderr.isTTY) await secretFor();
  }

  if (certificatePath) {
    const { isCredentialStoreUri } = await import("../session/store-reader.ts");
    if (isCredentialStoreUri(certificatePath)) {
      // A store: read when the certificate is used (the library opens no store itself).
      const { storeReaderFromArgs } = await import("./store-open.ts");
      p.certificateReader = {
        read: await storeReaderFromArgs(
          args,
          certificatePath,
          flag("certificate-path"),
          "certificate",
          "empty",
        ),
        description: certificatePath,
      };
    } else p.certificatePath = certificatePath;
    const password = getSource(args, "certificate-password");
    const isPfx = /\.(pfx|p12)$/i.test(certificatePath);
    if (password || (isPfx && env[certificatePasswordFlag.env!]))
      p.certificatePassword = await secretOf(
        args,
        "certificate-password",
        "certificate password",
        true,
      );
  } else if (getSource(args, "certificate-password"))
    throw usageError(`${flag("certificate-password")} goes with --certificate-path.`);

  const refreshToken = await secretOf(args, "refresh-token", "refresh token");
  if (refreshToken !== undefined) p.refreshToken = refreshToken;
  const accessToken = await secretOf(args, "access-token", "access token");
  if (accessToken !== undefined) p.accessToken = accessToken;
  return p;
}
