/**
 * A client secret or a certificate kept in a store (`keyvault:`, `keyring:`, `file:`), read at
 * each renewal rather than once: after `partner-token app rotate-secret` a session, a sidecar or a
 * fleet picks up the new secret on its next renewal, with no reconnect and no restart. The store
 * is opened by the caller's `open` (the CLI's, with its CA and keys); session/ opens none itself.
 */
import { PartnerTokenError } from "../client/errors.ts";
import type { RefreshTokenStore } from "./types.ts";

/**
 * The stores a secret or a certificate may be kept in, as `--refresh-token-store` names them:
 * `file:`, `keyring:`, `keyvault:` and Redis (`redis://`, `rediss://`, `redis+cluster://`,
 * `redis+sentinel://`, with the encryption key).
 */
export const CREDENTIAL_STORE_URI =
  /^(?:(?:file|keyring|keyvault):|rediss?(?:\+(?:cluster|sentinel))?:\/\/)/i;

/** Whether `value` names a store rather than a file or a secret source. */
export function isCredentialStoreUri(value: string | undefined): value is string {
  return value !== undefined && CREDENTIAL_STORE_URI.test(value);
}

/**
 * A reader of the value `uri` holds: each call opens the store, reads, and closes it. A store that
 * cannot be opened or read is an error naming it (exit 1) — never one that asks for a new
 * sign-in, since the session's refresh token is not what failed. An empty store reads as `""`
 * when `emptyIs` is "empty" (a certificate's loader says what is missing), else is an error.
 *
 * @example
 * ```ts
 * const readSecret = storeValueReader(uri, (u) => openRefreshTokenStore(u), "client secret");
 * const secret = await readSecret(); // read again at each renewal
 * ```
 */
export function storeValueReader(
  uri: string,
  open: (uri: string) => Promise<RefreshTokenStore>,
  what: string,
  emptyIs: "error" | "empty" = "error",
): () => Promise<string> {
  return async () => {
    let store: RefreshTokenStore;
    try {
      store = await open(uri);
    } catch (cause) {
      throw unreadable(uri, what, cause);
    }
    let value: string | undefined;
    try {
      value = (await store.read())?.token;
    } catch (cause) {
      throw unreadable(store.description, what, cause);
    } finally {
      await store.close?.().catch(() => undefined);
    }
    if (value) return value;
    if (emptyIs === "empty") return "";
    throw new PartnerTokenError("ERR_STORE_EMPTY_VALUE", `${store.description} holds no ${what}.`, {
      hint: `Write the ${what} there (partner-token app rotate-secret --secret-store ${store.description} does), or give another source.`,
    });
  };
}

function unreadable(where: string, what: string, cause: unknown): PartnerTokenError {
  const storeHint = (cause as { hint?: unknown } | null)?.hint;
  return new PartnerTokenError(
    "ERR_STORE_UNAVAILABLE",
    `The ${what} could not be read from ${where}: ${(cause as Error)?.message ?? String(cause)}`,
    {
      cause,
      hint: [
        typeof storeHint === "string" ? storeHint : undefined,
        "The session itself is fine: fix the store (or its access) and run the command again.",
      ]
        .filter(Boolean)
        .join("\n"),
    },
  );
}
