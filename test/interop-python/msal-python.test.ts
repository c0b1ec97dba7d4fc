/**
 * MSAL for Python (Debian's python3-msal), unmodified, against the emulator on a normal port:
 * client credentials with a secret and with a certificate (SHA-1 thumbprint, and with its chain
 * in x5c), device code, silent renewal, a refresh-token redemption, the authorization code flow.
 * (Username and password is in the --impersonate test: MSAL for Python asks for the user's realm
 * on port 443 whatever the authority's port.) Every token is verified here with jose
 * against the emulator's keys. MSAL's authority validation asks Microsoft's own
 * login.microsoftonline.com about other hosts, so this test turns it off (a constructor
 * option); the --impersonate test runs MSAL with it on.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultSeed } from "../../src/emulator/index.ts";
import { Harness } from "../emulator/harness.ts";
import { runPython } from "./python.ts";

let h: Harness;
let results: Record<string, any>;

before(async () => {
  h = await Harness.start({
    autoApprove: true,
    // MSAL waits `interval` seconds between polls: one second keeps the test short.
    seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } },
  });
  const i = h.info;
  results = await runPython(
    "msal_flows.py",
    {
      authority_host: h.emu.url,
      tenant: i.partnerTenant.id,
      validate_authority: false,
      confidential: {
        client_id: i.apps.confidential.clientId,
        secret: i.apps.confidential.clientSecret,
      },
      certificate: {
        client_id: i.apps.certificate.clientId,
        key_file: i.apps.certificate.keyFile,
        cert_file: i.apps.certificate.certificateFile,
        thumbprint: i.apps.certificate.thumbprint,
      },
      public_client_id: i.apps.public.clientId,
      redirect_uri: i.apps.confidential.redirectUri,
      user: i.user,
      flows: ["secret", "certificate", "certificate_chain", "device_code", "authorization_code"],
    },
    { REQUESTS_CA_BUNDLE: h.emu.caFile! },
  );
});
after(() => h.close());

/** The access token of an MSAL answer, verified; the answer is printed when it has none. */
async function claims(answer: Record<string, any>, tenant?: string) {
  assert.equal(typeof answer?.["access_token"], "string", JSON.stringify(answer));
  return h.verify(answer["access_token"], tenant);
}

describe("MSAL for Python against the emulator", () => {
  test("client credentials with a secret", async () => {
    const c = await claims(results["secret"]);
    assert.equal(c["appid"], h.info.apps.confidential.clientId);
    assert.equal(c["appidacr"], "1");
    assert.equal(c["aud"], "https://graph.microsoft.com");
  });

  test("client credentials with a certificate: SHA-1 thumbprint as MSAL for Python encodes it", async () => {
    const c = await claims(results["certificate"]);
    assert.equal(c["appid"], h.info.apps.certificate.clientId);
    assert.equal(c["appidacr"], "2");
  });

  test("client credentials with a certificate and its chain (x5c)", async () => {
    const c = await claims(results["certificate_chain"]);
    assert.equal(c["appidacr"], "2");
    const assertions = h.emu
      .requests()
      .filter((r) => r.note["client_id"] === h.info.apps.certificate.clientId && r.status === 200);
    assert.ok(assertions.length >= 2);
  });

  test("device code, then silent renewal, forced refresh and a refresh-token redemption", async () => {
    const r = results["device_code"];
    const first = await claims(r["first"]);
    assert.equal(first["aud"], "https://api.partnercenter.microsoft.com");
    assert.equal(first["upn"], h.info.user.username);
    const silent = await claims(r["silent"]);
    assert.equal(silent["aud"], "https://graph.microsoft.com");
    assert.equal(silent["scp"], "User.Read");
    const forced = await claims(r["forced"]);
    assert.equal(forced["aud"], "https://api.partnercenter.microsoft.com");
    assert.notEqual(r["forced"]["access_token"], r["first"]["access_token"]);
    const refreshed = await claims(r["refreshed"]);
    assert.equal(refreshed["scp"], "Directory.Read.All");
  });

  test("authorization code with PKCE, state and nonce checked by MSAL", async () => {
    const r = results["authorization_code"];
    const c = await claims(r);
    assert.equal(c["scp"], "User.Read");
    assert.equal(r["id_token_claims"]["preferred_username"], h.info.user.username);
  });
});
