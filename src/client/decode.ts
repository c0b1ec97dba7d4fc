/**
 * Reading a token's header and claims without verifying it (what `partner-token decode` shows,
 * and what the AccessToken parameter set needs). Verification needs the issuer's keys; decoding
 * is for looking.
 */
import type { JWTPayload, ProtectedHeaderParameters } from "jose";
import { UsageError } from "./errors.ts";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * One part of a compact JWT as a JSON object. Looking needs no cryptography, so no jose here:
 * loading it would cost every command that only reads a token's claims tens of milliseconds.
 * Strict like jose's decoders: base64url characters only, and a JSON object.
 */
function decodePart(part: string | undefined): Record<string, unknown> {
  if (part === undefined || !BASE64URL.test(part)) throw new TypeError("not base64url");
  const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TypeError("not a JSON object");
  return value as Record<string, unknown>;
}

/** The parts of a compact JWS: exactly three. */
function compactParts(token: string): string[] {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TypeError("not three parts");
  return parts;
}

/** A decoded (not verified) JWT. */
export interface DecodedToken {
  header: ProtectedHeaderParameters;
  claims: JWTPayload & Record<string, unknown>;
  /** `exp` as ISO 8601 UTC, or null when the token has no `exp`. */
  expiresOn: string | null;
  /** Whether `exp` has passed at `now`. */
  expired: boolean;
}

/**
 * Decodes a JWT access token (or id token) without verifying its signature.
 *
 * @example
 * ```ts
 * const { claims, expiresOn } = decodeAccessToken(result.accessToken);
 * console.log(claims.aud, claims.scp, expiresOn);
 * ```
 * @throws {UsageError} `ERR_INVALID_TOKEN` when the value is not a JWT (e.g. an encrypted or opaque token).
 */
export function decodeAccessToken(token: string, now: Date = new Date()): DecodedToken {
  const value = token.trim().replace(/^Bearer\s+/i, "");
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    const parts = compactParts(value);
    header = decodePart(parts[0]);
    claims = decodePart(parts[1]);
  } catch (cause) {
    throw new UsageError(
      "ERR_INVALID_TOKEN",
      "The token is not a JWT (three base64url parts with a JSON header and claims); it cannot be decoded.",
      {
        cause,
      },
    );
  }
  const exp = typeof claims.exp === "number" ? claims.exp : undefined;
  return {
    header,
    claims: claims as DecodedToken["claims"],
    expiresOn: exp === undefined ? null : new Date(exp * 1000).toISOString(),
    expired: exp !== undefined && exp * 1000 <= now.getTime(),
  };
}

/** Decodes a JWT's claims, or returns undefined for an opaque token. */
export function tryDecodeClaims(token: string): Record<string, unknown> | undefined {
  try {
    return decodePart(compactParts(token)[1]);
  } catch {
    return undefined;
  }
}
