/**
 * What partner-token writes into Redis — cached access tokens and a Redis-kept refresh token — is
 * encrypted (AES-256-GCM, `src/session/seal.ts`) with a key the user provides: Redis is shared by
 * a fleet, often reachable by more than one team, and its memory may be persisted or replicated.
 * No key, no Redis: partner-token never writes a token there in clear.
 */
import { seal, unseal, KEY_BYTES, UnsealError } from "../session/seal.ts";
import { StoreError, StoreUriError } from "./errors.ts";

/** How to make a key, in every message that asks for one. */
export const MAKE_KEY_HINT =
  "Make one with `openssl rand -base64 32`, keep it as a secret (Key Vault, a CI secret, a file 0600), " +
  "and give the same key to every worker: --encryption-key env:NAME or @file, or PARTNER_TOKEN_ENCRYPTION_KEY.";

/**
 * Decodes a 32-byte key written in base64 (44 characters, `openssl rand -base64 32`) or hex
 * (64 characters, `openssl rand -hex 32`). Throws {@link StoreUriError} (exit 2) otherwise; the
 * message never repeats the value.
 *
 * @example
 * ```ts
 * const key = parseEncryptionKey(process.env.PARTNER_TOKEN_ENCRYPTION_KEY!);
 * ```
 */
export function parseEncryptionKey(text: string, where = "--encryption-key"): Buffer {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, "hex");
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value))
    key = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key?.length !== KEY_BYTES)
    throw new StoreUriError(
      "ERR_ENCRYPTION_KEY",
      `${where}: the key is not ${KEY_BYTES} bytes in base64 (44 characters) or hex (64 characters). ${MAKE_KEY_HINT}`,
    );
  return key;
}

/** The refusal when Redis is asked for without a key. */
export function missingEncryptionKey(what: string): StoreUriError {
  return new StoreUriError(
    "ERR_ENCRYPTION_KEY_REQUIRED",
    `${what} needs an encryption key: partner-token never writes a token to Redis in clear. ${MAKE_KEY_HINT}`,
  );
}

/**
 * Encrypts `plaintext` for the Redis key `redisKey` (bound as additional data: a value copied to
 * another key does not decrypt). Returns the JSON text that is stored.
 */
export function encryptForRedis(key: Buffer, redisKey: string, plaintext: string): string {
  return JSON.stringify(seal(key, Buffer.from(plaintext, "utf8"), `partner-token:${redisKey}`));
}

/** Decrypts what {@link encryptForRedis} stored; a {@link StoreError} names the key on failure. */
export function decryptFromRedis(
  key: Buffer,
  redisKey: string,
  stored: string,
  store: string,
): string {
  try {
    return unseal(key, JSON.parse(stored), `partner-token:${redisKey}`).toString("utf8");
  } catch (error) {
    const reason =
      error instanceof UnsealError ? error.message : "the value is not partner-token's JSON";
    throw new StoreError(
      "ERR_STORE_DECRYPT",
      store,
      `${store}: the value at Redis key '${redisKey}' cannot be read: ${reason}.`,
      {
        hint: "Every worker must use the same --encryption-key. Nothing was changed.",
        cause: error,
      },
    );
  }
}
