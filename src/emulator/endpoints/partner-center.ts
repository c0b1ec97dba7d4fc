/**
 * Partner Center: POST /generatetoken (grant_type=jwt_token with a Bearer Entra token whose
 * audience is Partner Center), GET /v1/customers (paged with a continuation token) and
 * GET /v1/profiles/organization. Errors in Partner Center's shape.
 */
import { randomUUID } from "node:crypto";
import type { Tenant, User } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { decodeJwt, signJwt, verifyJwtSignature } from "../jwt.ts";

const PARTNER_CENTER = [
  "https://api.partnercenter.microsoft.com",
  "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
];

export class PartnerCenterError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
}

export function isPartnerCenterError(e: unknown): e is PartnerCenterError {
  return e instanceof PartnerCenterError;
}

export function headers(ctx: Ctx): Record<string, string> {
  const requestId = ctx.req.headers["ms-requestid"];
  return {
    "ms-correlationid": ctx.correlationId,
    "ms-requestid": typeof requestId === "string" ? requestId : randomUUID(),
    "ms-cv": ctx.requestId,
  };
}

export function sendPartnerCenterError(ctx: Ctx, e: PartnerCenterError): void {
  ctx.note["error"] = `${e.status} ${e.code}`;
  sendJson(
    ctx,
    e.status,
    { code: e.code, description: e.message, data: [], source: "PartnerFD" },
    headers(ctx),
  );
}

export interface Caller {
  tenant: Tenant;
  user: User | undefined;
  claims: Record<string, unknown>;
}

function isPartner(tenant: Tenant): boolean {
  return tenant.customers.length > 0 || tenant.partners.length === 0;
}

/**
 * Validates the Bearer token: ours, unexpired, for Partner Center, from a known tenant; with the
 * MFA rule on (settings.partnerCenterRequireMfa), a user's token must carry `mfa` in `amr`.
 */
export function caller(emu: Emulator, ctx: Ctx): Caller {
  const auth = ctx.req.headers.authorization ?? "";
  if (!/^bearer /i.test(auth))
    throw new PartnerCenterError(
      401,
      900401,
      "Authorization header with a Bearer token is required.",
    );
  const jwt = decodeJwt(auth.slice(7).trim());
  if (!jwt || jwt.header["kid"] !== emu.key.kid || !verifyJwtSignature(jwt, emu.key.publicKey))
    throw new PartnerCenterError(
      401,
      900401,
      "The access token is invalid: its signature could not be verified.",
    );
  const c = jwt.payload;
  if (typeof c["exp"] !== "number" || c["exp"] < emu.nowSeconds())
    throw new PartnerCenterError(401, 900401, "The access token has expired.");
  if (!PARTNER_CENTER.includes(String(c["aud"]).replace(/\/$/, "")))
    throw new PartnerCenterError(
      401,
      900401,
      `The access token's audience '${String(c["aud"])}' is not Partner Center.`,
    );
  const tenant = emu.directory.tenant(String(c["tid"]));
  if (!tenant) throw new PartnerCenterError(401, 900401, "The access token's tenant is unknown.");
  const username = (c["upn"] ?? c["preferred_username"]) as string | undefined;
  const user = username ? emu.directory.user(username) : undefined;
  if (!isPartner(tenant))
    throw new PartnerCenterError(404, 600001, `Partner with tenant id ${tenant.id} was not found.`);
  if (user && user.partnerRoles.length === 0)
    throw new PartnerCenterError(
      403,
      900403,
      `The user ${user.username} is not authorized: assign the Admin agent, Sales agent or Helpdesk agent role in Partner Center.`,
    );
  const amr = Array.isArray(c["amr"]) ? (c["amr"] as unknown[]) : [];
  if (emu.settings.partnerCenterRequireMfa && user && !amr.includes("mfa"))
    throw new PartnerCenterError(
      401,
      900421,
      "Multi-factor authentication is required for App + User calls to Partner Center: the access token's 'amr' claim has no 'mfa'. Sign in again with MFA.",
    );
  return { tenant, user, claims: c };
}

/** POST /generatetoken */
export function generateToken(emu: Emulator, ctx: Ctx): void {
  const who = caller(emu, ctx);
  if (ctx.body["grant_type"] !== "jwt_token")
    throw new PartnerCenterError(400, 900400, "The grant_type must be 'jwt_token'.");
  const now = emu.nowSeconds();
  const lifetime = emu.settings.partnerCenterTokenLifetimeSeconds;
  const token = signJwt(
    {
      aud: "https://api.partnercenter.microsoft.com",
      iss: `${emu.url}/partnercenter`,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      tid: who.tenant.id,
      oid: who.claims["oid"],
      appid: who.claims["appid"] ?? who.claims["azp"],
      upn: who.user?.username,
      roles: who.user?.partnerRoles ?? [],
      // The sign-in's methods travel on, so that the MFA rule holds for this token too.
      ...(Array.isArray(who.claims["amr"]) ? { amr: who.claims["amr"] } : {}),
      ver: "1.0",
    },
    emu.key,
  );
  sendJson(
    ctx,
    200,
    {
      token_type: "Bearer",
      access_token: token,
      expires_in: lifetime,
      expires_on: now + lifetime,
      resource: PARTNER_CENTER[0],
    },
    headers(ctx),
  );
}

/** GET /v1/customers?size=N with the MS-ContinuationToken header for the next page. */
export function listCustomers(emu: Emulator, ctx: Ctx): void {
  const who = caller(emu, ctx);
  const sizeText = ctx.url.searchParams.get("size") ?? "200";
  const size = Number(sizeText);
  if (!Number.isInteger(size) || size < 1 || size > 500)
    throw new PartnerCenterError(
      400,
      2000,
      `The size '${sizeText}' is invalid: use a whole number from 1 to 500.`,
    );
  const continuation = ctx.req.headers["ms-continuationtoken"];
  let offset = 0;
  if (typeof continuation === "string") {
    const decoded = Number(Buffer.from(continuation, "base64url").toString("utf8"));
    if (!Number.isInteger(decoded) || decoded < 0)
      throw new PartnerCenterError(400, 2000, "The continuation token is invalid.");
    offset = decoded;
  }
  const all = who.tenant.customers;
  const items = all.slice(offset, offset + size).map((c) => ({
    id: c.id,
    companyProfile: {
      tenantId: c.id,
      domain: c.domains[0],
      companyName: c.displayName,
      attributes: { objectType: "CustomerCompanyProfile" },
    },
    relationshipToPartner: "reseller",
    links: { self: { uri: `/customers/${c.id}`, method: "GET", headers: [] } },
    attributes: { objectType: "Customer" },
  }));
  const links: Record<string, unknown> = {
    self: { uri: `/customers?size=${size}`, method: "GET", headers: [] },
  };
  const next = offset + size;
  if (next < all.length)
    links["next"] = {
      uri: `/customers?size=${size}`,
      method: "GET",
      headers: [
        { key: "MS-ContinuationToken", value: Buffer.from(String(next)).toString("base64url") },
      ],
    };
  const body: Record<string, unknown> = {
    totalCount: items.length,
    items,
    links,
    attributes: { objectType: "Collection" },
  };
  if (next < all.length)
    body["continuationToken"] = Buffer.from(String(next)).toString("base64url");
  sendJson(ctx, 200, body, headers(ctx));
}

/** GET /v1/profiles/organization */
export function organizationProfile(emu: Emulator, ctx: Ctx): void {
  const who = caller(emu, ctx);
  const t = who.tenant;
  sendJson(
    ctx,
    200,
    {
      id: t.id,
      companyName: t.displayName,
      tenantId: t.id,
      domain: t.domains[0],
      defaultAddress: {
        country: "US",
        city: "Redmond",
        state: "WA",
        addressLine1: "1 Emulator Way",
        postalCode: "98052",
      },
      email: `admin@${t.domains[0]}`,
      language: "en",
      culture: "en-US",
      links: { self: { uri: "/profiles/organization", method: "GET", headers: [] } },
      attributes: { objectType: "OrganizationProfile" },
    },
    headers(ctx),
  );
}
