/**
 * JWTs on the server side, with node:crypto only (the client uses jose; sharing a JWT library
 * with the code under test would let one bug pass both sides).
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  webcrypto,
  type KeyObject,
} from "node:crypto";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
  /** The private key for WebCrypto, whose RSA work runs on libuv's thread pool (see signJwtAsync). */
  cryptoKey: webcrypto.CryptoKey;
}

/** The emulator's token-signing key; `kid`/`x5t` derived from the key like Entra's opaque ids. */
export function signingKeyFrom(pem: string, certificatePem?: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  const kid = createHash("sha1").update(String(jwk["n"])).digest("base64url");
  const publicJwk: Record<string, unknown> = {
    kty: "RSA",
    use: "sig",
    kid,
    x5t: kid,
    n: jwk["n"],
    e: jwk["e"],
  };
  if (certificatePem) publicJwk["x5c"] = [certificatePem.replace(/-----[^-]+-----|\s/g, "")];
  const cryptoKey = privateKey.toCryptoKey({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return { kid, privateKey, publicKey, publicJwk, cryptoKey };
}

/** Signs claims as an RS256 JWT with `kid` (and `x5t`) in the header, as Entra does. */
export function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5t: key.kid, kid: key.kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

/**
 * {@link signJwt}, with the RSA operation on libuv's thread pool instead of the event loop, so a
 * busy token endpoint keeps serving while tokens are signed. The same bytes: RSASSA-PKCS1-v1_5 is
 * deterministic.
 */
export async function signJwtAsync(
  claims: Record<string, unknown>,
  key: SigningKey,
): Promise<string> {
  const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5t: key.kid, kid: key.kid }));
  const signingInput = `${header}.${b64url(JSON.stringify(claims))}`;
  const signature = await webcrypto.subtle.sign(
    "RSASSA-PKCS1-v1_5",
    key.cryptoKey,
    Buffer.from(signingInput),
  );
  return `${signingInput}.${Buffer.from(signature).toString("base64url")}`;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
}

/** Splits and parses a compact JWS; null when it is not one. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as unknown;
    if (
      typeof header !== "object" ||
      header === null ||
      typeof payload !== "object" ||
      payload === null
    )
      return null;
    return {
      header: header as Record<string, unknown>,
      payload: payload as Record<string, unknown>,
      signingInput: Buffer.from(`${parts[0]}.${parts[1]}`),
      signature: Buffer.from(parts[2]!, "base64url"),
    };
  } catch {
    return null;
  }
}

/** Verifies an RS256 or PS256 signature with a public key (certificate or key PEM, or KeyObject). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject | string): boolean {
  try {
    return verifySignature(jwt, key);
  } catch {
    // A signature of the wrong length or shape is simply not valid.
    return false;
  }
}

function verifySignature(jwt: DecodedJwt, key: KeyObject | string): boolean {
  const alg = jwt.header["alg"];
  const publicKey = typeof key === "string" ? createPublicKey(key) : key;
  if (alg === "RS256") return verify("sha256", jwt.signingInput, publicKey, jwt.signature);
  if (alg === "PS256")
    return verify(
      "sha256",
      jwt.signingInput,
      {
        key: publicKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      },
      jwt.signature,
    );
  return false;
}
