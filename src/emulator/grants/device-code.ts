/**
 * The device code grant (RFC 8628 and MSAL's short `device_code`): authorization_pending until
 * the user approves (or, with --auto-approve, after the first pending poll), slow_down when
 * polled faster than the interval (which then grows by 5 s), expired_token, authorization_declined.
 */
import { errors } from "../errors.ts";
import { parseScope } from "../scopes.ts";
import { issueUserTokens, type Grant } from "./grant.ts";

export const deviceCodeGrant: Grant = (emu, ctx, g) => {
  const code = ctx.body["device_code"] ?? ctx.body["code"];
  if (!code) throw errors.missingParameter("device_code");
  const record = emu.store.deviceCodes.get(code);
  if (!record || record.clientId.toLowerCase() !== g.client.app.clientId.toLowerCase())
    throw errors.badVerificationCode();
  const forget = () => {
    emu.store.deviceCodes.delete(record.deviceCode);
    emu.store.deviceCodesByUserCode.delete(record.userCode);
  };
  if (record.expiresAt < emu.nowMs()) {
    forget();
    throw errors.deviceCodeExpired();
  }
  if (record.status === "declined") {
    forget();
    throw errors.deviceCodeDeclined();
  }
  if (record.status === "pending") {
    // Pace is measured on the real clock: polling speed is about the client, not the emulated date.
    const now = Date.now();
    const early =
      record.lastPollAt !== undefined && now - record.lastPollAt < record.interval * 1000 * 0.8;
    record.lastPollAt = now;
    record.polls++;
    if (early) {
      record.interval += 5;
      throw errors.slowDown(record.interval);
    }
    if (emu.autoApprove && record.polls > 1) {
      const user = emu.defaultUser();
      if (user) {
        record.status = "approved";
        record.authentication = emu.authenticate(user);
      }
    }
    if (record.status === "pending") throw errors.authorizationPending();
  }
  forget();
  const auth = record.authentication!;
  const user = emu.directory.user(auth.username)!;
  const tenant = emu.userTenant(user, emu.tenantOf(record.tenant), g.client.app);
  const request = parseScope(record.scope, emu.directory, tenant);
  return issueUserTokens(emu, ctx, g, { tenant, request, user, authentication: auth });
};
