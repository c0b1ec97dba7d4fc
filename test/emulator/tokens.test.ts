/** Every kind of token the emulator issues verifies against its JWKS and carries Entra's claims. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { decodeProtectedHeader, importPKCS8, SignJWT } from "jose";
import { Harness, aadsts } from "./harness.ts";

const GRAPH = "https://graph.microsoft.com";
const PC = "https://api.partnercenter.microsoft.com";
let h: Harness;
let partner: string;

before(async () => {
  h = await Harness.start({ autoApprove: true });
  partner = h.info.partnerTenant.id;
});
after(() => h.close());

async function certificateAssertion(
  alg: "PS256" | "RS256",
  header: "x5t" | "x5t#S256",
  tenant = partner,
) {
  const cert = h.info.apps.certificate;
  const key = await importPKCS8(await readFile(cert.keyFile, "utf8"), alg);
  const print = header === "x5t" ? cert.thumbprint : cert.thumbprintSha256;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({
      alg,
      typ: "JWT",
      [header]: Buffer.from(print, "hex").toString("base64url"),
    })
    .setIssuer(cert.clientId)
    .setSubject(cert.clientId)
    .setAudience(`${h.emu.url}/${tenant}/oauth2/v2.0/token`)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .sign(key);
}

async function userTokens(scope: string, extra: Record<string, string> = {}) {
  const verifier = randomUUID() + randomUUID();
  const redirect = await h.authorizeCode({
    client_id: h.info.apps.public.clientId,
    scope,
    nonce: "n-0S6_WzA2Mj",
    state: "st-123",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    ...extra,
  });
  assert.equal(redirect.searchParams.get("state"), "st-123");
  const res = await h.token("organizations", {
    client_id: h.info.apps.public.clientId,
    grant_type: "authorization_code",
    code: redirect.searchParams.get("code")!,
    redirect_uri: "http://localhost:8400/",
    code_verifier: verifier,
    scope,
    client_info: "1",
  });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe("tokens", () => {
  test("discovery: tenant-specific issuer, {tenantid} for organizations, device endpoint, JWKS with kid", async () => {
    const d = await h.fetch(
      `/contoso-partner.onmicrosoft.com/v2.0/.well-known/openid-configuration`,
    );
    assert.equal(d.json["issuer"], `${h.emu.url}/${partner}/v2.0`);
    assert.equal(
      d.json["device_authorization_endpoint"],
      `${h.emu.url}/${partner}/oauth2/v2.0/devicecode`,
    );
    const o = await h.fetch(`/organizations/v2.0/.well-known/openid-configuration`);
    assert.equal(o.json["issuer"], `${h.emu.url}/{tenantid}/v2.0`);
    assert.equal(o.json["token_endpoint"], `${h.emu.url}/organizations/oauth2/v2.0/token`);
    const keys = await h.fetch(String(d.json["jwks_uri"]));
    assert.equal(keys.json["keys"][0]["kty"], "RSA");
    assert.ok(keys.json["keys"][0]["kid"]);
    const instance = await h.fetch(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${h.emu.url}/common/oauth2/v2.0/authorize`)}`,
    );
    // As Entra answers: the discovery document of the tenant the authorize URL names.
    assert.equal(
      instance.json["tenant_discovery_endpoint"],
      `${h.emu.url}/common/v2.0/.well-known/openid-configuration`,
    );
    const foreign = await h.fetch(
      `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent("https://login.example.org/common/oauth2/v2.0/authorize")}`,
    );
    assert.equal(foreign.status, 400);
    assert.equal(foreign.json["error"], "invalid_instance");
    assert.equal(aadsts(foreign.json), 50049);
  });

  test("client credentials with a secret in the body: a v1 app-only token with roles", async () => {
    const res = await h.credentials(partner);
    assert.equal(res.status, 200);
    assert.equal(res.json["token_type"], "Bearer");
    assert.equal(res.json["expires_in"], 3600);
    assert.equal(res.json["ext_expires_in"], 7200);
    assert.equal(res.json["refresh_token"], undefined);
    const header = decodeProtectedHeader(String(res.json["access_token"]));
    assert.equal(header.alg, "RS256");
    assert.ok(header.kid);
    const c = await h.verify(String(res.json["access_token"]));
    assert.equal(c.aud, GRAPH);
    assert.equal(c.iss, `${h.emu.url}/${partner}/`);
    assert.equal(c["tid"], partner);
    assert.equal(c["appid"], h.info.apps.confidential.clientId);
    assert.equal(c["appidacr"], "1");
    assert.equal(c["ver"], "1.0");
    assert.equal(c["idtyp"], "app");
    assert.deepEqual(c["roles"], ["Directory.Read.All", "Organization.Read.All"]);
    assert.equal(c["scp"], undefined);
    for (const k of ["iat", "nbf", "exp", "oid", "sub", "uti"]) assert.ok(c[k], k);
  });

  test("client credentials with a secret in an HTTP Basic header", async () => {
    const { clientId, clientSecret } = h.info.apps.confidential;
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString("base64");
    const res = await h.fetch(`/${partner}/oauth2/v2.0/token`, {
      form: { grant_type: "client_credentials", scope: `${PC}/.default` },
      headers: { authorization: `Basic ${basic}` },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal((await h.verify(String(res.json["access_token"]))).aud, PC);
  });

  for (const [alg, header] of [
    ["PS256", "x5t#S256"],
    ["RS256", "x5t"],
    ["RS256", "x5t#S256"],
    ["PS256", "x5t"],
  ] as const) {
    test(`client credentials with a certificate assertion signed ${alg} naming the certificate by ${header}`, async () => {
      const res = await h.token(partner, {
        client_id: h.info.apps.certificate.clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: await certificateAssertion(alg, header),
        grant_type: "client_credentials",
        scope: `${GRAPH}/.default`,
      });
      assert.equal(res.status, 200, res.text);
      const c = await h.verify(String(res.json["access_token"]));
      assert.equal(c["appidacr"], "2");
      assert.equal(c["appid"], h.info.apps.certificate.clientId);
    });
  }

  test("authorization code + PKCE: access token, id token with nonce, client_info, refresh token", async () => {
    const body = await userTokens(`openid profile offline_access ${PC}/user_impersonation`);
    assert.equal(body["scope"], `${PC}/user_impersonation openid profile offline_access`);
    const at = await h.verify(String(body["access_token"]));
    assert.equal(at.aud, PC);
    assert.equal(at["scp"], "user_impersonation");
    assert.equal(at["upn"], h.info.user.username);
    assert.equal(at["appidacr"], "0");
    assert.deepEqual(at["amr"], ["pwd"]);
    const id = await h.verify(String(body["id_token"]));
    assert.equal(id.aud, h.info.apps.public.clientId);
    assert.equal(id.iss, `${h.emu.url}/${partner}/v2.0`);
    assert.equal(id["nonce"], "n-0S6_WzA2Mj");
    assert.equal(id["preferred_username"], h.info.user.username);
    assert.equal(id["name"], "Contoso Partner Admin");
    assert.equal(id["ver"], "2.0");
    const info = JSON.parse(Buffer.from(String(body["client_info"]), "base64url").toString());
    assert.deepEqual(info, { uid: at["oid"], utid: partner });
    assert.match(String(body["refresh_token"]), /^1\.AQ[\w-]{200,}$/);
  });

  test("refresh tokens rotate on every use, and work for a customer tenant (partner access)", async () => {
    const first = await userTokens(`openid offline_access ${GRAPH}/User.Read`);
    const rt1 = String(first["refresh_token"]);
    const second = await h.refresh(rt1, `${PC}/user_impersonation offline_access`);
    assert.equal(second.status, 200, second.text);
    const rt2 = String(second.json["refresh_token"]);
    assert.notEqual(rt2, rt1);
    assert.equal((await h.verify(String(second.json["access_token"]))).aud, PC);
    const customer = h.info.customers[0]!;
    const third = await h.token(customer.domain, {
      client_id: h.info.apps.public.clientId,
      grant_type: "refresh_token",
      refresh_token: rt2,
      scope: `${GRAPH}/.default`,
    });
    assert.equal(third.status, 200, third.text);
    const c = await h.verify(String(third.json["access_token"]), customer.id);
    assert.equal(c["tid"], customer.id);
    assert.equal(c.iss, `${h.emu.url}/${customer.id}/`);
    assert.equal(c["idp"], `${h.emu.url}/${partner}/`);
    assert.equal(c["scp"], "User.Read Directory.Read.All Directory.AccessAsUser.All");
    assert.notEqual(third.json["refresh_token"], rt2);
    const unrelated = await h.token("tailspin.onmicrosoft.com", {
      client_id: h.info.apps.public.clientId,
      grant_type: "refresh_token",
      refresh_token: rt2,
      scope: `${GRAPH}/.default`,
    });
    assert.equal(unrelated.status, 400);
  });

  test("the v1 token endpoint with resource=", async () => {
    const res = await h.fetch(`/${partner}/oauth2/token`, {
      form: { ...h.confidential(), grant_type: "client_credentials", resource: PC },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json["resource"], PC);
    assert.equal(typeof res.json["expires_on"], "string");
    assert.equal((await h.verify(String(res.json["access_token"]))).aud, PC);
  });

  test("form_post response mode posts the code and state to the redirect URI", async () => {
    const q = new URLSearchParams({
      client_id: h.info.apps.public.clientId,
      response_type: "code",
      redirect_uri: "http://localhost:8400/",
      response_mode: "form_post",
      scope: "openid",
      state: "xyz",
    });
    const res = await h.fetch(`/organizations/oauth2/v2.0/authorize?${q}`);
    assert.equal(res.status, 200);
    assert.match(
      res.text,
      /<form method="POST" name="hiddenform" action="http:\/\/localhost:8400\/">/,
    );
    assert.match(res.text, /name="code" value="1\.AQ/);
    assert.match(res.text, /name="state" value="xyz"/);
  });

  test("password grant for a user without MFA", async () => {
    const res = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "password",
      username: h.info.user.username,
      password: h.info.user.password,
      scope: `openid offline_access ${GRAPH}/User.Read`,
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json["refresh_token"]);
    await h.verify(String(res.json["id_token"]));
  });

  test("tokens survive a restart: the signing key is kept in the data folder", async () => {
    const res = await h.credentials(partner);
    const second = await Harness.start({
      dataDir: new URL(`file://${h.info.caFile}`).pathname.replace(/\/ca\.pem$/, ""),
    });
    try {
      const keys1 = await h.fetch(`/${partner}/discovery/v2.0/keys`);
      const keys2 = await second.fetch(`/${partner}/discovery/v2.0/keys`);
      assert.deepEqual(keys2.json, keys1.json);
      assert.equal(second.info.caFile, h.info.caFile);
      await second.verify(String(res.json["access_token"]));
    } finally {
      await second.close();
    }
  });
});
