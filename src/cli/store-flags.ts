/**
 * The flags of refresh-token stores and the fleet cache, and what they open:
 *
 * - `--refresh-token-store URI` (on `new`, `connect`, `token`): where the refresh token lives;
 * - `--cache redis://…` (env `PARTNER_TOKEN_CACHE`): the access-token cache and renewal lock of a
 *   fleet, in Redis;
 * - `--encryption-key SOURCE` (env `PARTNER_TOKEN_ENCRYPTION_KEY`): the key of what goes to Redis.
 *
 * With `token --refresh-token-store URI --application-id A …` no session is needed at all: the
 * token is redeemed straight from the store ({@link openStoreTokenSource}).
 */
import { createHash } from "node:crypto";
import type { ClientOptions } from "../client/types.ts";
import type { RefreshTokenStore, TokenCache, TokenSource } from "../session/types.ts";
import { getBoolean, getSource, getString, type FlagSpec, type ParsedArgs } from "./args.ts";
import { progress, say } from "./redact.ts";
import { readSecret } from "./secret-source.ts";
import { UsageError } from "./usage-error.ts";

export const refreshTokenStoreFlag: FlagSpec = {
  name: "refresh-token-store",
  kind: "string",
  valueName: "uri",
  help: "where the refresh token lives: file:PATH, keyring:NAME, keyvault:https://V.vault.azure.net/secrets/N, redis://H:P[/DB]#KEY",
};

/** `--cache` and `--encryption-key`: for every command that uses a session. */
export const cacheFlags: FlagSpec[] = [
  {
    name: "cache",
    kind: "string",
    valueName: "redis://host:port[/db]",
    help: "share the access-token cache and renewal lock of a fleet in Redis [env PARTNER_TOKEN_CACHE]",
  },
  {
    name: "encryption-key",
    kind: "source",
    help: "the key (32 bytes, base64 or hex) that encrypts what goes to Redis, from a source [env PARTNER_TOKEN_ENCRYPTION_KEY]",
  },
];

/** What `token` needs to redeem a store's refresh token without a session. */
export const storeSourceFlags: FlagSpec[] = [
  refreshTokenStoreFlag,
  {
    name: "application-id",
    aliases: ["client-id", "ApplicationId", "ClientId"],
    kind: "string",
    valueName: "id",
    help: "with --refresh-token-store: the application the refresh token was issued to [env AZURE_CLIENT_ID]",
  },
  {
    name: "credential",
    aliases: ["client-secret"],
    kind: "source",
    help: "with --refresh-token-store: the client secret, from a source [default env AZURE_CLIENT_SECRET]",
  },
  {
    name: "certificate-path",
    aliases: ["certificate-file"],
    kind: "string",
    valueName: "file",
    help: "with --refresh-token-store: the app's certificate, PEM with its key or PFX",
  },
  {
    name: "certificate-thumbprint",
    kind: "string",
    valueName: "sha1",
    help: "with --refresh-token-store: the app's certificate in the certificate folder",
  },
  {
    name: "certificate-password",
    kind: "source",
    help: "PFX password from a source [default env AZURE_CLIENT_CERTIFICATE_PASSWORD]",
  },
  {
    name: "environment",
    aliases: ["environment-name", "EnvironmentName"],
    kind: "string",
    valueName: "name",
    help: "with --refresh-token-store: the cloud (AzureCloud by default, …, Emulator)",
  },
  {
    name: "authority-host",
    kind: "string",
    valueName: "url",
    help: "with --refresh-token-store: a custom login host [env AZURE_AUTHORITY_HOST]",
  },
  {
    name: "ca-file",
    kind: "string",
    valueName: "pem",
    help: "extra certificate authority to trust [env PARTNER_TOKEN_CA_FILE]",
  },
  {
    name: "show-new-refresh-token",
    kind: "boolean",
    help: "if writing the rotated refresh token back fails, print it on stdout so it is not lost",
  },
];

/** The `--encryption-key` (or `PARTNER_TOKEN_ENCRYPTION_KEY`), read only when Redis needs it. */
export async function encryptionKeyOf(args: ParsedArgs): Promise<Buffer | undefined> {
  const source = getSource(args, "encryption-key");
  if (!source && !process.env.PARTNER_TOKEN_ENCRYPTION_KEY) return undefined;
  const { parseEncryptionKey } = await import("../stores/encryption.ts");
  const text = await readSecret(source?.source, {
    flag: "--encryption-key",
    what: "encryption key",
    defaultEnv: "PARTNER_TOKEN_ENCRYPTION_KEY",
  });
  return parseEncryptionKey(text, source ? "--encryption-key" : "PARTNER_TOKEN_ENCRYPTION_KEY");
}

/** The fleet cache `--cache` / `PARTNER_TOKEN_CACHE` names, opened; undefined for the local cache. */
export async function openCacheFromArgs(args: ParsedArgs): Promise<TokenCache | undefined> {
  const uri = getString(args, "cache") ?? (process.env.PARTNER_TOKEN_CACHE || undefined);
  if (uri === undefined) return undefined;
  const flag = getString(args, "cache") !== undefined ? "--cache" : "PARTNER_TOKEN_CACHE";
  if (!/^rediss?:\/\//i.test(uri))
    throw new UsageError(
      `${flag} takes redis://HOST:PORT[/DB] (or rediss://), not '${uri.replace(/\/\/[^@/]*@/, "//***@")}'.`,
    );
  const { openTokenCache } = await import("../stores/index.ts");
  const encryptionKey = await encryptionKeyOf(args);
  return openTokenCache(uri, { flag, ...(encryptionKey ? { encryptionKey } : {}) });
}

/** Opens the refresh-token store `uri` with the key and CA the flags give. */
export async function openStoreFromArgs(args: ParsedArgs, uri: string): Promise<RefreshTokenStore> {
  const { openRefreshTokenStore, parseStoreUri } = await import("../stores/index.ts");
  const location = parseStoreUri(uri);
  const encryptionKey = location.scheme === "redis" ? await encryptionKeyOf(args) : undefined;
  const caFile = getString(args, "ca-file") ?? process.env.PARTNER_TOKEN_CA_FILE;
  return openRefreshTokenStore(uri, {
    ...(encryptionKey ? { encryptionKey } : {}),
    ...(caFile ? { caFile } : {}),
  });
}

/**
 * `token --refresh-token-store URI --application-id A [--credential SRC | --certificate-*]`: a
 * TokenSource with no session. The refresh token is read from the store, redeemed, the rotated one
 * written back before the token is handed out, and the access token cached — in `--cache` when
 * given, else in a local encrypted cache of its own (a profile named after the store).
 */
export async function openStoreTokenSource(
  args: ParsedArgs,
  uri: string,
  clientOptions: ClientOptions = {},
): Promise<TokenSource & { close: () => Promise<void> }> {
  const env = process.env;
  const applicationId = getString(args, "application-id") ?? env.AZURE_CLIENT_ID;
  if (!applicationId)
    throw new UsageError(
      "--refresh-token-store without a session needs the application the refresh token belongs to: --application-id ID (or AZURE_CLIENT_ID).",
    );
  const credential = getSource(args, "credential");
  const certificatePath = getString(args, "certificate-path");
  const thumbprint = getString(args, "certificate-thumbprint");
  if (credential && (certificatePath || thumbprint))
    throw new UsageError("give either --credential or a certificate, not both.");
  const clientSecret = credential
    ? await readSecret(credential.source, {
        flag: "--credential",
        what: "client secret",
        defaultEnv: "AZURE_CLIENT_SECRET",
        ...(getString(args, "ca-file") ? { caFile: getString(args, "ca-file")! } : {}),
      })
    : undefined;
  const passwordSource = getSource(args, "certificate-password");
  const certificatePassword =
    passwordSource || (certificatePath && env.AZURE_CLIENT_CERTIFICATE_PASSWORD)
      ? await readSecret(passwordSource?.source, {
          flag: "--certificate-password",
          what: "certificate password",
          defaultEnv: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        })
      : undefined;

  const { resolveEnvironment } = await import("../client/environments.ts");
  const environmentName = getString(args, "environment");
  const authorityHost =
    getString(args, "authority-host") ??
    (environmentName === undefined ? env.AZURE_AUTHORITY_HOST : undefined);
  const caFile = getString(args, "ca-file") ?? env.PARTNER_TOKEN_CA_FILE;
  const resolved = resolveEnvironment({
    ...(environmentName ? { environment: environmentName } : {}),
    ...(authorityHost ? { authorityHost } : {}),
    ...(caFile ? { caFile } : {}),
  });
  const environment = {
    name: resolved.name,
    authorityHost: resolved.authorityHost,
    partnerCenterEndpoint: resolved.partnerCenterEndpoint,
    caFile: resolved.caFile,
  };

  const store = await openStoreFromArgs(args, uri);
  const closers: Array<() => Promise<void>> = [async () => store.close?.()];
  try {
    const fleet = await openCacheFromArgs(args);
    if (fleet) closers.push(async () => fleet.close?.());
    const profile = getString(args, "profile") ?? storeProfile(store.description);
    const cache = fleet ?? (await localCache(args, profile, applicationId, environment, uri));
    const { TokenBroker, partnerCenterResource } = await import("../session/broker.ts");
    const broker = new TokenBroker({
      kind: "user",
      app: {
        clientId: applicationId,
        ...(clientSecret ? { clientSecret } : {}),
        ...(certificatePath || thumbprint
          ? {
              certificate: {
                ...(certificatePath ? { path: certificatePath } : {}),
                ...(thumbprint ? { thumbprint } : {}),
                ...(certificatePassword ? { password: certificatePassword } : {}),
              },
            }
          : {}),
        environment,
        tenant: env.AZURE_TENANT_ID ?? "organizations",
      },
      // Whose tokens: the store's, so two stores (two accounts) never share a cache entry.
      accountId: `store:${createHash("sha256").update(store.description).digest("hex").slice(0, 16)}`,
      refreshTokens: store,
      cache,
      defaultScopes: [`${partnerCenterResource(environment)}/user_impersonation`],
      clientOptions: { log: (line) => progress(line), ...clientOptions },
      warn: say,
      label: store.description,
    });
    const show = getBoolean(args, "show-new-refresh-token");
    return {
      async getToken(request) {
        try {
          return await broker.getToken(request);
        } catch (error) {
          const lost = (error as { refreshToken?: unknown }).refreshToken;
          if (show && typeof lost === "string") {
            // Asked for: the only copy of the new token must not vanish with the failed write.
            process.stdout.write(JSON.stringify({ refreshToken: lost }) + "\n");
          }
          throw error;
        }
      },
      close: async () => {
        for (const close of closers) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}

/** The local profile that caches a store's access tokens: `store-` and a digest of the store. */
function storeProfile(description: string): string {
  return `store-${createHash("sha256").update(description).digest("hex").slice(0, 12)}`;
}

async function localCache(
  args: ParsedArgs,
  profile: string,
  clientId: string,
  environment: {
    name: string;
    authorityHost: string;
    partnerCenterEndpoint: string;
    caFile: string | null;
  },
  uri: string,
): Promise<TokenCache> {
  const [
    { ProfileFile, SCHEMA_VERSION },
    { FileTokenCache },
    { defaultCacheDir },
    { profileName },
  ] = await Promise.all([
    import("../session/profile-file.ts"),
    import("../session/file-cache.ts"),
    import("../session/paths.ts"),
    import("../session/session.ts"),
  ]);
  const file = new ProfileFile(
    getString(args, "cache-dir") ?? defaultCacheDir(),
    profileName(profile),
    { warn: say },
  );
  return new FileTokenCache(file, () => ({
    schema: SCHEMA_VERSION,
    profile: file.profile,
    kind: "user",
    clientId,
    tenant: process.env.AZURE_TENANT_ID ?? "organizations",
    tenantId: null,
    environment,
    account: null,
    scopes: [],
    refreshTokenStore: uri,
    refreshTokenWindowDays: 90,
    connectedAt: Date.now(),
    tokens: {},
  }));
}
