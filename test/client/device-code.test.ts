import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByDeviceCode,
  newPartnerAccessToken,
  ServerError,
  SignInRequiredError,
  type ClientOptions,
} from "../../src/index.ts";
import {
  GRAPH,
  PARTNER_CENTER,
  startEmulatorWithBase,
  verifyAccessToken,
  type EmulatorBase,
} from "./helpers.ts";

/** Reads the user code out of the device code message. */
function userCodeIn(message: string): string {
  const code = /enter the code ([A-Z0-9-]+)/i.exec(message)?.[1];
  assert.ok(code, `no user code in: ${message}`);
  return code;
}

describe("device code (auto-approved)", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase({ autoApprove: true }));
  });
  after(() => emu.close());

  test("User set with UseDeviceAuthentication: the server's message is logged, tokens come back with a refresh token", async () => {
    const logged: string[] = [];
    const result = await newPartnerAccessToken(
      {
        ...base,
        applicationId: emu.info.apps.public.clientId,
        scopes: [PARTNER_CENTER],
        useDeviceAuthentication: true,
      },
      { log: (line) => logged.push(line) },
    );
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /devicelogin/);
    userCodeIn(logged[0]!);
    const claims = await verifyAccessToken(emu, result.accessToken, emu.info.partnerTenant.id);
    assert.equal(claims.aud, "https://api.partnercenter.microsoft.com");
    assert.ok(result.refreshToken);
    assert.ok(result.idToken);
    assert.equal(result.account?.username, emu.info.user.username);
  });

  test("ByModule ExchangeOnline: Exchange Online's app id and scope", async () => {
    const result = await newPartnerAccessToken(
      { ...base, module: "ExchangeOnline" },
      { log: () => {} },
    );
    const claims = await verifyAccessToken(emu, result.accessToken, emu.info.partnerTenant.id);
    assert.equal(claims.appid, "a0c73c16-a7e3-4564-9a95-2bdf47383716");
    assert.equal(claims.aud, "https://outlook.office365.com");
    assert.ok(result.refreshToken);
    // ByModule with a refresh token: the refresh grant with the same app
    const again = await newPartnerAccessToken({
      ...base,
      module: "ExchangeOnline",
      refreshToken: result.refreshToken!,
    });
    assert.ok(again.refreshToken && again.refreshToken !== result.refreshToken);
  });

  test("a confidential app without its secret: AADSTS7000218 and the public-client hint", async () => {
    const err = await acquireTokenByDeviceCode(
      { ...base, clientId: emu.info.apps.confidential.clientId, scopes: [GRAPH] },
      { log: () => {} },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.aadsts, 7000218);
    assert.match(err.hint ?? "", /public client/);
  });
});

describe("device code (approved, declined or expired by hand)", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase({
      autoApprove: false,
      settings: { deviceCodeLifetimeSeconds: 60 },
    }));
  });
  after(() => emu.close());

  function flow(onMessage: (userCode: string) => void, options: ClientOptions = {}) {
    return acquireTokenByDeviceCode(
      { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      { ...options, log: (line) => onMessage(userCodeIn(line)) },
    );
  }

  test("keeps polling through authorization_pending until approved", async () => {
    emu.clearRequests();
    const result = await flow((userCode) =>
      setTimeout(() => emu.approveDeviceCode({ userCode }), 2500),
    );
    assert.ok(result.refreshToken);
    const polls = emu
      .requests()
      .filter((entry) => JSON.stringify(entry).includes("/oauth2/v2.0/token"));
    assert.ok(polls.length >= 2, `polled ${polls.length} times`);
  });

  test("declined: SignInRequiredError ERR_AUTHORIZATION_DECLINED", async () => {
    const err = await flow((userCode) =>
      setTimeout(() => emu.approveDeviceCode({ userCode, deny: true }), 200),
    ).catch((e: unknown) => e);
    assert.ok(err instanceof SignInRequiredError, String(err));
    assert.equal(err.code, "ERR_AUTHORIZATION_DECLINED");
    assert.equal(err.error, "authorization_declined");
    assert.equal(err.exitCode, 4);
  });

  test("expired: SignInRequiredError ERR_DEVICE_CODE_EXPIRED", async () => {
    const err = await flow(() => setTimeout(() => emu.advanceClock(120), 200)).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof SignInRequiredError, String(err));
    assert.equal(err.code, "ERR_DEVICE_CODE_EXPIRED");
    assert.match(err.message, /expired/);
  });

  test("cancelled while polling: CancelledError", async () => {
    const controller = new AbortController();
    const err = await flow(() => setTimeout(() => controller.abort(), 200), {
      signal: controller.signal,
    }).catch((e: unknown) => e);
    assert.equal((err as SignInRequiredError).exitCode, 130);
  });
});
