/**
 * @azure/msal-node's ConfidentialClientApplication, unmodified, through the authorization code
 * flow with PKCE: getAuthCodeUrl → the emulator's authorize endpoint (--auto-approve signs the
 * default user in) → its redirect to a loopback listener of ours → acquireTokenByCode.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfidentialClientApplication, CryptoProvider } from "@azure/msal-node";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  GRAPH,
  loopbackListener,
  msalAuthority,
  startTestEmulator,
  verifyAccessToken,
  verifyIdToken,
} from "./helpers.ts";

describe("msal-node confidential authorization code with a loopback listener", () => {
  let emu: RunningEmulator;
  let listener: Awaited<ReturnType<typeof loopbackListener>> | undefined;
  before(async () => {
    emu = await startTestEmulator({ autoApprove: true });
  });
  after(async () => {
    await listener?.close();
    await emu?.close();
  });

  test("code with PKCE (S256), redeemed for access, id and refresh tokens", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tid = emu.info.partnerTenant.id;
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, ...msalAuthority(emu) },
    });
    listener = await loopbackListener();
    // Registered as http://localhost:8400/; Entra ignores the port of loopback redirect URIs.
    const redirectUri = `http://localhost:${listener.port}/`;
    const crypto = new CryptoProvider();
    const pkce = await crypto.generatePkceCodes();
    const state = crypto.createNewGuid();
    const nonce = crypto.createNewGuid();
    const scopes = [`${GRAPH}/User.Read`];

    const authUrl = await cca.getAuthCodeUrl({
      scopes,
      redirectUri,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: "S256",
      state,
      nonce,
    });
    assert.ok(authUrl.startsWith(`${emu.url}/${tid}/oauth2/v2.0/authorize?`), authUrl);

    // The browser's part: the authorize endpoint answers with a redirect to the loopback URI.
    const authorize = await fetch(authUrl, { redirect: "manual" });
    assert.equal(authorize.status, 302);
    const location = authorize.headers.get("location") ?? "";
    assert.ok(location.startsWith(redirectUri), `redirected to ${location}`);
    // 127.0.0.1 is where the listener is; `localhost` may resolve to ::1 first.
    const atListener = new URL(location);
    atListener.hostname = "127.0.0.1";
    const landed = await fetch(atListener);
    assert.equal(landed.status, 200);
    await landed.text();

    const { params } = await listener.received;
    assert.equal(params["state"], state);
    assert.ok(params["code"], `a code in ${JSON.stringify(params)}`);
    assert.equal(params["error"], undefined);

    const result = await cca.acquireTokenByCode(
      { code: params["code"], scopes, redirectUri, codeVerifier: pkce.verifier, state, nonce },
      // MSAL checks the response's state against the request's, and the id token's nonce.
      { code: params["code"], state: params["state"], client_info: params["client_info"] },
    );
    assert.equal(result.account?.username, emu.info.user.username);
    assert.equal(result.tenantId, tid);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: GRAPH,
      tid,
      scp: ["User.Read"],
    });
    assert.equal(claims["upn"], emu.info.user.username);
    assert.equal(claims["appidacr"], "1");
    await verifyIdToken(emu, result.idToken, {
      clientId,
      tid,
      username: emu.info.user.username,
      nonce,
    });

    // MSAL kept the refresh token: a silent call for another resource redeems it.
    const silent = await cca.acquireTokenSilent({
      account: result.account!,
      scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
    });
    await verifyAccessToken(emu, silent.accessToken, {
      aud: "https://api.partnercenter.microsoft.com",
      tid,
      scp: ["user_impersonation"],
    });
    assert.ok(
      emu.requests().some((r) => r.note["grant_type"] === "refresh_token" && r.status === 200),
      "the silent call used the refresh token",
    );
  });

  test("a code is single-use: MSAL surfaces AADSTS54005 on the second redemption", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, ...msalAuthority(emu) },
    });
    const redirectUri = "http://localhost:8400/";
    const scopes = [`${GRAPH}/User.Read`];
    const authUrl = await cca.getAuthCodeUrl({ scopes, redirectUri });
    const res = await fetch(authUrl, { redirect: "manual" });
    const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
    await cca.acquireTokenByCode({ code, scopes, redirectUri });
    await assert.rejects(cca.acquireTokenByCode({ code, scopes, redirectUri }), (e: any) => {
      assert.equal(e.errorCode, "invalid_grant");
      assert.match(e.errorMessage, /AADSTS54005/);
      return true;
    });
  });
});
