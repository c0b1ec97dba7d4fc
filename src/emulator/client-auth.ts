/**
 * Client authentication at the token endpoint: none (public client), a secret in the body or in
 * an HTTP Basic header, or a client assertion (private_key_jwt) signed RS256 or PS256 with the
 * certificate named by `x5t` (SHA-1) or `x5t#S256`, within the clock tolerance.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { Application, Tenant } from "./directory.ts";
import { errors } from "./errors.ts";
import type { Ctx } from "./http.ts";
import { decodeJwt, verifyJwtSignature } from "./jwt.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface ClientAuthContext {
  findApp(clientId: string): Application | undefined;
  tenant: Tenant | null;
  tenantKey: string;
  nowSeconds: number;
  clockSkewSeconds: number;
  /** Token endpoint URLs this request may name as `aud`. */
  audiences: string[];
}

export interface AuthenticatedClient {
  app: Application;
  /** appidacr: 0 none, 1 secret, 2 certificate. */
  method: "0" | "1" | "2";
}

function basicCredentials(ctx: Ctx): { id: string; secret: string } | undefined {
  const header = ctx.req.headers.authorization;
  if (!header?.toLowerCase().startsWith("basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      throw errors.invalidRequest(
        "The client credentials in the Authorization header are not validly form-encoded.",
        900144,
      );
    }
  };
  return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
}

export function authenticateClient(ctx: Ctx, c: ClientAuthContext): AuthenticatedClient {
  const basic = basicCredentials(ctx);
  const clientId = ctx.body["client_id"] ?? basic?.id;
  if (!clientId) throw errors.missingParameter("client_id");
  const app = c.findApp(clientId);
  const tenantName = c.tenant?.id ?? c.tenantKey;
  if (!app) throw errors.appNotFound(clientId, tenantName);
  ctx.note["client_id"] = app.clientId;

  const secret = ctx.body["client_secret"] ?? basic?.secret;
  const assertion = ctx.body["client_assertion"];
  if (secret === undefined && assertion === undefined) {
    if (!app.publicClient) throw errors.clientCredentialRequired();
    return { app, method: "0" };
  }
  if (app.publicClient) throw errors.publicClientWithSecret();

  if (secret !== undefined) {
    const match = app.secrets.find((s) => s.value === secret);
    if (!match) throw errors.invalidClientSecret(app.clientId);
    if (match.expiresOn && Date.parse(match.expiresOn) / 1000 < c.nowSeconds)
      throw errors.expiredClientSecret(app.clientId);
    return { app, method: "1" };
  }

  if (ctx.body["client_assertion_type"] !== JWT_BEARER)
    throw errors.invalidRequest(
      `The value of the input parameter 'client_assertion_type' must be '${JWT_BEARER}'.`,
      50027,
    );
  const jwt = decodeJwt(assertion!);
  if (!jwt)
    throw errors.assertionInvalid(
      "Client assertion failed signature validation: the assertion is not a JWT.",
      50027,
    );
  checkAssertionTypes(jwt.header, jwt.payload);
  const alg = jwt.header["alg"];
  if (alg !== "RS256" && alg !== "PS256")
    throw errors.assertionInvalid(
      `Client assertion uses the unsupported algorithm '${String(alg)}'; use RS256 or PS256.`,
      5002738,
    );
  const certificate = assertionCertificate(app, jwt.header);
  if ("missing" in certificate)
    throw errors.assertionInvalid(
      "Client assertion header must contain the certificate thumbprint in 'x5t' or 'x5t#S256', or the certificate in 'x5c'.",
      5002723,
    );
  if ("unknown" in certificate)
    throw errors.assertionKeyNotFound(app.clientId, certificate.unknown);
  const shown = certificate.thumbprint;
  if (!verifyJwtSignature(jwt, new X509Certificate(certificate.pem).publicKey))
    throw errors.assertionInvalid(
      `Client assertion failed signature validation. [Reason - The key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '${shown}']`,
      7000274,
    );
  const p = jwt.payload;
  if (p["iss"] !== app.clientId || p["sub"] !== app.clientId)
    throw errors.assertionInvalid(
      `The client assertion's 'iss' and 'sub' claims must both be the client id '${app.clientId}'.`,
      700023,
    );
  const aud = Array.isArray(p["aud"]) ? (p["aud"] as unknown[]) : [p["aud"]];
  if (
    !aud.some(
      (a) => typeof a === "string" && c.audiences.includes(a.replace(/\/$/, "").toLowerCase()),
    )
  )
    throw errors.assertionInvalid(
      `The audience claim value is invalid '${aud.join(", ")}'. The audience must be the token endpoint '${c.audiences[0] ?? ""}'.`,
      700212,
    );
  const exp = numericDate(p["exp"]);
  const nbf = numericDate(p["nbf"]);
  const skew = c.clockSkewSeconds;
  if (
    exp === undefined ||
    exp + skew < c.nowSeconds ||
    (nbf !== undefined && nbf - skew > c.nowSeconds)
  ) {
    const at = (s: number | undefined) => (s === undefined ? undefined : new Date(s * 1000));
    throw errors.assertionTime(new Date(c.nowSeconds * 1000), at(nbf), at(exp));
  }
  return { app, method: "2" };
}

/** The JSON type of a value, as an error message names it. */
function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Latest time a JavaScript Date can hold, in seconds (8.64e15 ms). */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * Every header field and claim the checks below read must have its JSON type (a string where a
 * string belongs, a number of seconds for the times), or the assertion is malformed: 401 with
 * AADSTS50027, as for an assertion that is not a JWT at all; never a crash on an object where a
 * string was expected.
 */
function checkAssertionTypes(header: Record<string, unknown>, payload: Record<string, unknown>) {
  const malformed = (where: string, name: string, wanted: string, value: unknown) =>
    errors.assertionInvalid(
      `JWT token is invalid or malformed: the client assertion's ${where} '${name}' must be ${wanted}, not ${jsonType(value)}.`,
      50027,
    );
  if (Array.isArray(header)) throw malformed("header", "(header)", "a JSON object", header);
  if (Array.isArray(payload)) throw malformed("payload", "(payload)", "a JSON object", payload);
  for (const name of ["alg", "typ", "kid", "x5t", "x5t#S256"]) {
    const value = header[name];
    if (value !== undefined && typeof value !== "string")
      throw malformed("header", name, "a string", value);
  }
  const x5c = header["x5c"];
  if (x5c !== undefined && (!Array.isArray(x5c) || x5c.some((c) => typeof c !== "string")))
    throw malformed("header", "x5c", "an array of base64 strings", x5c);
  for (const name of ["iss", "sub", "jti"]) {
    const value = payload[name];
    if (value !== undefined && typeof value !== "string")
      throw malformed("claim", name, "a string", value);
  }
  const aud = payload["aud"];
  if (
    aud !== undefined &&
    typeof aud !== "string" &&
    (!Array.isArray(aud) || aud.some((a) => typeof a !== "string"))
  )
    throw malformed("claim", "aud", "a string or an array of strings", aud);
  for (const name of ["exp", "nbf", "iat"]) {
    const value = payload[name];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value))
      throw malformed("claim", name, "a number of seconds", value);
    if (Math.abs(value) > MAX_DATE_SECONDS)
      throw malformed("claim", name, "a time in seconds since 1970 (in range)", value);
  }
}

/**
 * A NumericDate claim: a number, or a string of digits as MSAL.NET writes `nbf` and `exp` in its
 * client assertions (Entra accepts both).
 */
function numericDate(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^\d{1,12}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * A thumbprint as the libraries send it, as bytes: base64url (MSAL.js, MSAL.NET), base64url with
 * `=` padding or standard base64 (MSAL for Python, older ADAL), or hex (some hand-rolled clients).
 */
function thumbprintBytes(value: string, hexLength: number): Buffer {
  if (value.length === hexLength && /^[0-9a-fA-F]+$/.test(value)) return Buffer.from(value, "hex");
  return Buffer.from(value.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"), "base64url");
}

/**
 * The registered certificate an assertion's header names: by `x5t#S256`, `x5t` (SHA-1), or the
 * first certificate of an `x5c` chain (MSAL's "send certificate chain" option).
 */
function assertionCertificate(
  app: Application,
  header: Record<string, unknown>,
): { pem: string; thumbprint: string } | { missing: true } | { unknown: string } {
  const registered = app.certificates.map((pem) => {
    const der = new X509Certificate(pem).raw;
    return {
      pem,
      sha1: createHash("sha1").update(der).digest(),
      sha256: createHash("sha256").update(der).digest(),
    };
  });
  const x5tS256 = header["x5t#S256"];
  const x5t = header["x5t"];
  const x5c = header["x5c"];
  let presented: { hash: "sha1" | "sha256"; bytes: Buffer } | undefined;
  if (typeof x5tS256 === "string")
    presented = { hash: "sha256", bytes: thumbprintBytes(x5tS256, 64) };
  else if (typeof x5t === "string") presented = { hash: "sha1", bytes: thumbprintBytes(x5t, 40) };
  else if (Array.isArray(x5c) && typeof x5c[0] === "string") {
    const der = Buffer.from(x5c[0], "base64");
    presented = { hash: "sha256", bytes: createHash("sha256").update(der).digest() };
  }
  if (!presented) return { missing: true };
  const shown = presented.bytes.toString("hex").toUpperCase();
  const hit = registered.find((r) => r[presented.hash].equals(presented.bytes));
  if (!hit) return { unknown: shown };
  return { pem: hit.pem, thumbprint: hit.sha1.toString("hex").toUpperCase() };
}
