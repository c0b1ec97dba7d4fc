/**
 * Authenticated encryption of what partner-token keeps at rest: AES-256-GCM with a random 96-bit
 * nonce per message. The envelope names its algorithm and version so a later format can be read
 * next to this one; `aad` binds a ciphertext to where it belongs (a profile, a Redis key), so a
 * value copied elsewhere does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const ALGORITHM = "A256GCM";
export const KEY_BYTES = 32;

/** A sealed value as stored: `{ v: 1, alg: "A256GCM", iv, tag, data }`, base64url fields. */
export interface SealedEnvelope {
  v: 1;
  alg: typeof ALGORITHM;
  iv: string;
  tag: string;
  data: string;
}

/** Thrown when a value does not decrypt: wrong key, tampered or truncated data, another place. */
export class UnsealError extends Error {
  override readonly name = "UnsealError";
}

/**
 * Encrypts `plaintext` with a 32-byte key.
 *
 * @example
 * ```ts
 * const envelope = seal(key, Buffer.from("secret"), "profile:default");
 * unseal(key, envelope, "profile:default").toString(); // "secret"
 * ```
 */
export function seal(key: Buffer, plaintext: Buffer, aad = ""): SealedEnvelope {
  if (key.length !== KEY_BYTES) throw new Error(`an encryption key has ${KEY_BYTES} bytes`);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    v: 1,
    alg: ALGORITHM,
    iv: iv.toString("base64url"),
    tag: cipher.getAuthTag().toString("base64url"),
    data: data.toString("base64url"),
  };
}

/** Decrypts an envelope made by {@link seal}; throws {@link UnsealError} when it does not verify. */
export function unseal(key: Buffer, envelope: unknown, aad = ""): Buffer {
  const e = envelope as Partial<SealedEnvelope> | null;
  if (
    typeof e !== "object" ||
    e === null ||
    e.v !== 1 ||
    e.alg !== ALGORITHM ||
    typeof e.iv !== "string" ||
    typeof e.tag !== "string" ||
    typeof e.data !== "string"
  )
    throw new UnsealError("not an encrypted partner-token value (unknown format or version)");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(e.iv, "base64url"));
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(Buffer.from(e.tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(e.data, "base64url")), decipher.final()]);
  } catch {
    throw new UnsealError("the value does not decrypt with this key (another key, or altered)");
  }
}
