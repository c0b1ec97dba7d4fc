import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByAuthorizationCode,
  newPartnerAccessToken,
  PartnerTokenError,
  ServerError,
} from "../../src/index.ts";
import {
  followingBrowser,
  GRAPH,
  PARTNER_CENTER,
  rawRequest,
  startEmulatorWithBase,
  verifyAccessToken,
  type EmulatorBase,
} from "./helpers.ts";

const COMPLETE =
  "Authentication complete. You can return to the application. Feel free to close this browser tab.";

describe("authorization code + PKCE through the loopback redirect", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase());
  });
  after(() => emu.close());

  test("public client (User set): PKCE S256, state, nonce, prompt=login; id token verified; refresh token returned", async () => {
    const seen: { url?: string; page?: string } = {};
    const logged: string[] = [];
    const result = await newPartnerAccessToken(
      { ...base, applicationId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      { log: (line) => logged.push(line), openBrowser: followingBrowser(emu, seen) },
    );
    const url = new URL(seen.url!);
    assert.equal(url.pathname, "/organizations/oauth2/v2.0/authorize");
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.match(url.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.ok(url.searchParams.get("state") && url.searchParams.get("nonce"));
    assert.equal(url.searchParams.get("prompt"), "login");
    assert.match(url.searchParams.get("redirect_uri") ?? "", /^http:\/\/localhost:(8[4-9]\d\d)\/$/);
    assert.deepEqual(url.searchParams.get("scope")?.split(" "), [
      GRAPH,
      "openid",
      "profile",
      "offline_access",
    ]);
    assert.ok(
      logged.some((line) => line.includes("Opening your browser") && line.includes(seen.url!)),
    );
    assert.ok(seen.page?.includes(COMPLETE));

    const partner = emu.info.partnerTenant.id;
    const claims = await verifyAccessToken(emu, result.accessToken, partner);
    assert.equal(claims.aud, "https://graph.microsoft.com");
    assert.equal(claims.tid, partner);
    assert.ok(result.refreshToken, "refresh token returned");
    assert.ok(result.idToken);
    assert.equal(result.account?.username, emu.info.user.username);
    assert.equal(result.account?.environment, new URL(emu.url).host);
    assert.equal(result.account?.homeAccountId.identifier, `${claims.oid}.${partner}`);
    assert.equal(result.uniqueId, claims.oid);
    assert.equal(result.tenantId, partner);
    assert.ok(result.scopes.includes("offline_access"));
  });

  test("App + User (ServicePrincipal set + UseAuthorizationCode): redeemed with the secret", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    emu.clearRequests();
    const result = await newPartnerAccessToken(
      {
        ...base,
        applicationId: clientId,
        credential: { userName: clientId, password: clientSecret },
        scopes: [PARTNER_CENTER],
        tenant: emu.info.partnerTenant.domain,
        servicePrincipal: true,
        useAuthorizationCode: true,
      },
      { openBrowser: followingBrowser(emu) },
    );
    const claims = await verifyAccessToken(emu, result.accessToken, emu.info.partnerTenant.id);
    assert.equal(claims.aud, "https://api.partnercenter.microsoft.com");
    assert.equal(claims.appid, clientId);
    assert.ok(result.refreshToken);
    const tokenCall = emu
      .requests()
      .find((entry) => JSON.stringify(entry).includes("authorization_code"));
    assert.ok(tokenCall, "the token request is in the emulator's log");
  });

  test("takes the next port when 8400 is busy", async () => {
    const blocker: Server = createServer();
    const busy = await new Promise<boolean>((resolve) => {
      blocker.once("error", () => resolve(false));
      blocker.listen(8400, "127.0.0.1", () => resolve(true));
    });
    try {
      const seen: { url?: string } = {};
      await acquireTokenByAuthorizationCode(
        { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
        { openBrowser: followingBrowser(emu, seen) },
      );
      const port = Number(new URL(new URL(seen.url!).searchParams.get("redirect_uri")!).port);
      if (busy) assert.ok(port > 8400);
    } finally {
      blocker.close();
    }
  });

  test("a callback with the wrong state is refused, and the browser sees the failure page", async () => {
    let pageLoaded: Promise<string> | undefined;
    const err = await acquireTokenByAuthorizationCode(
      { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      {
        openBrowser: async (url) => {
          const redirect = new URL(url).searchParams.get("redirect_uri")!;
          pageLoaded = rawRequest(emu, `${redirect}?code=forged&state=not-the-one`).then(
            (res) => res.body,
          );
        },
      },
    ).catch((e: unknown) => e);
    const page = await pageLoaded!;
    assert.ok(err instanceof PartnerTokenError);
    assert.equal(err.code, "ERR_STATE_MISMATCH");
    assert.match(page, /Authentication failed/);
    assert.match(page, /state_mismatch/);
  });

  test("an error redirect becomes a ServerError, and the browser shows the error and its description", async () => {
    let pageLoaded: Promise<string> | undefined;
    const err = await acquireTokenByAuthorizationCode(
      { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      {
        openBrowser: async (url) => {
          const params = new URL(url).searchParams;
          const redirect = new URL(params.get("redirect_uri")!);
          redirect.searchParams.set("error", "access_denied");
          redirect.searchParams.set(
            "error_description",
            "AADSTS65004: User declined to consent to access the app.",
          );
          redirect.searchParams.set("state", params.get("state")!);
          // a favicon request first must not count as the callback
          pageLoaded = rawRequest(emu, new URL("/favicon.ico", redirect).href)
            .then(() => rawRequest(emu, redirect.href))
            .then((res) => res.body);
        },
      },
    ).catch((e: unknown) => e);
    const page = await pageLoaded!;
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.error, "access_denied");
    assert.equal(err.aadsts, 65004);
    assert.match(page, /Authentication failed/);
    assert.match(page, /access_denied/);
    assert.match(page, /User declined to consent/);
  });

  test("a cancelled sign-in closes the listener and throws CancelledError (exit code 130)", async () => {
    const controller = new AbortController();
    let redirect = "";
    const err = await acquireTokenByAuthorizationCode(
      { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
      {
        signal: controller.signal,
        openBrowser: async (url) => {
          redirect = new URL(url).searchParams.get("redirect_uri")!;
          setTimeout(() => controller.abort(), 50);
        },
      },
    ).catch((e: unknown) => e);
    assert.equal((err as PartnerTokenError).exitCode, 130);
    await assert.rejects(rawRequest(emu, redirect), /ECONNREFUSED/);
  });
});
