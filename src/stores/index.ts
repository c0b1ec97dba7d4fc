/**
 * Where a refresh token lives, named by a URI (`--refresh-token-store`), and the Redis cache of a
 * fleet (`--cache`). Each backend is its own module, loaded only when its scheme is used, so
 * commands that use none of them start as fast as before.
 *
 * | URI                                                    | backend                                      |
 * | ------------------------------------------------------ | -------------------------------------------- |
 * | `file:PATH`                                            | a file, mode 0600, replaced atomically        |
 * | `keyring:NAME`                                         | the OS keyring (service "partner-token")      |
 * | `keyvault:https://VAULT.vault.azure.net/secrets/NAME`  | an Azure Key Vault secret, a version a write  |
 * | `redis://[user:password@]HOST:PORT[/DB]#KEY`, `rediss:` | a Redis hash, encrypted                      |
 * | `redis+cluster://[u:p@]H:P[,H:P…]#KEY`                  | the same, in a Redis Cluster                 |
 * | `redis+sentinel://[u:p@]H:P[,H:P…]/MASTER[/DB]#KEY`     | the same, on the master Sentinels name       |
 */
import type { RefreshTokenStore, TokenCache } from "../session/types.ts";
import { missingEncryptionKey } from "./encryption.ts";
import { StoreUriError } from "./errors.ts";
import { parseRedisUri, redactUri, type RedisAddress } from "./redis-connection.ts";

export { StoreError, StoreUriError } from "./errors.ts";
export { parseEncryptionKey, MAKE_KEY_HINT } from "./encryption.ts";

/** A store URI, parsed and checked. */
export type StoreLocation =
  | { scheme: "file"; path: string }
  | { scheme: "keyring"; name: string }
  | { scheme: "keyvault"; vaultUrl: string; secretName: string }
  | { scheme: "redis"; address: RedisAddress };

export interface OpenStoreOptions {
  /** 32 bytes: required for a Redis store (see `parseEncryptionKey`). */
  encryptionKey?: Buffer;
  /** An extra CA for Key Vault (the emulator, a private endpoint). */
  caFile?: string;
  /** For messages: the flag the URI came from. */
  flag?: string;
}

const SPELLINGS =
  "file:PATH, keyring:NAME, keyvault:https://VAULT.vault.azure.net/secrets/NAME or redis://HOST:PORT[/DB]#KEY";

/**
 * Parses and checks a store URI without opening anything. Throws {@link StoreUriError} (exit 2)
 * naming the part that is wrong.
 *
 * @example
 * ```ts
 * parseStoreUri("keyvault:https://contoso-kv.vault.azure.net/secrets/partner-rt");
 * // { scheme: "keyvault", vaultUrl: "https://contoso-kv.vault.azure.net", secretName: "partner-rt" }
 * ```
 */
export function parseStoreUri(uri: string, flag = "--refresh-token-store"): StoreLocation {
  const colon = uri.indexOf(":");
  const scheme = colon > 0 ? uri.slice(0, colon).toLowerCase() : "";
  const rest = uri.slice(colon + 1);
  switch (scheme) {
    case "file":
      if (rest.trim() === "")
        throw new StoreUriError("ERR_STORE_URI", `${flag}: file: needs a path (file:PATH).`);
      return { scheme: "file", path: rest.replace(/^\/\/(?=\/)/, "") };
    case "keyring":
      if (!/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(rest))
        throw new StoreUriError(
          "ERR_STORE_URI",
          `${flag}: keyring: needs a name of printable characters (keyring:NAME), not '${rest}'.`,
        );
      return { scheme: "keyring", name: rest };
    case "keyvault":
      return parseKeyVault(rest, flag);
    case "redis":
    case "rediss":
    case "redis+cluster":
    case "rediss+cluster":
    case "redis+sentinel":
    case "rediss+sentinel": {
      const address = parseRedisUri(uri, flag);
      if (address.key === undefined || address.key === "")
        throw new StoreUriError(
          "ERR_STORE_URI",
          `${flag}: ${redactUri(uri)} names no key: add #KEY (redis://HOST:PORT/0#partner-refresh-token).`,
        );
      return { scheme: "redis", address };
    }
    default:
      throw new StoreUriError(
        "ERR_STORE_URI",
        `${flag}: unknown store '${scheme || redactUri(uri)}'; write ${SPELLINGS}.`,
      );
  }
}

function parseKeyVault(rest: string, flag: string): StoreLocation {
  let url: URL;
  try {
    url = new URL(rest);
  } catch {
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: keyvault: needs the secret's URL (keyvault:https://VAULT.vault.azure.net/secrets/NAME), not '${rest}'.`,
    );
  }
  if (url.protocol !== "https:")
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: the Key Vault URL must be https://, not ${url.protocol}//.`,
    );
  if (url.search || url.hash || url.username || url.password)
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: the Key Vault URL takes no query, fragment or credentials.`,
    );
  const match = /^(.*)\/secrets\/([^/]*)(?:\/([^/]*))?\/?$/.exec(url.pathname);
  const certificate = /^(.*)\/certificates\/([^/]+)(?:\/[^/]*)?\/?$/.exec(url.pathname);
  if (!match && certificate)
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: name the secret, not the certificate: keyvault:${url.origin}${certificate[1]}/secrets/${certificate[2]}. Key Vault serves a certificate with its private key (a PFX, or PEM) as the secret of the same name.`,
    );
  if (!match)
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: the Key Vault URL's path must be /secrets/NAME, not '${url.pathname}'.`,
    );
  const [, prefix, secretName, version] = match;
  if (!/^[0-9A-Za-z-]{1,127}$/.test(secretName!))
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: the secret name '${secretName}' is not valid in Key Vault (1–127 letters, digits and '-').`,
    );
  if (version)
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: name the secret without a version ('/secrets/${secretName}'): every write makes a new version.`,
    );
  return { scheme: "keyvault", vaultUrl: `${url.origin}${prefix}`, secretName: secretName! };
}

/**
 * Opens the store a URI names. The backend module is loaded here, on first use.
 *
 * @example
 * ```ts
 * const store = await openRefreshTokenStore("keyring:contoso-automation");
 * const current = await store.read();
 * ```
 */
export async function openRefreshTokenStore(
  uri: string,
  options: OpenStoreOptions = {},
): Promise<RefreshTokenStore> {
  const location = parseStoreUri(uri, options.flag);
  switch (location.scheme) {
    case "file":
      return (await import("./file-store.ts")).openFileStore(location.path);
    case "keyring":
      return (await import("./keyring-store.ts")).openKeyringStore(location.name);
    case "keyvault":
      return (await import("./keyvault-store.ts")).openKeyVaultStore(
        location.vaultUrl,
        location.secretName,
        options.caFile ? { caFile: options.caFile } : {},
      );
    case "redis":
      if (!options.encryptionKey)
        throw missingEncryptionKey(`${options.flag ?? "--refresh-token-store"} redis:`);
      return (await import("./redis-store.ts")).openRedisStore(
        location.address,
        options.encryptionKey,
      );
  }
}

export interface OpenCacheOptions {
  encryptionKey?: Buffer;
  /** A dead holder's lock frees itself after this long (default 10 s). */
  lockTtlMs?: number;
  flag?: string;
}

/** Whether `uri` names a Redis cache: `redis://`, `rediss://`, or their `+cluster` and `+sentinel` forms. */
export function isRedisCacheUri(uri: string): boolean {
  return /^rediss?(\+(cluster|sentinel))?:\/\//i.test(uri);
}

/**
 * Opens the fleet cache `redis://HOST:PORT[/DB]` (`--cache`, `PARTNER_TOKEN_CACHE`), or
 * `redis+cluster://HOST:PORT[,HOST:PORT…]`, `redis+sentinel://HOST:PORT[,…]/MASTER[/DB]`.
 *
 * @example
 * ```ts
 * const cache = await openTokenCache("redis://10.0.0.5:6379/0", { encryptionKey });
 * ```
 */
export async function openTokenCache(
  uri: string,
  options: OpenCacheOptions = {},
): Promise<TokenCache> {
  const flag = options.flag ?? "--cache";
  const address = parseRedisUri(uri, flag);
  if (address.key !== undefined)
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${flag}: a cache URI takes no #KEY (that is for a refresh-token store): redis://HOST:PORT[/DB], redis+cluster://HOST:PORT[,HOST:PORT…] or redis+sentinel://HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB].`,
    );
  if (!options.encryptionKey) throw missingEncryptionKey(`${flag} ${address.description}`);
  const { RedisTokenCache } = await import("./redis-cache.ts");
  return RedisTokenCache.open(address, {
    encryptionKey: options.encryptionKey,
    ...(options.lockTtlMs ? { lockTtlMs: options.lockTtlMs } : {}),
  });
}
