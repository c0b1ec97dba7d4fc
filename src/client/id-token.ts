/**
 * Validating an id token when the server returns one: signature against the issuer's JWKS,
 * `iss` (tenant-specific for `organizations`/`common`), `aud` = client id, `exp`, and `nonce`.
 * oauth4webapi has already checked the claims; the signature check is ours, with jose.
 */
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify, type JWTPayload } from "jose";
import type { Authority } from "./authority.ts";
import { CLOCK_HINT } from "./error-hints.ts";
import { PartnerTokenError } from "./errors.ts";
import type { Http } from "./http.ts";

/** Entra's default clock skew allowance, as MSAL's. */
const CLOCK_TOLERANCE_SECONDS = 300;

interface JwksEntry {
  jwks: ReturnType<typeof createRemoteJWKSet>;
  http: Http;
}

// One JWKS per issuer key set and trust anchor, reused across calls: a loop over thousands of
// customers must not fetch the keys each time. jose refetches when an unknown `kid` appears.
const jwksCache = new Map<string, JwksEntry>();

function jwksFor(uri: string | undefined, authority: Authority, http: Http): JwksEntry["jwks"] {
  if (!uri)
    throw new PartnerTokenError(
      "ERR_INVALID_RESPONSE",
      `The issuer ${authority.as.issuer} publishes no jwks_uri; the id token cannot be verified.`,
    );
  const key = `${uri}\n${authority.environment.caFile ?? ""}`;
  let entry = jwksCache.get(key);
  if (!entry) {
    const created: JwksEntry = {
      http,
      jwks: createRemoteJWKSet(new URL(uri), {
        [customFetch]: (url, init) => created.http.fetch(url, init as RequestInit),
      }),
    };
    entry = created;
    jwksCache.set(key, entry);
  }
  // Requests go out through the current operation's HTTP layer (its CA, debug log, signal).
  entry.http = http;
  return entry.jwks;
}

/**
 * Verifies an id token and returns its claims.
 *
 * @throws {PartnerTokenError} `ERR_ID_TOKEN_INVALID` naming the check that failed.
 */
export async function verifyIdToken(
  idToken: string,
  input: { authority: Authority; clientId: string; http: Http; nonce?: string },
): Promise<JWTPayload> {
  const { authority, clientId, http, nonce } = input;
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(idToken);
  } catch (cause) {
    throw new PartnerTokenError("ERR_ID_TOKEN_INVALID", "The id token is not a JWT.", { cause });
  }
  const issuer = authority.expectedIssuer(unverified);
  let claims: JWTPayload;
  try {
    const verify = async (uri: string | undefined) =>
      (
        await jwtVerify(idToken, jwksFor(uri, authority, http), {
          issuer,
          audience: clientId,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ["exp", "iat", "sub"],
        })
      ).payload;
    // Entra signs every tenant's tokens with its cloud's common keys: one key set for a loop over
    // thousands of customer tenants, instead of one fetch per tenant. A tenant with keys of its
    // own still verifies, through its own key set.
    const common = authority.entra
      ? `${new URL(authority.environment.authorityHost).origin}/common/discovery/v2.0/keys`
      : undefined;
    try {
      claims = await verify(common ?? authority.as.jwks_uri);
    } catch (error) {
      if (common === undefined || (error as { code?: unknown }).code !== "ERR_JWKS_NO_MATCHING_KEY")
        throw error;
      claims = await verify(authority.as.jwks_uri);
    }
  } catch (cause) {
    if (cause instanceof PartnerTokenError) throw cause;
    // jose names the claim: a time claim refused means the clocks differ, not a wrong issuer.
    const claim = (cause as { claim?: unknown }).claim;
    const clock = claim === "nbf" || claim === "iat" || claim === "exp";
    throw new PartnerTokenError(
      "ERR_ID_TOKEN_INVALID",
      `The id token failed validation: ${(cause as Error).message} (expected issuer ${issuer}, audience ${clientId}).`,
      {
        cause,
        hint: clock
          ? CLOCK_HINT
          : "The token did not come from the expected issuer, or this machine's clock is off. Check the environment and tenant.",
      },
    );
  }
  if (nonce !== undefined && claims.nonce !== nonce) {
    throw new PartnerTokenError(
      "ERR_ID_TOKEN_INVALID",
      "The id token failed validation: its nonce is not the one sent with the sign-in request.",
    );
  }
  return claims;
}
