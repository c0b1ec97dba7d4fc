import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByAuthorizationCode,
  acquireTokenByRefreshToken,
  newPartnerAccessToken,
  SignInRequiredError,
  type AuthResult,
} from "../../src/index.ts";
import {
  followingBrowser,
  GRAPH,
  PARTNER_CENTER,
  startEmulatorWithBase,
  verifyAccessToken,
  type EmulatorBase,
} from "./helpers.ts";

describe("refresh token grant", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase());
  });
  after(() => emu.close());

  /** A refresh token for the App + User app, as partners get it once. */
  async function signIn(scopes = [PARTNER_CENTER]): Promise<AuthResult> {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    return acquireTokenByAuthorizationCode(
      { ...base, clientId, clientSecret, tenant: emu.info.partnerTenant.id, scopes },
      { openBrowser: followingBrowser(emu) },
    );
  }

  /** The App + User app redeems `refreshToken` for Graph, in the partner tenant unless told. */
  function redeem(refreshToken: string, tenant = emu.info.partnerTenant.id): Promise<AuthResult> {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    return acquireTokenByRefreshToken({
      ...base,
      clientId,
      clientSecret,
      refreshToken,
      tenant,
      scopes: [GRAPH],
    });
  }

  test("confidential (RefreshToken set with a Credential): client id from the credential; the token rotates", async () => {
    const first = await signIn();
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const result = await newPartnerAccessToken({
      ...base,
      refreshToken: first.refreshToken!,
      credential: { userName: clientId, password: clientSecret },
      scopes: [GRAPH],
      tenant: emu.info.partnerTenant.id,
    });
    const claims = await verifyAccessToken(emu, result.accessToken, emu.info.partnerTenant.id);
    assert.equal(claims.aud, "https://graph.microsoft.com");
    assert.equal(claims.appid, clientId);
    assert.ok(result.refreshToken, "a rotated refresh token is returned");
    assert.notEqual(result.refreshToken, first.refreshToken);
    assert.equal(result.account?.username, emu.info.user.username);
  });

  test("in each customer tenant with the partner's refresh token", async () => {
    let refreshToken = (await signIn()).refreshToken!;
    for (const customer of emu.info.customers) {
      const result = await redeem(refreshToken, customer.id);
      const claims = await verifyAccessToken(emu, result.accessToken, customer.id);
      assert.equal(claims.tid, customer.id);
      assert.notEqual(result.refreshToken, refreshToken);
      refreshToken = result.refreshToken!;
    }
  });

  test("public client (User sign-in, then RefreshToken set with ApplicationId)", async () => {
    const first = await newPartnerAccessToken(
      { ...base, applicationId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      { openBrowser: followingBrowser(emu) },
    );
    const result = await newPartnerAccessToken({
      ...base,
      applicationId: emu.info.apps.public.clientId,
      refreshToken: first.refreshToken!,
      scopes: [PARTNER_CENTER],
    });
    const claims = await verifyAccessToken(emu, result.accessToken, emu.info.partnerTenant.id);
    assert.equal(claims.aud, "https://api.partnercenter.microsoft.com");
    assert.ok(result.refreshToken && result.refreshToken !== first.refreshToken);
  });

  test("a revoked refresh token: SignInRequiredError (exit code 4) with Entra's fields and no token in the message", async () => {
    const first = await signIn();
    emu.revoke({ refreshToken: first.refreshToken! });
    const err = await redeem(first.refreshToken!).catch((e: unknown) => e);
    assert.ok(err instanceof SignInRequiredError, String(err));
    assert.equal(err.error, "invalid_grant");
    assert.equal(err.aadsts, 50173);
    assert.equal(err.exitCode, 4);
    assert.ok(err.hint);
    assert.ok(!`${err.message}${JSON.stringify(err)}`.includes(first.refreshToken!));
  });

  test("MFA required after the token was issued: AADSTS50076 with the sign-in-again hint", async () => {
    const first = await signIn();
    emu.setUser({ username: emu.info.user.username, mfaRequired: true });
    try {
      await assert.rejects(
        redeem(first.refreshToken!),
        (e: SignInRequiredError) =>
          e instanceof SignInRequiredError &&
          (e.aadsts === 50076 || e.aadsts === 50079) &&
          /interactively/.test(e.hint ?? ""),
      );
    } finally {
      emu.setUser({ username: emu.info.user.username, mfaRequired: false });
    }
  });

  test("90 days of inactivity: AADSTS700082 with the store-the-rotated-token hint", async () => {
    const first = await signIn();
    emu.advanceClock(91 * 24 * 3600);
    await assert.rejects(
      redeem(first.refreshToken!),
      (e: SignInRequiredError) =>
        e instanceof SignInRequiredError && e.aadsts === 700082 && /rotated/.test(e.hint ?? ""),
    );
  });
});
