/**
 * The flags of refresh-token stores and the fleet cache, and what they open:
 *
 * - `--refresh-token-store URI` (on `new`, `connect`, `token`): where the refresh token lives;
 * - `--cache redis://…` (env `PARTNER_TOKEN_CACHE`): the access-token cache and renewal lock of a
 *   fleet, in Redis;
 * - `--encryption-key SOURCE` (env `PARTNER_TOKEN_ENCRYPTION_KEY`): the key of what goes to Redis.
 *
 * With `token --refresh-token-store URI --application-id A …` no session is needed at all: the
 * token is redeemed straight from the store by the library's `openStoreSession`
 * ({@link openStoreTokenSource}).
 */
import type { ClientOptions } from "../client/types.ts";
import type { SessionInfo } from "../session/session.ts";
import type { RefreshTokenStore, TokenCache, TokenSource } from "../session/types.ts";
import {
  getBoolean,
  getSetting,
  getSettingFrom,
  getSource,
  getString,
  type FlagSpec,
  type ParsedArgs,
} from "./args.ts";
import { progress, say } from "./redact.ts";
import {
  applicationIdFlag,
  authorityHostFlag,
  caFileFlag,
  certificatePasswordFlag,
  certificatePathFlag,
  certificateThumbprintFlag,
  credentialFlag,
  environmentFlag,
  secretOf,
  signInPlaceOf,
  signInTenantFlag,
  withHelp,
} from "./sign-in-flags.ts";
import {
  encryptionKeyFlag,
  encryptionKeyOf,
  openStoreFromArgs,
  storeReaderFromArgs,
} from "./store-open.ts";
import { usageError } from "./usage-error.ts";

export { encryptionKeyFlag, encryptionKeyOf, openStoreFromArgs, storeReaderFromArgs };

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
    env: "PARTNER_TOKEN_CACHE",
    help: "share the access-token cache and renewal lock of a fleet in Redis: redis://, rediss://, redis+cluster://, redis+sentinel:// [env PARTNER_TOKEN_CACHE]",
  },
  encryptionKeyFlag,
];

function withoutEnv(flag: FlagSpec): FlagSpec {
  const { env: _env, ...rest } = flag;
  return rest;
}

/** What `token` needs to redeem a store's refresh token without a session. */
export const storeSourceFlags: FlagSpec[] = [
  refreshTokenStoreFlag,
  withHelp(
    applicationIdFlag,
    "with --refresh-token-store: the application the refresh token was issued to [env AZURE_CLIENT_ID]",
  ),
  withHelp(
    credentialFlag,
    "with --refresh-token-store: the client secret, from a source (a store is read at each renewal); --credential alone reads AZURE_CLIENT_SECRET, which is not read otherwise (it may be the vault's identity)",
  ),
  // Not AZURE_CLIENT_CERTIFICATE_PATH here: a store's app uses a certificate only when asked to.
  withoutEnv(
    withHelp(
      certificatePathFlag,
      "with --refresh-token-store: the app's certificate, PEM with its key or PFX",
    ),
  ),
  withHelp(
    certificateThumbprintFlag,
    "with --refresh-token-store: the app's certificate in the certificate folder",
  ),
  certificatePasswordFlag,
  withHelp(
    environmentFlag,
    "with --refresh-token-store: the cloud (AzureCloud by default, …, Emulator)",
  ),
  withHelp(
    authorityHostFlag,
    "with --refresh-token-store: a custom login host [env AZURE_AUTHORITY_HOST]",
  ),
  caFileFlag,
  {
    name: "show-new-refresh-token",
    kind: "boolean",
    help: "if writing the rotated refresh token back fails, print it on stdout so it is not lost",
  },
];

/** The fleet cache `--cache` / `PARTNER_TOKEN_CACHE` names, opened; undefined for the local cache. */
export async function openCacheFromArgs(args: ParsedArgs): Promise<TokenCache | undefined> {
  const setting = getSettingFrom(args, "cache");
  if (setting === undefined) return undefined;
  const uri = setting.value;
  const flag = setting.from.startsWith("-") ? "--cache" : setting.from;
  if (!/^rediss?(\+(cluster|sentinel))?:\/\//i.test(uri))
    throw usageError(
      `${flag} takes redis://HOST:PORT[/DB], redis+cluster://HOST:PORT[,HOST:PORT…] or redis+sentinel://HOST:PORT[,…]/MASTER[/DB] (rediss… for TLS), not '${uri.replace(/\/\/[^@/]*@/, "//***@")}'.`,
    );
  const { openTokenCache } = await import("../stores/index.ts");
  const encryptionKey = await encryptionKeyOf(args);
  return openTokenCache(uri, { flag, ...(encryptionKey ? { encryptionKey } : {}) });
}

/** A token source the CLI opened: a session's `info`, and `close` for what it holds open. */
export type OpenedTokenSource = TokenSource & { info: SessionInfo; close(): Promise<void> };

/**
 * `token --refresh-token-store URI --application-id A [--credential SRC | --certificate-*]`: the
 * library's `openStoreSession` over the store the flags name, its access tokens cached in
 * `--cache` when given, else in a local encrypted cache of its own.
 */
export async function openStoreTokenSource(
  args: ParsedArgs,
  uri: string,
  clientOptions: ClientOptions = {},
): Promise<OpenedTokenSource> {
  const applicationId = getSetting(args, "application-id");
  if (!applicationId)
    throw usageError(
      "--refresh-token-store without a session needs the application the refresh token belongs to: --application-id ID (or AZURE_CLIENT_ID).",
    );
  const credential = getSource(args, "credential");
  const certificatePath = getString(args, "certificate-path");
  const thumbprint = getString(args, "certificate-thumbprint");
  if (credential && (certificatePath || thumbprint))
    throw usageError("give either --credential or a certificate, not both.");
  // A secret or certificate in a store is read at each renewal (serve and exec run for days), and
  // not at all when the cache answers.
  const { isCredentialStoreUri } = await import("../session/store-reader.ts");
  const secretStore = isCredentialStoreUri(credential?.source) ? credential.source : undefined;
  const readClientSecret = secretStore
    ? await storeReaderFromArgs(
        args,
        secretStore,
        args.spelled.get("credential") ?? "--credential",
        "client secret",
      )
    : undefined;
  const clientSecret = readClientSecret
    ? undefined
    : await secretOf(args, "credential", "client secret");
  const certificateStore = isCredentialStoreUri(certificatePath) ? certificatePath : undefined;
  const certificatePassword =
    getSource(args, "certificate-password") ||
    (certificatePath && process.env[certificatePasswordFlag.env!])
      ? await secretOf(args, "certificate-password", "certificate password", true)
      : undefined;
  const { authority: _ignored, ...place } = signInPlaceOf(args);

  const store = await openStoreFromArgs(args, uri);
  let cache: TokenCache | undefined;
  try {
    cache = await openCacheFromArgs(args);
  } catch (error) {
    await store.close?.().catch(() => undefined);
    throw error;
  }
  const { openStoreSession } = await import("../session/store-session.ts");
  const profile = getString(args, "profile");
  const cacheDir = getString(args, "cache-dir");
  const tenant = process.env[signInTenantFlag.env!];
  const session = await openStoreSession({
    store,
    applicationId,
    ...(clientSecret ? { clientSecret } : {}),
    ...(readClientSecret ? { readClientSecret } : {}),
    ...(certificatePath || thumbprint
      ? {
          certificate: {
            ...(certificateStore
              ? {
                  read: await storeReaderFromArgs(
                    args,
                    certificateStore,
                    args.spelled.get("certificate-path") ?? "--certificate-path",
                    "certificate",
                    "empty",
                  ),
                  description: certificateStore,
                }
              : certificatePath
                ? { path: certificatePath }
                : {}),
            ...(thumbprint ? { thumbprint } : {}),
            ...(certificatePassword ? { password: certificatePassword } : {}),
          },
        }
      : {}),
    ...place,
    ...(tenant ? { tenant } : {}),
    ...(cache ? { cache } : {}),
    ...(profile !== undefined ? { profile } : {}),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    clientOptions: { log: (line) => progress(line), ...clientOptions },
    warn: say,
    ...(getBoolean(args, "no-cae") ? { cae: false } : {}),
  });
  if (!getBoolean(args, "show-new-refresh-token")) return session;
  return {
    info: session.info,
    close: () => session.close(),
    async getToken(request) {
      try {
        return await session.getToken(request);
      } catch (error) {
        const lost = (error as { refreshToken?: unknown }).refreshToken;
        // Asked for: the only copy of the new token must not vanish with the failed write.
        if (typeof lost === "string")
          process.stdout.write(JSON.stringify({ refreshToken: lost }) + "\n");
        throw error;
      }
    },
  };
}
