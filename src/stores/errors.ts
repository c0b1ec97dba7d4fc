/**
 * The errors of the refresh-token stores and the Redis cache, and the one check every store makes
 * before it writes. A store error is loud (exit 1) and says which store, where, and what to do;
 * it never carries a token.
 */
import { PartnerTokenError, UsageError, type PartnerTokenErrorOptions } from "../client/errors.ts";

/**
 * A store or the Redis cache could not be read or written: unreachable, refused, not allowed,
 * or holding a value that does not decrypt. `exitCode` 1. `store` is the store's description
 * (never with a password).
 *
 * @example
 * ```ts
 * try {
 *   await store.write(token);
 * } catch (err) {
 *   if (err instanceof StoreError) console.error(`${err.message}\n${err.hint ?? ""}`);
 * }
 * ```
 */
export class StoreError extends PartnerTokenError {
  readonly store: string;
  constructor(
    code: string,
    store: string,
    message: string,
    options: PartnerTokenErrorOptions = {},
  ) {
    super(code, message, options);
    this.store = store;
  }
}

/**
 * A store URI, a cache URI or an encryption key that cannot be used as written. `exitCode` 2; the
 * message names the part that is wrong.
 */
export class StoreUriError extends UsageError {}

/** Opaque, but always printable and on one line: anything else is not worth overwriting with. */
const PLAUSIBLE_TOKEN = /^[\x21-\x7e]{16,16384}$/;

/**
 * Throws, before anything is written, when `token` is empty or malformed: a store is never
 * overwritten with a value that could not be a refresh token.
 */
export function assertStorableToken(token: unknown, store: string): asserts token is string {
  if (typeof token !== "string" || token === "")
    throw new StoreError(
      "ERR_STORE_EMPTY_VALUE",
      store,
      `Refusing to write an empty refresh token to ${store}; it was left as it was.`,
    );
  if (!PLAUSIBLE_TOKEN.test(token))
    throw new StoreError(
      "ERR_STORE_MALFORMED_VALUE",
      store,
      `Refusing to write a value that is not a printable single-line refresh token to ${store}; it was left as it was.`,
    );
}
