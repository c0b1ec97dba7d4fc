/**
 * The token endpoint (v2 and v1): resolve the tenant, authenticate the client, hand the request
 * to its grant handler (one file per grant in ../grants/).
 */
import { authenticateClient } from "../client-auth.ts";
import { errors } from "../errors.ts";
import { isMultiTenant, type Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import type { Grant, GrantContext } from "../grants/grant.ts";
import { authorizationCodeGrant } from "../grants/authorization-code.ts";
import { clientCredentialsGrant } from "../grants/client-credentials.ts";
import { deviceCodeGrant } from "../grants/device-code.ts";
import { passwordGrant } from "../grants/password.ts";
import { refreshTokenGrant } from "../grants/refresh-token.ts";
import { checkTokenThrottle } from "../throttle.ts";

const grants: Record<string, Grant> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  "urn:ietf:params:oauth:grant-type:device_code": deviceCodeGrant,
  // MSAL sends the short name (and so did ADAL); Entra accepts both.
  device_code: deviceCodeGrant,
};

async function handle(emu: Emulator, ctx: Ctx, v1: boolean): Promise<void> {
  checkTokenThrottle(emu, ctx);
  const tenantKey = ctx.match[1]!;
  const tenant = emu.tenantOf(tenantKey);
  const grantType = ctx.body["grant_type"];
  if (!grantType) throw errors.missingParameter("grant_type");
  ctx.note["grant_type"] = grantType;
  // Own keys only: grant_type=constructor must not find Object's.
  const grant = Object.hasOwn(grants, grantType) ? grants[grantType] : undefined;
  if (!grant) throw errors.unsupportedGrant(grantType);
  let audiences: string[] | undefined;
  const client = authenticateClient(ctx, {
    findApp: (id) => emu.directory.application(id),
    tenant,
    tenantKey,
    nowSeconds: emu.nowSeconds(),
    clockSkewSeconds: emu.settings.clockSkewSeconds,
    // Only client assertions read these; built on first use.
    get audiences() {
      if (audiences) return audiences;
      const tokenPaths = ["oauth2/v2.0/token", "oauth2/token"];
      const tenantNames = [tenantKey, ...(tenant ? [tenant.id, ...tenant.domains] : [])];
      // The token endpoint as the client reached it, or as the emulator's URL names it.
      const origins = [...new Set([emu.originOf(ctx), emu.url])];
      audiences = origins.flatMap((o) =>
        tenantNames.flatMap((t) => tokenPaths.map((p) => `${o}/${t}/${p}`.toLowerCase())),
      );
      if (tenant) audiences.push(`${emu.issuerV2Origin}/${tenant.id}/v2.0`.toLowerCase());
      return audiences;
    },
  });
  // No service principal: AADSTS700016, except for a multi-tenant app on a delegated grant,
  // where the grant decides from the model (AADSTS50020 without access, else AADSTS65001).
  if (
    tenant &&
    !emu.directory.isInstalled(client.app, tenant) &&
    (grantType === "client_credentials" || !isMultiTenant(client.app, tenant))
  )
    throw errors.appNotFound(client.app.clientId, tenant.id);
  let scope = ctx.body["scope"];
  if (v1 && ctx.body["resource"])
    scope = `${ctx.body["resource"].replace(/\/$/, "")}/.default ${scope ?? ""}`.trim();
  const g: GrantContext = { tenant, tenantKey, client, scope, v1 };
  sendJson(ctx, 200, await grant(emu, ctx, g));
}

/** POST /{tenant}/oauth2/v2.0/token */
export function tokenV2(emu: Emulator, ctx: Ctx): Promise<void> {
  return handle(emu, ctx, false);
}

/** POST /{tenant}/oauth2/token — the v1 endpoint, `resource=` instead of scopes. */
export function tokenV1(emu: Emulator, ctx: Ctx): Promise<void> {
  return handle(emu, ctx, true);
}
