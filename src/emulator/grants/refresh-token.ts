/**
 * grant_type=refresh_token: rotates (a new refresh token on every use), honours inactivity
 * expiry, revocation, MFA requirements added since the sign-in, and partner access to customer
 * tenants (a partner agent's refresh token works at `/{customer}/oauth2/v2.0/token`).
 */
import { errors } from "../errors.ts";
import { parseScope } from "../scopes.ts";
import { issueUserTokens, type Grant } from "./grant.ts";

export const refreshTokenGrant: Grant = (emu, ctx, g) => {
  const token = ctx.body["refresh_token"];
  if (!token) throw errors.missingParameter("refresh_token");
  const record = emu.store.refreshTokens.get(token);
  if (!record) throw errors.refreshTokenMalformed();
  if (record.revoked) throw errors.refreshTokenRevoked();
  const maxInactiveMs = emu.settings.refreshTokenMaxInactiveDays * 86_400_000;
  if (emu.nowMs() - record.issuedAt > maxInactiveMs)
    throw errors.refreshTokenInactive(
      new Date(record.issuedAt),
      emu.settings.refreshTokenMaxInactiveDays,
    );
  if (record.clientId.toLowerCase() !== g.client.app.clientId.toLowerCase())
    throw errors.refreshTokenOtherClient();
  const user = emu.directory.user(record.username);
  if (!user) throw errors.refreshTokenRevoked();
  const tenant = emu.userTenant(
    user,
    g.tenant ?? emu.directory.tenant(record.tenantId)!,
    g.client.app,
  );
  const request = parseScope(g.scope ?? "openid profile offline_access", emu.directory, tenant);
  if (user.mfaRequired && !record.amr.includes("mfa"))
    throw errors.mfaRequired(request.resource.appId);
  return issueUserTokens(emu, ctx, g, {
    tenant,
    request,
    user,
    authentication: record,
    refreshToken: true,
  });
};
