/**
 * Reading a token's header and claims without verifying it (what `partner-token decode` shows,
 * and what the AccessToken parameter set needs). Verification needs the issuer's keys; decoding
 * is for looking.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from "jose";
import { UsageError } from "./errors.ts";

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
    header = decodeProtectedHeader(value);
    claims = decodeJwt(value);
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
    return decodeJwt(token) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
