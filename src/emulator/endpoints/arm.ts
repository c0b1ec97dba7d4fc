/**
 * Azure Resource Manager's tenant and subscription listing — what `az login` and
 * `Connect-AzAccount` call once signed in: `GET /tenants` and `GET /subscriptions` (any
 * `api-version`), with a Bearer token for ARM, answered from the seed. Errors in Azure's shape.
 */
import type { Tenant, User } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { decodeJwt, verifyJwtSignature } from "../jwt.ts";
import { ServiceError } from "../services.ts";

/** ARM's audiences, as the v1 token names them (with or without the trailing slash). */
const ARM_AUDIENCES = new Set([
  "https://management.core.windows.net",
  "https://management.azure.com",
  "797f4846-ba00-4fd7-ba43-dac1f8f63013",
]);

const unauthorized = (message: string) =>
  new ServiceError(401, "InvalidAuthenticationToken", message);

/** The caller: a valid, unexpired token of ours, for ARM, from a tenant in the seed. */
function caller(emu: Emulator, ctx: Ctx): { tenant: Tenant; user: User | undefined } {
  if (!ctx.url.searchParams.get("api-version"))
    throw new ServiceError(
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  const auth = ctx.req.headers.authorization ?? "";
  if (!/^bearer /i.test(auth))
    throw new ServiceError(
      401,
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is missing.",
    );
  const jwt = decodeJwt(auth.slice(7).trim());
  if (!jwt || jwt.header["kid"] !== emu.key.kid || !verifyJwtSignature(jwt, emu.key.publicKey))
    throw unauthorized("The access token is invalid: its signature could not be verified.");
  const c = jwt.payload;
  if (typeof c["exp"] !== "number" || c["exp"] < emu.nowSeconds())
    throw new ServiceError(
      401,
      "ExpiredAuthenticationToken",
      "The access token expiry UTC time is earlier than current UTC time.",
    );
  const aud = typeof c["aud"] === "string" ? c["aud"].replace(/\/$/, "").toLowerCase() : "";
  if (!ARM_AUDIENCES.has(aud))
    throw unauthorized(`The access token has an invalid audience '${String(c["aud"])}'.`);
  const tenant = typeof c["tid"] === "string" ? emu.directory.tenant(c["tid"]) : undefined;
  if (!tenant) throw unauthorized("The access token is from an unknown tenant.");
  const username = c["upn"] ?? c["preferred_username"];
  const user = typeof username === "string" ? emu.directory.user(username) : undefined;
  return { tenant, user };
}

/** GET /tenants — the signed-in user's home tenant, or the service principal's tenant. */
export function listTenants(emu: Emulator, ctx: Ctx): void {
  const who = caller(emu, ctx);
  const tenants = who.user ? [who.user.home] : [who.tenant];
  const value = tenants.map((t) => ({
    id: `/tenants/${t.id}`,
    tenantId: t.id,
    countryCode: "US",
    displayName: t.displayName,
    domains: t.domains,
    tenantCategory: "Home",
    defaultDomain: t.domains[0],
    tenantType: "AAD",
  }));
  sendJson(ctx, 200, { value, count: { type: "Total", value: value.length } });
}

/** GET /subscriptions — the subscriptions of the token's tenant. */
export function listSubscriptions(emu: Emulator, ctx: Ctx): void {
  const { tenant } = caller(emu, ctx);
  const value = tenant.subscriptions.map((s) => ({
    id: `/subscriptions/${s.id}`,
    authorizationSource: "RoleBased",
    managedByTenants: [],
    subscriptionId: s.id,
    tenantId: tenant.id,
    displayName: s.displayName,
    state: s.state,
    subscriptionPolicies: {
      locationPlacementId: "Public_2014-09-01",
      quotaId: "PayAsYouGo_2014-09-01",
      spendingLimit: "Off",
    },
  }));
  sendJson(ctx, 200, { value, count: { type: "Total", value: value.length } });
}
