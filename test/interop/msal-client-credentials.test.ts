/**
 * @azure/msal-node's ConfidentialClientApplication, unmodified, gets app-only tokens from the
 * emulator over HTTPS: with the client secret, and with the certificate named by its SHA-256
 * thumbprint (`x5t#S256`) and by its SHA-1 thumbprint (`x5t`).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfidentialClientApplication } from "@azure/msal-node";
import { startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import {
  GRAPH,
  GRAPH_APP_ROLES,
  msalAuthority,
  startTestEmulator,
  verifyAccessToken,
} from "./helpers.ts";

describe("msal-node client credentials", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startTestEmulator({ autoApprove: true });
  });
  after(() => emu?.close());

  /** The client assertion MSAL sent, from the emulator's point of view: its JOSE header. */
  const tokenRequests = () =>
    emu.requests().filter((r) => r.path.endsWith("/oauth2/v2.0/token") && r.status === 200);

  test("with the client secret", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, ...msalAuthority(emu) },
    });
    const result = await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH}/.default`] });
    assert.ok(result?.accessToken, "an access token");
    assert.equal(result.authority, `${emu.url}/${emu.info.partnerTenant.id}/`);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: GRAPH,
      tid: emu.info.partnerTenant.id,
      roles: GRAPH_APP_ROLES,
    });
    assert.equal(claims["appid"], clientId);
    assert.equal(claims["appidacr"], "1", "authenticated by secret");
    assert.equal(claims["idtyp"], "app");

    // The second call is served from MSAL's cache, not the emulator.
    const before = tokenRequests().length;
    const again = await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH}/.default`] });
    assert.equal(again?.accessToken, result.accessToken);
    assert.equal(tokenRequests().length, before);
  });

  test("for a customer tenant the app is installed in", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const customer = emu.info.customers[0]!;
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret, ...msalAuthority(emu, customer.domain) },
    });
    const result = await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH}/.default`] });
    assert.ok(result?.accessToken);
    await verifyAccessToken(emu, result.accessToken, {
      aud: GRAPH,
      tid: customer.id,
      roles: GRAPH_APP_ROLES,
    });
  });

  for (const by of ["SHA-256", "SHA-1"] as const) {
    test(`with the certificate, by its ${by} thumbprint`, async () => {
      const app = emu.info.apps.certificate;
      const privateKey = await readFile(app.keyFile, "utf8");
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: app.clientId,
          ...msalAuthority(emu),
          clientCertificate:
            by === "SHA-256"
              ? { thumbprintSha256: app.thumbprintSha256, privateKey }
              : { thumbprint: app.thumbprint, privateKey },
        },
      });
      emu.clearRequests();
      const result = await cca.acquireTokenByClientCredential({
        scopes: [`${GRAPH}/.default`],
      });
      assert.ok(result?.accessToken);
      const claims = await verifyAccessToken(emu, result.accessToken, {
        aud: GRAPH,
        tid: emu.info.partnerTenant.id,
        roles: GRAPH_APP_ROLES,
      });
      assert.equal(claims["appid"], app.clientId);
      assert.equal(claims["appidacr"], "2", "authenticated by certificate");
      assert.equal(tokenRequests().length, 1);
    });
  }

  test("certificate checks stay on: an emulator whose CA is not trusted is refused", async () => {
    // Another data folder, so another generated CA, which this process does not trust.
    const untrusted = await startEmulator({
      port: 0,
      dataDir: await mkdtemp(join(tmpdir(), "emu-untrusted-")),
    });
    try {
      const { clientId, clientSecret } = untrusted.info.apps.confidential;
      const cca = new ConfidentialClientApplication({
        auth: { clientId, clientSecret, ...msalAuthority(untrusted) },
      });
      await assert.rejects(
        cca.acquireTokenByClientCredential({ scopes: [`${GRAPH}/.default`] }),
        (e: Error) => {
          assert.match(String(e), /endpoints_resolution_error|network/i);
          return true;
        },
      );
      // The cause, seen with the same fetch MSAL uses: the chain does not end at a trusted CA.
      await assert.rejects(fetch(`${untrusted.url}/common/discovery/instance`), (e: Error) => {
        const code = (e.cause as { code?: string } | undefined)?.code ?? "";
        assert.match(code, /CERT|SIGNATURE|ISSUER/);
        return true;
      });
      assert.equal(untrusted.requests().length, 0, "no request got through");
    } finally {
      await untrusted.close();
    }
  });

  test("an unknown thumbprint is refused with the emulator's AADSTS700027", async () => {
    const app = emu.info.apps.certificate;
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: app.clientId,
        ...msalAuthority(emu),
        clientCertificate: {
          thumbprintSha256: "00".repeat(32),
          privateKey: await readFile(app.keyFile, "utf8"),
        },
      },
    });
    await assert.rejects(
      cca.acquireTokenByClientCredential({ scopes: [`${GRAPH}/.default`] }),
      (e: { errorCode?: string; errorMessage?: string }) => {
        assert.equal(e.errorCode, "invalid_client");
        assert.match(e.errorMessage ?? "", /AADSTS700027/);
        return true;
      },
    );
  });
});
