/** Every Entra error condition the emulator produces, from its real cause, with code and status. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { importPKCS8, SignJWT } from "jose";
import { Harness, aadsts, advance } from "./harness.ts";
import { defaultSeed } from "../../src/emulator/index.ts";

const GRAPH = "https://graph.microsoft.com";
let h: Harness;
let partner: string;

before(async () => {
  h = await Harness.start({
    autoApprove: true,
    seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } },
  });
  partner = h.info.partnerTenant.id;
});
after(() => h.close());

async function signInRefreshToken(
  scope = `openid profile offline_access ${GRAPH}/User.Read`,
  loginHint?: string,
) {
  const verifier = "v".repeat(50);
  const { createHash } = await import("node:crypto");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const redirect = await h.authorizeCode({
    client_id: h.info.apps.public.clientId,
    redirect_uri: "http://localhost:8455/",
    scope,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...(loginHint ? { login_hint: loginHint } : {}),
  });
  const code = redirect.searchParams.get("code")!;
  const res = await h.token("organizations", {
    client_id: h.info.apps.public.clientId,
    grant_type: "authorization_code",
    code,
    redirect_uri: "http://localhost:8455/",
    code_verifier: verifier,
    scope,
  });
  assert.equal(res.status, 200, res.text);
  return { code, refreshToken: String(res.json["refresh_token"]), verifier };
}

/** Seconds the tests moved the emulator's clock; assertions are signed for the emulator's "now". */
let moved = 0;
const now = () => Math.floor(Date.now() / 1000) + moved;
function move(seconds: number) {
  advance(h, seconds);
  moved += seconds;
}

async function assertion(overrides: { exp?: number; nbf?: number; aud?: string } = {}) {
  const cert = h.info.apps.certificate;
  const key = await importPKCS8(await readFile(cert.keyFile, "utf8"), "PS256");
  const t = now();
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({
      alg: "PS256",
      typ: "JWT",
      "x5t#S256": Buffer.from(cert.thumbprintSha256, "hex").toString("base64url"),
    })
    .setIssuer(cert.clientId)
    .setSubject(cert.clientId)
    .setAudience(overrides.aud ?? `${h.emu.url}/${partner}/oauth2/v2.0/token`)
    .setIssuedAt(t)
    .setNotBefore(overrides.nbf ?? t)
    .setExpirationTime(overrides.exp ?? t + 300)
    .sign(key);
}

describe("Entra errors", () => {
  test("AADSTS50011: the redirect URI is not registered (authorize shows the error, 400)", async () => {
    const q = new URLSearchParams({
      client_id: h.info.apps.confidential.clientId,
      response_type: "code",
      redirect_uri: "https://evil.example/callback",
      scope: `${GRAPH}/User.Read`,
    });
    const res = await h.fetch(`/${partner}/oauth2/v2.0/authorize?${q}`);
    assert.equal(res.status, 400);
    const text = res.text.replace(/&#39;/g, "'");
    assert.match(
      text,
      /AADSTS50011: The redirect URI 'https:\/\/evil\.example\/callback' specified in the request does not match/,
    );
  });

  test("AADSTS50011: a loopback redirect URI matches on any port but not on another path", async () => {
    const ok = await h.authorizeCode({
      client_id: h.info.apps.confidential.clientId,
      redirect_uri: "http://localhost:8999/",
      scope: `${GRAPH}/User.Read`,
    });
    assert.ok(ok.searchParams.get("code"));
    const q = new URLSearchParams({
      client_id: h.info.apps.confidential.clientId,
      response_type: "code",
      redirect_uri: "http://localhost:8400/other",
      scope: "openid",
    });
    const res = await h.fetch(`/${partner}/oauth2/v2.0/authorize?${q}`);
    assert.equal(res.status, 400);
    assert.match(res.text, /AADSTS50011/);
  });

  test("AADSTS7000215: wrong client secret, 401", async () => {
    const res = await h.token(partner, {
      ...h.confidential({ client_secret: "not-the-secret" }),
      grant_type: "client_credentials",
      scope: `${GRAPH}/.default`,
    });
    assert.equal(res.status, 401);
    assert.equal(res.json["error"], "invalid_client");
    assert.equal(aadsts(res.json), 7000215);
  });

  test("AADSTS700016: unknown application, and an application not installed in the tenant, 400", async () => {
    const unknown = await h.token(partner, {
      client_id: randomUUID(),
      client_secret: "x".repeat(10),
      grant_type: "client_credentials",
      scope: `${GRAPH}/.default`,
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json["error"], "unauthorized_client");
    assert.equal(aadsts(unknown.json), 700016);
    const notInstalled = await h.credentials("tailspin.onmicrosoft.com");
    assert.equal(notInstalled.status, 400);
    assert.equal(aadsts(notInstalled.json), 700016);
  });

  test("AADSTS90002: unknown tenant, 400 (token endpoint and discovery)", async () => {
    const res = await h.credentials("nosuchtenant.onmicrosoft.com");
    assert.equal(res.status, 400);
    assert.equal(aadsts(res.json), 90002);
    const discovery = await h.fetch(`/${randomUUID()}/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.status, 400);
    assert.equal(aadsts(discovery.json), 90002);
  });

  test("AADSTS50126: wrong password (ROPC), 400", async () => {
    const res = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "password",
      username: h.info.user.username,
      password: "wrong",
      scope: `${GRAPH}/User.Read`,
    });
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "invalid_grant");
    assert.equal(aadsts(res.json), 50126);
  });

  test("AADSTS50076: a user who requires MFA, by password, and by a refresh token from before MFA was required", async () => {
    const ropc = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "password",
      username: h.info.mfaUser!.username,
      password: h.info.mfaUser!.password,
      scope: `${GRAPH}/User.Read`,
    });
    assert.equal(ropc.status, 400);
    assert.equal(ropc.json["error"], "invalid_grant");
    assert.equal(ropc.json["suberror"], "basic_action");
    assert.equal(aadsts(ropc.json), 50076);

    const { refreshToken } = await signInRefreshToken(
      undefined,
      "sales@contoso-partner.onmicrosoft.com",
    );
    h.emu.setUser({ username: "sales@contoso-partner.onmicrosoft.com", mfaRequired: true });
    try {
      const res = await h.refresh(refreshToken, `${GRAPH}/User.Read`);
      assert.equal(res.status, 400);
      assert.equal(aadsts(res.json), 50076);
    } finally {
      h.emu.setUser({ username: "sales@contoso-partner.onmicrosoft.com", mfaRequired: false });
    }
  });

  test("AADSTS700082: a refresh token unused for longer than 90 days, 400", async () => {
    const { refreshToken } = await signInRefreshToken();
    // Used at day 89, a rotated token lives on; the first one is then 91 days old.
    move(89 * 86400);
    const used = await h.refresh(refreshToken, `${GRAPH}/User.Read`);
    assert.equal(used.status, 200, used.text);
    const rotated = String(used.json["refresh_token"]);
    assert.notEqual(rotated, refreshToken);
    move(2 * 86400);
    const res = await h.refresh(refreshToken, `${GRAPH}/User.Read`);
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "invalid_grant");
    assert.equal(aadsts(res.json), 700082);
    assert.match(String(res.json["error_description"]), /inactive for 90\.00:00:00/);
    const stillGood = await h.refresh(rotated, `${GRAPH}/User.Read`);
    assert.equal(stillGood.status, 200, stillGood.text);
  });

  test("AADSTS7000218: device code with a confidential app and no secret, 401", async () => {
    const dc = await h.fetch(`/${partner}/oauth2/v2.0/devicecode`, {
      form: {
        client_id: h.info.apps.confidential.clientId,
        scope: `openid offline_access ${GRAPH}/User.Read`,
      },
    });
    assert.equal(dc.status, 200);
    const res = await h.token(partner, {
      client_id: h.info.apps.confidential.clientId,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: String(dc.json["device_code"]),
    });
    assert.equal(res.status, 401);
    assert.equal(res.json["error"], "invalid_client");
    assert.equal(aadsts(res.json), 7000218);
  });

  test("AADSTS54005: an authorization code redeemed twice, 400", async () => {
    const verifier = "w".repeat(60);
    const { createHash } = await import("node:crypto");
    const redirect = await h.authorizeCode({
      client_id: h.info.apps.confidential.clientId,
      scope: `openid offline_access ${GRAPH}/User.Read`,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
    });
    const form = {
      ...h.confidential(),
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code")!,
      redirect_uri: "http://localhost:8400/",
      code_verifier: verifier,
    };
    assert.equal((await h.token(partner, form)).status, 200);
    const again = await h.token(partner, form);
    assert.equal(again.status, 400);
    assert.equal(again.json["error"], "invalid_grant");
    assert.equal(aadsts(again.json), 54005);
  });

  test("AADSTS501481: a PKCE verifier that does not match, 400", async () => {
    const { createHash } = await import("node:crypto");
    const redirect = await h.authorizeCode({
      client_id: h.info.apps.public.clientId,
      scope: `${GRAPH}/User.Read`,
      code_challenge: createHash("sha256").update("right".repeat(10)).digest("base64url"),
      code_challenge_method: "S256",
    });
    const res = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "authorization_code",
      code: redirect.searchParams.get("code")!,
      redirect_uri: "http://localhost:8400/",
      code_verifier: "wrong".repeat(10),
    });
    assert.equal(res.status, 400);
    assert.equal(aadsts(res.json), 501481);
  });

  test("AADSTS700024: a client assertion outside its valid time range (beyond the clock tolerance), 401", async () => {
    const t = now();
    const base = {
      client_id: h.info.apps.certificate.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      grant_type: "client_credentials",
      scope: `${GRAPH}/.default`,
    };
    const expired = await h.token(partner, {
      ...base,
      client_assertion: await assertion({ nbf: t - 3600, exp: t - 600 }),
    });
    assert.equal(expired.status, 401);
    assert.equal(expired.json["error"], "invalid_client");
    assert.equal(aadsts(expired.json), 700024);
    const future = await h.token(partner, {
      ...base,
      client_assertion: await assertion({ nbf: t + 900, exp: t + 1200 }),
    });
    assert.equal(future.status, 401);
    assert.equal(aadsts(future.json), 700024);
    // Within the 5-minute tolerance: accepted.
    const skewed = await h.token(partner, {
      ...base,
      client_assertion: await assertion({ nbf: t + 120, exp: t + 400 }),
    });
    assert.equal(skewed.status, 200, skewed.text);
  });

  test("AADSTS65001: a delegated scope the app was not granted, 400", async () => {
    const { refreshToken } = await signInRefreshToken();
    const res = await h.refresh(refreshToken, `${GRAPH}/Mail.Read`);
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "invalid_grant");
    assert.equal(res.json["suberror"], "consent_required");
    assert.equal(aadsts(res.json), 65001);
  });

  test("client credentials need a tenant and a /.default scope", async () => {
    const orgs = await h.credentials("organizations");
    assert.equal(orgs.status, 400);
    assert.equal(aadsts(orgs.json), 900023);
    const scoped = await h.token(partner, {
      ...h.confidential(),
      grant_type: "client_credentials",
      scope: `${GRAPH}/User.Read`,
    });
    assert.equal(scoped.status, 400);
    assert.equal(scoped.json["error"], "invalid_scope");
    assert.equal(aadsts(scoped.json), 1002012);
  });

  test("a public client presenting a secret is refused (AADSTS700025, 401)", async () => {
    const res = await h.token(partner, {
      client_id: h.info.apps.public.clientId,
      client_secret: "secret-value",
      grant_type: "client_credentials",
      scope: `${GRAPH}/.default`,
    });
    assert.equal(res.status, 401);
    assert.equal(aadsts(res.json), 700025);
  });

  test("a revoked refresh token: invalid_grant AADSTS50173", async () => {
    const { refreshToken } = await signInRefreshToken();
    assert.equal(h.emu.revoke({ refreshToken }), 1);
    const res = await h.refresh(refreshToken, `${GRAPH}/User.Read`);
    assert.equal(res.status, 400);
    assert.equal(aadsts(res.json), 50173);
  });
});

describe("device code states", () => {
  async function start(clientId = h.info.apps.public.clientId) {
    const dc = await h.fetch(`/organizations/oauth2/v2.0/devicecode`, {
      form: { client_id: clientId, scope: `openid offline_access ${GRAPH}/User.Read` },
    });
    assert.equal(dc.status, 200);
    return dc.json as {
      device_code: string;
      user_code: string;
      interval: number;
      message: string;
      verification_uri: string;
    };
  }
  const poll = (deviceCode: string, grant = "urn:ietf:params:oauth:grant-type:device_code") =>
    h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: grant,
      device_code: deviceCode,
    });

  test("authorization_pending (AADSTS70016), then slow_down when polled too fast, then tokens", async () => {
    const dc = await start();
    assert.match(
      dc.message,
      new RegExp(
        `open the page ${dc.verification_uri.replace(/[.]/g, "\\.")} and enter the code ${dc.user_code}`,
      ),
    );
    const first = await poll(dc.device_code);
    assert.equal(first.status, 400);
    assert.equal(first.json["error"], "authorization_pending");
    assert.equal(aadsts(first.json), 70016);
    const tooFast = await poll(dc.device_code);
    assert.equal(tooFast.status, 400);
    assert.equal(tooFast.json["error"], "slow_down");
    await new Promise((r) => setTimeout(r, 6200));
    // MSAL's short grant name is accepted too.
    const done = await poll(dc.device_code, "device_code");
    assert.equal(done.status, 200, done.text);
    assert.ok(done.json["refresh_token"]);
    await h.verify(String(done.json["access_token"]));
  });

  test("expired_token after the code's lifetime (AADSTS70020)", async () => {
    const dc = await start();
    move(16 * 60);
    const res = await poll(dc.device_code);
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "expired_token");
    assert.equal(aadsts(res.json), 70020);
  });

  test("authorization_declined when the user denies", async () => {
    const dc = await start();
    h.emu.approveDeviceCode({ userCode: dc.user_code, deny: true });
    const res = await poll(dc.device_code);
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "authorization_declined");
    assert.equal(aadsts(res.json), 70000);
  });

  test("bad_verification_code for an unknown device code", async () => {
    const res = await poll("DAQnot-a-real-code");
    assert.equal(res.status, 400);
    assert.equal(res.json["error"], "bad_verification_code");
    aadsts(res.json);
  });
});
