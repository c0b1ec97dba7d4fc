/** The device authorization endpoint and the device login page (RFC 8628, Entra's shape). */
import type { User } from "../directory.ts";
import { errors } from "../errors.ts";
import type { Emulator } from "../emulator.ts";
import { sendHtml, sendJson, type Ctx } from "../http.ts";
import { deviceCodePage, deviceDonePage, errorPage, signInPage } from "../pages.ts";
import { opaque, userCode, type DeviceCodeRecord, type LoginFlow } from "../store.ts";

/** POST /{tenant}/oauth2/v2.0/devicecode (and the v1 /oauth2/devicecode with `resource`). */
export function deviceAuthorization(emu: Emulator, ctx: Ctx): void {
  const tenantKey = ctx.match[1]!;
  const tenant = emu.tenantOf(tenantKey);
  const clientId = ctx.body["client_id"];
  if (!clientId) throw errors.missingParameter("client_id");
  const app = emu.appIn(clientId, tenant, tenantKey);
  ctx.note["client_id"] = app.clientId;
  const scope =
    ctx.body["scope"] ??
    (ctx.body["resource"] ? `${ctx.body["resource"].replace(/\/$/, "")}/.default` : undefined);
  if (!scope) throw errors.missingParameter("scope");
  const record: DeviceCodeRecord = {
    deviceCode: opaque("DAQ", 120),
    userCode: userCode(),
    clientId: app.clientId,
    tenant: tenantKey,
    scope,
    status: "pending",
    authentication: undefined,
    expiresAt: emu.nowMs() + emu.settings.deviceCodeLifetimeSeconds * 1000,
    interval: emu.settings.deviceCodeIntervalSeconds,
    lastPollAt: undefined,
    polls: 0,
  };
  emu.store.deviceCodes.set(record.deviceCode, record);
  emu.store.deviceCodesByUserCode.set(record.userCode, record);
  const verificationUri = `${emu.originOf(ctx)}/devicelogin`;
  sendJson(ctx, 200, {
    user_code: record.userCode,
    device_code: record.deviceCode,
    verification_uri: verificationUri,
    expires_in: emu.settings.deviceCodeLifetimeSeconds,
    interval: record.interval,
    message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${record.userCode} to authenticate.`,
  });
}

/** GET /devicelogin */
export function deviceLoginPage(_emu: Emulator, ctx: Ctx): void {
  sendHtml(ctx, 200, deviceCodePage("/devicelogin"));
}

/** POST /devicelogin — the user code, then the sign-in form of a device flow. */
export function deviceLoginSubmit(emu: Emulator, ctx: Ctx): void {
  const code = (ctx.body["user_code"] ?? "").trim().toUpperCase().replace(/[\s-]/g, "");
  const record = emu.store.deviceCodesByUserCode.get(code);
  if (!record || record.status !== "pending" || record.expiresAt < emu.nowMs())
    return sendHtml(
      ctx,
      200,
      deviceCodePage("/devicelogin", "That code didn't work. Check the code and try again."),
    );
  const flow: LoginFlow = {
    id: opaque("", 24),
    params: { client_id: record.clientId, user_code: record.userCode },
    tenantKey: record.tenant,
    kind: "device",
    userOid: undefined,
    expiresAt: emu.nowMs() + 15 * 60_000,
  };
  emu.store.flows.set(flow.id, flow);
  const app = emu.directory.application(record.clientId);
  sendHtml(
    ctx,
    200,
    signInPage({
      action: `/${record.tenant}/login`,
      flow: flow.id,
      appName: app?.displayName ?? "",
      device: true,
    }),
  );
}

/** Ends a device sign-in: approved by `user`, or declined when `user` is undefined. */
export function approveDevice(
  emu: Emulator,
  ctx: Ctx,
  flow: LoginFlow,
  user: User | undefined,
  amr: string[],
): void {
  const record = emu.store.deviceCodesByUserCode.get(flow.params["user_code"] ?? "");
  const app = emu.directory.application(flow.params["client_id"] ?? "");
  if (!record || record.status !== "pending")
    return sendHtml(
      ctx,
      400,
      errorPage(70020, "This device code has expired or was already used.", ctx.correlationId),
    );
  if (user) {
    record.status = "approved";
    record.authentication = emu.authenticate(user, amr);
  } else {
    record.status = "declined";
  }
  sendHtml(ctx, 200, deviceDonePage(app?.displayName ?? "", user !== undefined));
}
