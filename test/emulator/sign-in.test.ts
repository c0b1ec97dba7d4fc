/**
 * The sign-in pages a person sees, driven over HTTP as a browser would post them: password,
 * MFA, wrong values, and the device login page (approve and deny). The Chromium-driven runs are
 * in test/interop and test/cli.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness, aadsts } from "./harness.ts";
import { defaultSeed } from "../../src/emulator/index.ts";

const GRAPH = "https://graph.microsoft.com";
let h: Harness;

before(async () => {
  h = await Harness.start({ seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 0 } } });
});
after(() => h.close());

function field(html: string, name: string): string {
  const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html);
  assert.ok(m, `no field ${name} in page`);
  return m[1]!;
}
function action(html: string): string {
  const m = /<form method="post" action="([^"]+)"/.exec(html);
  assert.ok(m, "no form in page");
  return m[1]!;
}

async function startAuthorize(extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    client_id: h.info.apps.confidential.clientId,
    response_type: "code",
    redirect_uri: "http://localhost:8400/",
    scope: `openid offline_access ${GRAPH}/User.Read`,
    state: "s1",
    prompt: "login",
    ...extra,
  });
  const page = await h.fetch(`/organizations/oauth2/v2.0/authorize?${q}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Sign in<\/h1>/);
  assert.match(page.text, /Contoso Partner Automation/);
  return page.text;
}

describe("sign-in pages", () => {
  test("password sign-in: a wrong password shows AADSTS50126 on the page, the right one redirects with a code", async () => {
    const page = await startAuthorize({ login_hint: h.info.user.username });
    assert.equal(field(page, "username"), h.info.user.username);
    const flow = field(page, "flow");
    const wrong = await h.fetch(action(page), {
      form: { flow, username: h.info.user.username, password: "nope" },
    });
    assert.equal(wrong.status, 200);
    assert.match(
      wrong.text,
      /AADSTS50126: Error validating credentials due to invalid username or password\./,
    );
    const right = await h.fetch(action(page), {
      form: { flow, username: h.info.user.username, password: h.info.user.password },
    });
    assert.equal(right.status, 302);
    const location = new URL(String(right.headers["location"]));
    assert.equal(location.origin + location.pathname, "http://localhost:8400/");
    assert.equal(location.searchParams.get("state"), "s1");
    const res = await h.token("organizations", {
      ...h.confidential(),
      grant_type: "authorization_code",
      code: location.searchParams.get("code")!,
      redirect_uri: "http://localhost:8400/",
    });
    assert.equal(res.status, 200, res.text);
    const claims = await h.verify(String(res.json["access_token"]));
    assert.equal(claims["upn"], h.info.user.username);
    assert.deepEqual(claims["amr"], ["pwd"]);
  });

  test("single sign-on: the session cookie skips the form, unless prompt=login; prompt=none without it fails", async () => {
    const page = await startAuthorize({ prompt: "select_account" });
    const signedIn = await h.fetch(action(page), {
      form: {
        flow: field(page, "flow"),
        username: h.info.user.username,
        password: h.info.user.password,
      },
    });
    assert.equal(signedIn.status, 302);
    const cookie = String(signedIn.headers["set-cookie"]).split(";")[0]!;
    assert.match(cookie, /^ESTSAUTH=/);
    assert.match(String(signedIn.headers["set-cookie"]), /HttpOnly; SameSite=None; Secure/);
    const q = (prompt?: string) =>
      new URLSearchParams({
        client_id: h.info.apps.confidential.clientId,
        response_type: "code",
        redirect_uri: "http://localhost:8400/",
        scope: `${GRAPH}/User.Read`,
        ...(prompt ? { prompt } : {}),
      });
    const sso = await h.fetch(`/organizations/oauth2/v2.0/authorize?${q()}`, {
      headers: { cookie },
    });
    assert.equal(sso.status, 302);
    assert.ok(new URL(String(sso.headers["location"])).searchParams.get("code"));
    const forced = await h.fetch(`/organizations/oauth2/v2.0/authorize?${q("login")}`, {
      headers: { cookie },
    });
    assert.equal(forced.status, 200);
    assert.match(forced.text, /<h1>Sign in<\/h1>/);
    const silent = await h.fetch(`/organizations/oauth2/v2.0/authorize?${q("none")}`);
    assert.equal(silent.status, 302);
    assert.equal(
      new URL(String(silent.headers["location"])).searchParams.get("error"),
      "login_required",
    );
  });

  test("a user who requires MFA gets the code step; a wrong code is refused; the token says amr mfa", async () => {
    const mfa = h.info.mfaUser!;
    const page = await startAuthorize();
    const flow = field(page, "flow");
    const second = await h.fetch(action(page), {
      form: { flow, username: mfa.username, password: mfa.password },
    });
    assert.match(second.text, /multi-factor authentication/);
    const wrong = await h.fetch(action(second.text), { form: { flow, otc: "000000" } });
    assert.match(wrong.text, /AADSTS50181/);
    const right = await h.fetch(action(second.text), { form: { flow, otc: mfa.mfaCode } });
    assert.equal(right.status, 302);
    const code = new URL(String(right.headers["location"])).searchParams.get("code")!;
    const res = await h.token("organizations", {
      ...h.confidential(),
      grant_type: "authorization_code",
      code,
      redirect_uri: "http://localhost:8400/",
    });
    const claims = await h.verify(String(res.json["access_token"]));
    assert.deepEqual(claims["amr"], ["pwd", "mfa"]);
    // That refresh token carries MFA, so it keeps working for the MFA user.
    const refreshed = await h.token("organizations", {
      ...h.confidential(),
      grant_type: "refresh_token",
      refresh_token: String(res.json["refresh_token"]),
      scope: `${GRAPH}/User.Read`,
    });
    assert.equal(refreshed.status, 200, refreshed.text);
  });

  test("a partner agent signs in to a customer tenant; a customer's user cannot sign in to the partner", async () => {
    const customer = h.info.customers[1]!;
    const q = new URLSearchParams({
      client_id: h.info.apps.confidential.clientId,
      response_type: "code",
      redirect_uri: "http://localhost:8400/",
      scope: `${GRAPH}/User.Read`,
    });
    const page = (await h.fetch(`/${customer.domain}/oauth2/v2.0/authorize?${q}`)).text;
    const ok = await h.fetch(action(page), {
      form: {
        flow: field(page, "flow"),
        username: h.info.user.username,
        password: h.info.user.password,
      },
    });
    assert.equal(ok.status, 302);
    assert.ok(new URL(String(ok.headers["location"])).searchParams.get("code"));

    const partnerPage = (await h.fetch(`/${h.info.partnerTenant.id}/oauth2/v2.0/authorize?${q}`))
      .text;
    const refused = await h.fetch(action(partnerPage), {
      form: {
        flow: field(partnerPage, "flow"),
        username: "admin@fabrikam.onmicrosoft.com",
        password: "Emulator-Fabrikam-Passw0rd!",
      },
    });
    assert.equal(refused.status, 302);
    const location = new URL(String(refused.headers["location"]));
    assert.equal(location.searchParams.get("error"), "invalid_grant");
    assert.match(location.searchParams.get("error_description")!, /^AADSTS50020:/);
  });

  test("device login page: enter the code, sign in, approve; then the poll returns tokens", async () => {
    const dc = await h.fetch("/organizations/oauth2/v2.0/devicecode", {
      form: {
        client_id: h.info.apps.public.clientId,
        scope: `openid offline_access ${GRAPH}/User.Read`,
      },
    });
    const userCode = String(dc.json["user_code"]);
    const poll = () =>
      h.token("organizations", {
        client_id: h.info.apps.public.clientId,
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: String(dc.json["device_code"]),
      });
    assert.equal((await poll()).json["error"], "authorization_pending");
    const enter = await h.fetch(String(dc.json["verification_uri"]));
    assert.match(enter.text, /Enter code/);
    const wrongCode = await h.fetch("/devicelogin", { form: { user_code: "NOTACODE1" } });
    assert.match(wrongCode.text, /didn&#39;t work/);
    const signIn = await h.fetch("/devicelogin", { form: { user_code: userCode.toLowerCase() } });
    assert.match(signIn.text, /Contoso Partner CLI/);
    const done = await h.fetch(action(signIn.text), {
      form: {
        flow: field(signIn.text, "flow"),
        username: h.info.user.username,
        password: h.info.user.password,
        decision: "allow",
      },
    });
    assert.match(
      done.text,
      /You have signed in to the Contoso Partner CLI application on your device/,
    );
    const tokens = await poll();
    assert.equal(tokens.status, 200, tokens.text);
    assert.ok(tokens.json["refresh_token"]);
  });

  test("device login page: deny ends the poll with authorization_declined", async () => {
    const dc = await h.fetch("/organizations/oauth2/v2.0/devicecode", {
      form: { client_id: h.info.apps.public.clientId, scope: `${GRAPH}/User.Read` },
    });
    const signIn = await h.fetch("/devicelogin", {
      form: { user_code: String(dc.json["user_code"]) },
    });
    const denied = await h.fetch(action(signIn.text), {
      form: { flow: field(signIn.text, "flow"), decision: "deny" },
    });
    assert.match(denied.text, /You declined/);
    const res = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: String(dc.json["device_code"]),
    });
    assert.equal(res.json["error"], "authorization_declined");
    aadsts(res.json);
  });
});
