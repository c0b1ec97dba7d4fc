/**
 * The signed client assertion of a certificate-authenticated app (RFC 7523, as Entra ID wants
 * it): header `x5t#S256` with PS256 (default) or `x5t` with RS256, `aud` = token endpoint,
 * `iss` = `sub` = client id, a unique `jti`, a lifetime of five minutes.
 */
import { createHash, randomUUID } from "node:crypto";
import type { LoadedCertificate } from "./certificates.ts";

export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const LIFETIME_SECONDS = 5 * 60;

/**
 * Signs a client assertion for `audience` (the token endpoint).
 *
 * @example
 * ```ts
 * const jwt = await createClientAssertion({ clientId, audience: tokenEndpoint, certificate: await loadCertificate({ thumbprint }) });
 * ```
 */
export async function createClientAssertion(input: {
  clientId: string;
  audience: string;
  certificate: LoadedCertificate;
  algorithm?: "PS256" | "RS256";
  now?: number;
}): Promise<string> {
  const { certificate, clientId } = input;
  const keyType = certificate.privateKey.asymmetricKeyType;
  const algorithm = keyType === "ec" ? "ES256" : (input.algorithm ?? "PS256");
  const raw = certificate.certificate.raw;
  const header =
    algorithm === "RS256"
      ? {
          alg: algorithm,
          typ: "JWT",
          x5t: createHash("sha1").update(raw).digest("base64url"),
        }
      : {
          alg: algorithm,
          typ: "JWT",
          "x5t#S256": createHash("sha256").update(raw).digest("base64url"),
        };
  const now = input.now ?? Math.floor(Date.now() / 1000);
  // jose is loaded when a certificate is actually used, not by every command that imports this.
  const { SignJWT } = await import("jose");
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(input.audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + LIFETIME_SECONDS)
    .sign(certificate.privateKey);
}
