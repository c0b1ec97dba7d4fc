/**
 * Who calls Graph: the Bearer token is checked by the emulator's own code (signature with its
 * key, expiry, audience Graph, a known tenant, the tenant's issuer), and each call then asks for
 * the permissions it needs in `scp` (delegated) or `roles` (application).
 */
import type { Tenant, User } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import type { Ctx } from "../http.ts";
import { decodeJwt, verifyJwtSignature } from "../jwt.ts";
import { GraphError, graphErrors } from "./odata.ts";
import { caeRefusal, challengeClaims } from "../cae.ts";

export const GRAPH_AUDIENCES = [
  "https://graph.microsoft.com",
  "https://graph.microsoft.com/",
  "00000003-0000-0000-c000-000000000000",
];

export interface GraphCaller {
  tenant: Tenant;
  /** The signed-in user (delegated tokens); undefined for app-only tokens. */
  user: User | undefined;
  appId: string;
  /** Delegated scopes, lower-cased. */
  scopes: Set<string>;
  /** Application permissions, lower-cased. */
  roles: Set<string>;
}

/** What a call accepts: any one of these delegated scopes, or of these app roles. */
export interface Permissions {
  delegated: readonly string[];
  application: readonly string[];
}

/** Graph's CAE answer: 401 InvalidAuthenticationToken with a claims challenge. */
export class GraphChallenge extends GraphError {
  readonly wwwAuthenticate: string;
  constructor(emu: Emulator, notBefore: number) {
    super(
      401,
      "InvalidAuthenticationToken",
      "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp",
    );
    // The authority the client signs in at: the emulator's own (Entra's under --impersonate).
    const authority = emu.impersonate ? "https://login.microsoftonline.com" : emu.url;
    this.wwwAuthenticate =
      `Bearer realm="", authorization_uri="${authority}/common/oauth2/authorize", ` +
      `error="insufficient_claims", claims="${challengeClaims(notBefore)}"`;
  }
}

const invalid = (message: string) => new GraphError(401, "InvalidAuthenticationToken", message);

const MAX_TOKEN = 16 * 1024;

/** The caller of a Graph request; 401 InvalidAuthenticationToken when the token does not do. */
export function graphCaller(emu: Emulator, ctx: Ctx): GraphCaller {
  const header = ctx.req.headers.authorization ?? "";
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw invalid("Access token is empty.");
  if (m[1]!.length > MAX_TOKEN) throw invalid("Access token validation failure.");
  const jwt = decodeJwt(m[1]!);
  if (!jwt) throw invalid("IDX14100: JWT is not well formed, there are no dots (.).");
  if (jwt.header["kid"] !== emu.key.kid || !verifyJwtSignature(jwt, emu.key.publicKey))
    throw invalid("Access token validation failure. Invalid signature.");
  const c = jwt.payload;
  const now = emu.nowSeconds();
  const skew = emu.settings.clockSkewSeconds;
  if (
    typeof c["exp"] !== "number" ||
    c["exp"] + skew < now ||
    (typeof c["nbf"] === "number" && c["nbf"] - skew > now)
  )
    throw invalid("Access token has expired or is not yet valid.");
  if (typeof c["aud"] !== "string" || !GRAPH_AUDIENCES.includes(c["aud"].toLowerCase()))
    throw invalid("Access token validation failure. Invalid audience.");
  const tenant = typeof c["tid"] === "string" ? emu.directory.tenant(c["tid"]) : undefined;
  if (!tenant || tenant.id !== c["tid"])
    throw invalid("Access token validation failure. The token's tenant is unknown.");
  const issuers = [
    `${emu.issuerV1Origin}/${tenant.id}/`,
    `${emu.issuerV2Origin}/${tenant.id}/v2.0`,
  ];
  if (!issuers.includes(String(c["iss"])))
    throw invalid("Access token validation failure. Invalid issuer.");
  const idtyp = c["idtyp"];
  let user: User | undefined;
  if (idtyp !== "app") {
    user = typeof c["oid"] === "string" ? emu.directory.userById(c["oid"]) : undefined;
    if (!user) throw invalid("Access token validation failure. The user no longer exists.");
    // A CAE token (xms_cc cp1) is evaluated on every call: revoked sessions, a disabled user or a
    // reset password answer with a claims challenge. Other tokens live out their hour, as Entra's.
    const capabilities = Array.isArray(c["xms_cc"]) ? c["xms_cc"] : [];
    if (capabilities.some((x) => typeof x === "string" && x.toLowerCase() === "cp1")) {
      const iat = typeof c["iat"] === "number" ? c["iat"] : 0;
      const notBefore = caeRefusal(user, iat, now);
      if (notBefore !== undefined) throw new GraphChallenge(emu, notBefore);
    }
  }
  const scopes = new Set(
    (typeof c["scp"] === "string" ? c["scp"] : "")
      .split(" ")
      .filter(Boolean)
      .map((s) => s.toLowerCase()),
  );
  const roles = new Set(
    (Array.isArray(c["roles"]) ? c["roles"] : [])
      .filter((r): r is string => typeof r === "string")
      .map((r) => r.toLowerCase()),
  );
  const appId = String(c["appid"] ?? c["azp"] ?? "");
  return { tenant, user, appId, scopes, roles };
}

/** 403 Authorization_RequestDenied unless the token holds one of the permissions. */
export function requirePermission(caller: GraphCaller, p: Permissions): void {
  const held = caller.user ? caller.scopes : caller.roles;
  const accepted = caller.user ? p.delegated : p.application;
  if (!accepted.some((s) => held.has(s.toLowerCase()))) throw graphErrors.denied();
}

/** 403 unless the delegated caller holds one of `roles` in the tenant (app-only callers pass). */
export function requireDirectoryRole(
  emu: Emulator,
  caller: GraphCaller,
  roles: readonly string[],
): void {
  if (!caller.user) return;
  const held = emu.directory.rolesIn(caller.user, caller.tenant, emu.nowMs());
  if (!held.some((r) => roles.includes(r))) throw graphErrors.denied();
}
