/**
 * Graph's `applications` in the emulator: create, read (by id, `(appId='…')`, `$filter`), update
 * (redirect URIs, `requiredResourceAccess`, `keyCredentials` with `key: null` keeping a
 * certificate), `addPassword`/`removePassword`; permission checks; and the token endpoint knowing
 * at once what Graph changed (a removed secret, an expired one, a redirect URI, a certificate),
 * or only after `settings.replicationDelayMs`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { importPKCS8, SignJWT } from "jose";
import forge from "node-forge";
import { defaultSeed } from "../../src/emulator/index.ts";
import { aadsts, Harness } from "./harness.ts";
import { GRAPH, PARTNER, PC, SALES, graph, graphError, userToken } from "./graph-helpers.ts";

const PC_APP = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
let h: Harness;
let admin: string;

before(async () => {
  h = await Harness.start();
  admin = await userToken(h);
});
after(() => h.close());

/** A self-signed certificate and its key (PEM). */
function selfSigned(cn: string): { cert: string; key: string; der: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const c = forge.pki.createCertificate();
  c.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );
  c.serialNumber = "01";
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  c.setSubject([{ name: "commonName", value: cn }]);
  c.setIssuer([{ name: "commonName", value: cn }]);
  c.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes(), "binary");
  return { cert: forge.pki.certificateToPem(c), key: keyPem, der: der.toString("base64") };
}

/** The id of a delegated permission, read from the resource's service principal. */
async function scopeId(token: string, resourceAppId: string, name: string): Promise<string> {
  const sp = await graph(h, token, `/v1.0/servicePrincipals(appId='${resourceAppId}')`);
  assert.equal(sp.status, 200, sp.text);
  const s = sp.json.oauth2PermissionScopes.find((x: { value: string }) => x.value === name);
  assert.ok(s, `${resourceAppId} exposes ${name}`);
  return s.id;
}

async function createApp(name: string, extra: Record<string, unknown> = {}) {
  const res = await graph(h, admin, "/v1.0/applications", {
    method: "POST",
    json: {
      displayName: name,
      signInAudience: "AzureADMultipleOrgs",
      web: { redirectUris: ["http://localhost"] },
      requiredResourceAccess: [
        {
          resourceAppId: PC_APP,
          resourceAccess: [
            { id: await scopeId(admin, PC_APP, "user_impersonation"), type: "Scope" },
          ],
        },
      ],
      ...extra,
    },
  });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; appId: string; [k: string]: unknown };
}

/** The app's service principal in the partner tenant and an AllPrincipals grant to Partner Center. */
async function installAndConsent(appId: string): Promise<void> {
  const sp = await graph(h, admin, "/v1.0/servicePrincipals", { method: "POST", json: { appId } });
  assert.equal(sp.status, 201, sp.text);
  const pc = await graph(h, admin, `/v1.0/servicePrincipals(appId='${PC_APP}')`);
  const grant = await graph(h, admin, "/v1.0/oauth2PermissionGrants", {
    method: "POST",
    json: {
      clientId: sp.json.id,
      consentType: "AllPrincipals",
      resourceId: pc.json.id,
      scope: "user_impersonation",
    },
  });
  assert.equal(grant.status, 201, grant.text);
}

/** The admin's App + User sign-in (password grant) with the app and a secret: "ok" or the AADSTS code. */
async function signIn(appId: string, secret: string): Promise<string> {
  const res = await h.token(PARTNER, {
    client_id: appId,
    client_secret: secret,
    grant_type: "password",
    username: h.info.user.username,
    password: h.info.user.password,
    scope: `${PC}/.default offline_access`,
  });
  return res.status === 200 ? "ok" : `AADSTS${aadsts(res.json)}`;
}

async function addPassword(id: string, body: Record<string, unknown> = {}) {
  const res = await graph(h, admin, `/v1.0/applications/${id}/addPassword`, {
    method: "POST",
    json: { passwordCredential: { displayName: "test", ...body } },
  });
  assert.equal(res.status, 200, res.text);
  return res.json as { keyId: string; secretText: string; hint: string; endDateTime: string };
}

describe("Graph applications", () => {
  test("create, then read by id, by (appId='…') and by $filter displayName; listed in the tenant", async () => {
    const name = `Partner app ${randomUUID()}`;
    const app = await createApp(name);
    assert.match(app.appId, /^[0-9a-f-]{36}$/);
    assert.equal(app.signInAudience, "AzureADMultipleOrgs");
    assert.deepEqual((app.web as { redirectUris: string[] }).redirectUris, ["http://localhost"]);
    assert.deepEqual(app.passwordCredentials, []);
    for (const path of [
      `/v1.0/applications/${app.id}`,
      `/v1.0/applications(appId='${app.appId}')`,
    ]) {
      const got = await graph(h, admin, path);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.json.appId, app.appId);
      assert.equal(got.json.displayName, name);
    }
    const q = encodeURIComponent(`displayName eq '${name}'`);
    const found = await graph(h, admin, `/v1.0/applications?$filter=${q}`);
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(
      found.json.value.map((a: { id: string }) => a.id),
      [app.id],
    );
    const all = await graph(h, admin, "/v1.0/applications?$top=999");
    assert.ok(
      all.json.value.some((a: { appId: string }) => a.appId === h.info.apps.confidential.clientId),
    );
    graphError(
      await graph(h, admin, `/v1.0/applications/${randomUUID()}`),
      404,
      "Request_ResourceNotFound",
    );
  });

  test("addPassword answers the secret once with its hint; the token endpoint takes it at once; removePassword → AADSTS7000215", async () => {
    const app = await createApp(`Secrets ${randomUUID()}`);
    await installAndConsent(app.appId);
    const first = await addPassword(app.id);
    assert.equal(first.secretText.length, 40);
    assert.equal(first.hint, first.secretText.slice(0, 3));
    const got = await graph(h, admin, `/v1.0/applications/${app.id}`);
    assert.equal(got.json.passwordCredentials.length, 1);
    assert.equal(got.json.passwordCredentials[0].secretText, null);
    assert.equal(got.json.passwordCredentials[0].hint, first.hint);
    assert.ok(!got.text.includes(first.secretText), "a read never shows the secret");
    assert.equal(await signIn(app.appId, first.secretText), "ok");

    const second = await addPassword(app.id);
    assert.equal(await signIn(app.appId, second.secretText), "ok");
    const removed = await graph(
      h,
      admin,
      `/v1.0/applications(appId='${app.appId}')/removePassword`,
      {
        method: "POST",
        json: { keyId: first.keyId },
      },
    );
    assert.equal(removed.status, 204, removed.text);
    assert.equal(await signIn(app.appId, first.secretText), "AADSTS7000215");
    assert.equal(await signIn(app.appId, second.secretText), "ok");
    graphError(
      await graph(h, admin, `/v1.0/applications/${app.id}/removePassword`, {
        method: "POST",
        json: { keyId: first.keyId },
      }),
      400,
    );
  });

  test("an expired secret → AADSTS7000222", async () => {
    const app = await createApp(`Expired ${randomUUID()}`);
    await installAndConsent(app.appId);
    const day = 86_400_000;
    const old = await addPassword(app.id, {
      startDateTime: new Date(Date.now() - 3 * day).toISOString(),
      endDateTime: new Date(Date.now() - day).toISOString(),
    });
    assert.equal(await signIn(app.appId, old.secretText), "AADSTS7000222");
  });

  test("servicePrincipals POST twice → 409 Request_MultipleObjectsWithSameKeyValue", async () => {
    const app = await createApp(`Twice ${randomUUID()}`);
    const one = await graph(h, admin, "/v1.0/servicePrincipals", {
      method: "POST",
      json: { appId: app.appId },
    });
    assert.equal(one.status, 201, one.text);
    graphError(
      await graph(h, admin, "/v1.0/servicePrincipals", {
        method: "POST",
        json: { appId: app.appId },
      }),
      409,
      "Request_MultipleObjectsWithSameKeyValue",
    );
  });

  test("redirect URIs: the loopback one on any port; another → AADSTS50011 naming the URI; a PATCH takes effect at once", async () => {
    const app = await createApp(`Redirects ${randomUUID()}`);
    await installAndConsent(app.appId);
    const authorize = (redirect: string) =>
      h.fetch(
        `/${PARTNER}/oauth2/v2.0/authorize?` +
          new URLSearchParams({
            client_id: app.appId,
            response_type: "code",
            redirect_uri: redirect,
            scope: `${PC}/.default`,
          }),
      );
    const ok = await authorize("http://localhost:8765/");
    assert.notEqual(ok.status, 400, ok.text.slice(0, 300));
    const other = "https://app.example.com/callback";
    const bad = await authorize(other);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /AADSTS50011/);
    assert.ok(bad.text.includes(other), "the message names the URI");
    const patched = await graph(h, admin, `/v1.0/applications/${app.id}`, {
      method: "PATCH",
      json: { web: { redirectUris: ["http://localhost", other] } },
    });
    assert.equal(patched.status, 204, patched.text);
    assert.notEqual((await authorize(other)).status, 400);
  });

  test("keyCredentials by PATCH: a certificate signs in at once; key: null keeps it; left out, it is gone", async () => {
    const app = await createApp(`Certificates ${randomUUID()}`);
    await installAndConsent(app.appId);
    const a = selfSigned("first");
    const b = selfSigned("second");
    const patch = (keyCredentials: unknown[]) =>
      graph(h, admin, `/v1.0/applications/${app.id}`, {
        method: "PATCH",
        json: { keyCredentials },
      });
    const cred = (der: string) => ({
      type: "AsymmetricX509Cert",
      usage: "Verify",
      key: der,
      displayName: "CN",
    });
    assert.equal((await patch([cred(a.der)])).status, 204);
    const got = await graph(h, admin, `/v1.0/applications/${app.id}`);
    const keyA = got.json.keyCredentials[0];
    assert.equal(keyA.key, null);
    assert.match(keyA.customKeyIdentifier, /^[0-9A-F]{40}$/);
    const assertionSignIn = async (c: { cert: string; key: string }) => {
      const x5t = Buffer.from(
        new (await import("node:crypto")).X509Certificate(c.cert).fingerprint.replace(/:/g, ""),
        "hex",
      ).toString("base64url");
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256", x5t })
        .setIssuer(app.appId)
        .setSubject(app.appId)
        .setAudience(`${h.emu.url}/${PARTNER}/oauth2/v2.0/token`)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(await importPKCS8(c.key, "RS256"));
      const res = await h.token(PARTNER, {
        client_id: app.appId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: jwt,
        grant_type: "password",
        username: h.info.user.username,
        password: h.info.user.password,
        scope: `${PC}/.default`,
      });
      return res.status === 200 ? "ok" : `AADSTS${aadsts(res.json)}`;
    };
    assert.equal(await assertionSignIn(a), "ok");
    assert.equal(await assertionSignIn(b), "AADSTS700027");
    // Rotation: keep the first (key null), add the second.
    assert.equal((await patch([{ ...keyA, key: null }, cred(b.der)])).status, 204);
    assert.equal(await assertionSignIn(a), "ok");
    assert.equal(await assertionSignIn(b), "ok");
    // key null for an unknown keyId is refused, and changes nothing.
    graphError(await patch([{ keyId: randomUUID(), key: null }]), 400);
    assert.equal(await assertionSignIn(a), "ok");
    const now = await graph(h, admin, `/v1.0/applications/${app.id}`);
    const keyB = now.json.keyCredentials.find((k: { keyId: string }) => k.keyId !== keyA.keyId);
    assert.equal((await patch([{ ...keyB, key: null }])).status, 204);
    assert.equal(await assertionSignIn(a), "AADSTS700027");
    assert.equal(await assertionSignIn(b), "ok");
  });

  test("bad bodies → 400 naming the property; nothing changed", async () => {
    const app = await createApp(`Bad ${randomUUID()}`);
    graphError(
      await graph(h, admin, `/v1.0/applications/${app.id}`, {
        method: "PATCH",
        json: { colour: "red" },
      }),
      400,
    );
    const bad = await graph(h, admin, `/v1.0/applications/${app.id}`, {
      method: "PATCH",
      json: { displayName: "renamed", web: { redirectUris: ["http://example.com/cb"] } },
    });
    graphError(bad, 400);
    assert.match(bad.json.error.message, /web\.redirectUris/);
    const unknownScope = await graph(h, admin, `/v1.0/applications/${app.id}`, {
      method: "PATCH",
      json: {
        requiredResourceAccess: [
          { resourceAppId: PC_APP, resourceAccess: [{ id: randomUUID(), type: "Scope" }] },
        ],
      },
    });
    graphError(unknownScope, 400);
    assert.match(unknownScope.json.error.message, /service principal/);
    graphError(
      await graph(h, admin, `/v1.0/applications/${app.id}`, {
        method: "PATCH",
        json: { passwordCredentials: [{ secretText: "x" }] },
      }),
      400,
    );
    const got = await graph(h, admin, `/v1.0/applications/${app.id}`);
    assert.equal(got.json.displayName, app.displayName);
    assert.deepEqual(got.json.web.redirectUris, ["http://localhost"]);
  });

  test("permissions: a user without an admin role, or a token without Application.ReadWrite.All, is refused (403)", async () => {
    const sales = await userToken(h, SALES);
    graphError(
      await graph(h, sales, "/v1.0/applications", { method: "POST", json: { displayName: "x" } }),
      403,
      "Authorization_RequestDenied",
    );
    const readOnly = await userToken(h, { scope: `${GRAPH}/User.Read` });
    graphError(await graph(h, readOnly, "/v1.0/applications"), 403, "Authorization_RequestDenied");
    graphError(
      await graph(h, readOnly, "/v1.0/applications", {
        method: "POST",
        json: { displayName: "x" },
      }),
      403,
      "Authorization_RequestDenied",
    );
    graphError(await graph(h, undefined, "/v1.0/applications"), 401, "InvalidAuthenticationToken");
  });
});

describe("Graph applications with settings.replicationDelayMs", () => {
  let slow: Harness;
  before(async () => {
    slow = await Harness.start({
      seed: { ...defaultSeed, settings: { ...defaultSeed.settings, replicationDelayMs: 1500 } },
    });
  });
  after(() => slow.close());

  test("a new secret is refused until the delay has passed, then taken", async () => {
    const token = await userToken(slow);
    const app = h.info.apps.confidential;
    const res = await graph(
      slow,
      token,
      `/v1.0/applications(appId='${app.clientId}')/addPassword`,
      {
        method: "POST",
        json: { passwordCredential: { displayName: "replicating" } },
      },
    );
    assert.equal(res.status, 200, res.text);
    const use = () =>
      slow.token(PARTNER, {
        client_id: app.clientId,
        client_secret: res.json.secretText,
        grant_type: "password",
        username: slow.info.user.username,
        password: slow.info.user.password,
        scope: `${PC}/.default`,
      });
    assert.equal(aadsts((await use()).json), 7000215);
    await new Promise((r) => setTimeout(r, 1700));
    const later = await use();
    assert.equal(later.status, 200, later.text);
  });
});
