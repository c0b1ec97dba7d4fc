/**
 * @azure/msal-node, unmodified, with refresh tokens: acquireTokenByRefreshToken (a refresh
 * token from the raw token endpoint, for the partner's tenant and for a customer's), MSAL's
 * cache serialization carrying it to another application instance, and silent renewal —
 * forced, and after the access token expired.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PublicClientApplication } from "@azure/msal-node";
import { decodeJwt } from "jose";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  GRAPH,
  PARTNER_CENTER,
  msalAuthority,
  startTestEmulator,
  verifyAccessToken,
} from "./helpers.ts";

describe("msal-node refresh tokens and silent renewal", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startTestEmulator({ autoApprove: true });
  });
  after(() => emu?.close());

  const refreshGrants = () =>
    emu.requests().filter((r) => r.note["grant_type"] === "refresh_token" && r.status === 200);

  /** A refresh token for the default user, straight from the token endpoint (ROPC). */
  async function rawRefreshToken(): Promise<string> {
    const res = await fetch(`${emu.url}/${emu.info.partnerTenant.id}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: emu.info.apps.public.clientId,
        username: emu.info.user.username,
        password: emu.info.user.password,
        scope: `${GRAPH}/User.Read openid profile offline_access`,
      }),
    });
    const body = (await res.json()) as { refresh_token?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.refresh_token, "a refresh token");
    return body.refresh_token;
  }

  function publicApp(tenant?: string): PublicClientApplication {
    return new PublicClientApplication({
      auth: { clientId: emu.info.apps.public.clientId, ...msalAuthority(emu, tenant) },
    });
  }

  test("acquireTokenByRefreshToken, then silent calls from the cache", async () => {
    const tid = emu.info.partnerTenant.id;
    const pca = publicApp();
    const result = await pca.acquireTokenByRefreshToken({
      refreshToken: await rawRefreshToken(),
      scopes: [`${PARTNER_CENTER}/user_impersonation`],
      // Store the result although the account is new to this cache (MSAL's ADAL migration path).
      forceCache: true,
    });
    assert.ok(result, "a result");
    assert.equal(result.account?.username, emu.info.user.username);
    await verifyAccessToken(emu, result.accessToken, {
      aud: PARTNER_CENTER,
      tid,
      scp: ["user_impersonation"],
    });

    // The cache, serialized as an app would persist it, holds the (rotated) refresh token…
    const serialized = JSON.parse(await pca.getTokenCache().serialize()) as {
      RefreshToken: Record<string, { secret: string }>;
    };
    assert.equal(Object.keys(serialized.RefreshToken).length, 1);

    // …and another application instance, loading it, renews silently.
    const other = publicApp();
    other.getTokenCache().deserialize(JSON.stringify(serialized));
    const [account] = await other.getTokenCache().getAllAccounts();
    assert.ok(account, "the account came along with the cache");
    const before = refreshGrants().length;
    const graph = await other.acquireTokenSilent({ account, scopes: [`${GRAPH}/User.Read`] });
    assert.equal(refreshGrants().length, before + 1, "one refresh_token grant");
    await verifyAccessToken(emu, graph.accessToken, { aud: GRAPH, tid, scp: ["User.Read"] });
  });

  test("a partner's refresh token at a customer's authority gives a token of that tenant", async () => {
    const customer = emu.info.customers[0]!;
    const pca = publicApp(customer.id);
    const result = await pca.acquireTokenByRefreshToken({
      refreshToken: await rawRefreshToken(),
      scopes: [`${GRAPH}/Directory.Read.All`],
    });
    assert.ok(result);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: GRAPH,
      tid: customer.id,
      scp: ["Directory.Read.All"],
    });
    // A guest of the customer's tenant, authenticated by its home (partner) tenant.
    assert.equal(claims["idp"], `${emu.url}/${emu.info.partnerTenant.id}/`);
  });

  test("acquireTokenSilent with forceRefresh redeems the refresh token", async () => {
    const tid = emu.info.partnerTenant.id;
    const pca = publicApp();
    const first = await pca.acquireTokenByRefreshToken({
      refreshToken: await rawRefreshToken(),
      scopes: [`${GRAPH}/User.Read`],
      forceCache: true,
    });
    assert.ok(first?.account);

    let before = refreshGrants().length;
    const cached = await pca.acquireTokenSilent({
      account: first.account,
      scopes: [`${GRAPH}/User.Read`],
    });
    assert.equal(cached.accessToken, first.accessToken, "served from the cache");
    assert.equal(refreshGrants().length, before);

    before = refreshGrants().length;
    const forced = await pca.acquireTokenSilent({
      account: first.account,
      scopes: [`${GRAPH}/User.Read`],
      forceRefresh: true,
    });
    assert.equal(refreshGrants().length, before + 1);
    assert.notEqual(forced.accessToken, first.accessToken);
    await verifyAccessToken(emu, forced.accessToken, { aud: GRAPH, tid, scp: ["User.Read"] });
  });

  test("acquireTokenSilent renews an expired access token", async (t) => {
    const tid = emu.info.partnerTenant.id;
    const pca = publicApp();
    const first = await pca.acquireTokenByRefreshToken({
      refreshToken: await rawRefreshToken(),
      scopes: [`${GRAPH}/User.Read`],
      forceCache: true,
    });
    assert.ok(first?.account);
    const firstExp = decodeJwt(first.accessToken).exp!;

    // Two hours pass on the emulator: the token it issued has expired by its clock…
    const emulatorNow = new Date(emu.advanceClock(7200));
    assert.ok(emulatorNow.getTime() / 1000 > firstExp);
    await assert.rejects(
      verifyAccessToken(emu, first.accessToken, { aud: GRAPH, tid }, emulatorNow),
      (e: { code?: string }) => e.code === "ERR_JWT_EXPIRED",
    );

    // …and on MSAL's, which is this process's Date (advanceClock moves only the emulator's).
    // Mocking Date moves the emulator's clock too (it is real time plus its offset): it stays
    // two hours ahead of MSAL's, as a resource server's clock might be.
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() + 7200_000 });
    const before = refreshGrants().length;
    const renewed = await pca.acquireTokenSilent({
      account: first.account,
      scopes: [`${GRAPH}/User.Read`],
    });
    assert.equal(refreshGrants().length, before + 1, "renewed with the refresh token");
    assert.notEqual(renewed.accessToken, first.accessToken);
    assert.ok(renewed.expiresOn && renewed.expiresOn.getTime() > Date.now());
    const claims = await verifyAccessToken(
      emu,
      renewed.accessToken,
      { aud: GRAPH, tid, scp: ["User.Read"] },
      new Date(emu.advanceClock(0)),
    );
    assert.ok(claims.exp! > firstExp + 7200);
  });
});
