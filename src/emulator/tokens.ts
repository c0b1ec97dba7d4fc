/**
 * Token minting, shaped like Entra's: v1 access tokens for Microsoft's resources (Graph, Partner
 * Center, Exchange), v2 for the rest; id tokens with `nonce`, `preferred_username`, `name`;
 * `client_info`; `expires_in` and `ext_expires_in`; opaque refresh tokens that rotate.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Application, Tenant, User } from "./directory.ts";
import { signJwtAsync, type SigningKey } from "./jwt.ts";
import type { ScopeRequest } from "./scopes.ts";
import { scopeResponse } from "./scopes.ts";
import type { SeedSettings } from "./seed.ts";
import type { Authentication, Store } from "./store.ts";

export interface Issuer {
  url: string;
  /** Origins of the issuers tokens carry (Entra's own under --impersonate). */
  issuerV2Origin: string;
  issuerV1Origin: string;
  key: SigningKey;
  settings: SeedSettings;
  store: Store;
  nowSeconds(): number;
  nowMs(): number;
}

export interface IssueRequest {
  tenant: Tenant;
  app: Application;
  request: ScopeRequest;
  /** Delegated scopes, or app roles when `user` is absent. */
  granted: string[];
  user?: User;
  authentication?: Authentication;
  nonce?: string;
  /** appidacr / azpacr: 0 public client, 1 secret, 2 certificate. */
  clientAuth: "0" | "1" | "2";
  refreshToken: boolean;
  clientInfo: boolean;
  /** v1 endpoint response shape (`resource=`). */
  v1Endpoint?: boolean;
  /** A CAE token: the client declared `cp1` and the resource takes them (see ./cae.ts). */
  cae?: boolean;
}

const uti = (random: Buffer = randomBytes(16)) => random.toString("base64url").slice(0, 22);
/** Pairwise subject, as Entra derives `sub` per application. */
const pairwise = (oid: string, clientId: string) =>
  createHash("sha256").update(`${oid}|${clientId}`).digest("base64url").slice(0, 43);
const servicePrincipalIds = new Map<string, string>();
/** Stable object id of an application's service principal in a tenant (memoized: a hash per pair). */
export function servicePrincipalId(clientId: string, tenantId: string): string {
  const key = `${clientId}|${tenantId}`;
  let id = servicePrincipalIds.get(key);
  if (id === undefined) {
    const h = createHash("sha256").update(`sp|${key}`).digest("hex");
    id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
    servicePrincipalIds.set(key, id);
  }
  return id;
}

/**
 * Random bytes for token claims, drawn from the CSPRNG in batches (as randomUUID does) rather than
 * with one call per token; each call still gets bytes no other call sees.
 */
const RANDOM_POOL_SIZE = 72 * 128;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function randomClaimBytes(size: number): Buffer {
  if (randomOffset + size > randomPool.length) {
    randomPool = randomBytes(Math.max(RANDOM_POOL_SIZE, size));
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + size);
  randomOffset += size;
  return bytes;
}

export function issuerV2(url: string, tenantId: string): string {
  return `${url}/${tenantId}/v2.0`;
}

export function issuerV1(url: string, tenantId: string): string {
  return `${url}/${tenantId}/`;
}

/** Builds the token endpoint's JSON answer. */
export async function issueTokens(
  issuer: Issuer,
  r: IssueRequest,
): Promise<Record<string, unknown>> {
  const user = r.user;
  // A CAE token is refused when issued at or before its user's sessionsValidFrom: one issued in
  // the very second of a revocation, after it, starts the next second.
  const now = r.cae
    ? Math.max(issuer.nowSeconds(), (user?.sessionsValidFrom ?? -1) + 1)
    : issuer.nowSeconds();
  const lifetime = r.cae
    ? issuer.settings.caeAccessTokenLifetimeSeconds
    : issuer.settings.accessTokenLifetimeSeconds;
  const ext = lifetime + issuer.settings.extendedLifetimeSeconds;
  const tid = r.tenant.id;
  const version = r.request.resource.accessTokenVersion;
  const auth = r.authentication;
  const oid = user ? user.objectId : servicePrincipalId(r.app.clientId, tid);
  // One draw for the access token's random claims: aio (24 bytes), rh (32), uti (16).
  const random = randomClaimBytes(72);

  const claims: Record<string, unknown> = {
    aud: version === 1 ? r.request.resourceUri : r.request.resource.appId,
    iss:
      version === 1 ? issuerV1(issuer.issuerV1Origin, tid) : issuerV2(issuer.issuerV2Origin, tid),
    iat: now,
    nbf: now,
    exp: now + lifetime,
  };
  if (user && auth) {
    claims["acr"] = "1";
    claims["amr"] = auth.amr;
    claims["auth_time"] = auth.authTime;
  }
  claims["aio"] = random.subarray(0, 24).toString("base64url");
  if (version === 1) {
    claims["appid"] = r.app.clientId;
    claims["appidacr"] = r.clientAuth;
  } else {
    claims["azp"] = r.app.clientId;
    claims["azpacr"] = r.clientAuth;
  }
  claims["idp"] =
    user && user.home.id !== tid ? issuerV1(issuer.issuerV1Origin, user.home.id) : undefined;
  claims["idtyp"] = user ? "user" : "app";
  if (user) {
    claims["name"] = user.displayName;
    if (version === 1) {
      claims["unique_name"] = user.username;
      claims["upn"] = user.username;
    } else {
      claims["preferred_username"] = user.username;
    }
    claims["scp"] = r.granted.join(" ");
  } else if (r.granted.length > 0) {
    claims["roles"] = r.granted;
  }
  claims["oid"] = oid;
  claims["rh"] = `0.${random.subarray(24, 56).toString("base64url")}.`;
  claims["sub"] = user ? pairwise(user.objectId, r.app.clientId) : oid;
  claims["tid"] = tid;
  claims["uti"] = uti(random.subarray(56, 72));
  claims["ver"] = version === 1 ? "1.0" : "2.0";
  if (r.cae) claims["xms_cc"] = ["cp1"];
  if (claims["idp"] === undefined) delete claims["idp"];

  const body: Record<string, unknown> = {
    token_type: "Bearer",
    scope: user ? scopeResponse(r.request, r.granted) : undefined,
    expires_in: lifetime,
    ext_expires_in: ext,
    ...(r.cae ? { refresh_in: Math.floor(lifetime / 2) } : {}),
    access_token: undefined,
  };
  // Both signatures run on the thread pool while the rest of the answer is built.
  const accessToken = signJwtAsync(claims, issuer.key);
  let idToken: Promise<string> | undefined;
  if (!user) delete body["scope"];

  if (user && auth && r.request.oidc.has("openid")) {
    const id: Record<string, unknown> = {
      aud: r.app.clientId,
      iss: issuerV2(issuer.issuerV2Origin, tid),
      iat: now,
      nbf: now,
      exp: now + 3600,
      auth_time: auth.authTime,
      name: user.displayName,
      nonce: r.nonce,
      oid: user.objectId,
      preferred_username: user.username,
      rh: claims["rh"],
      sid: randomUUID(),
      sub: pairwise(user.objectId, r.app.clientId),
      tid,
      uti: uti(),
      ver: "2.0",
    };
    if (r.nonce === undefined) delete id["nonce"];
    body["id_token"] = undefined;
    idToken = signJwtAsync(id, issuer.key);
  }
  if (user && auth && r.refreshToken) {
    body["refresh_token"] = issuer.store.issueRefreshToken({
      ...auth,
      clientId: r.app.clientId,
      tenantId: tid,
      issuedAt: issuer.nowMs(),
      revoked: false,
    });
  }
  if (user && r.clientInfo) {
    body["client_info"] = Buffer.from(
      JSON.stringify({ uid: user.objectId, utid: user.home.id }),
    ).toString("base64url");
  }
  if (r.v1Endpoint) {
    body["expires_in"] = String(lifetime);
    body["ext_expires_in"] = String(ext);
    if (r.cae) body["refresh_in"] = String(Math.floor(lifetime / 2));
    body["expires_on"] = String(now + lifetime);
    body["not_before"] = String(now);
    body["resource"] = r.request.resourceUri;
  }
  const [access, id] = await Promise.all([accessToken, idToken]);
  body["access_token"] = access;
  if (id !== undefined) body["id_token"] = id;
  return body;
}
