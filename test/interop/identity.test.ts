/**
 * @azure/identity's ClientSecretCredential and ClientCertificateCredential, unmodified, with
 * `authorityHost` pointed at the emulator. Identity bundles its own copy of msal-node and sends
 * its requests through @azure/core-rest-pipeline (node:https), not fetch: the CA trust set up
 * by the helpers covers both.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthenticationRequiredError,
  ClientCertificateCredential,
  ClientSecretCredential,
} from "@azure/identity";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { GRAPH, GRAPH_APP_ROLES, startTestEmulator, verifyAccessToken } from "./helpers.ts";

describe("@azure/identity credentials", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startTestEmulator({ autoApprove: true });
  });
  after(() => emu?.close());

  /**
   * `disableInstanceDiscovery`: otherwise identity's MSAL asks login.microsoftonline.com whether
   * the authority host is a cloud it knows (identity offers no `knownAuthorities`); this is the
   * option identity documents for private clouds and Azure Stack.
   */
  const options = () => ({ authorityHost: emu.url, disableInstanceDiscovery: true });

  test("ClientSecretCredential", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tid = emu.info.partnerTenant.id;
    const credential = new ClientSecretCredential(tid, clientId, clientSecret, options());
    const token = await credential.getToken(`${GRAPH}/.default`);
    assert.ok(token.token);
    assert.ok(token.expiresOnTimestamp > Date.now() + 30 * 60_000, "about an hour left");
    const claims = await verifyAccessToken(emu, token.token, {
      aud: GRAPH,
      tid,
      roles: GRAPH_APP_ROLES,
    });
    assert.equal(claims["appid"], clientId);
    assert.equal(claims["appidacr"], "1");
  });

  test("ClientSecretCredential for a customer tenant, by domain", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const customer = emu.info.customers[1]!;
    const credential = new ClientSecretCredential(
      customer.domain,
      clientId,
      clientSecret,
      options(),
    );
    const token = await credential.getToken(`${GRAPH}/.default`);
    await verifyAccessToken(emu, token.token, {
      aud: GRAPH,
      tid: customer.id,
      roles: GRAPH_APP_ROLES,
    });
  });

  test("ClientCertificateCredential with a PEM of certificate and key", async () => {
    const app = emu.info.apps.certificate;
    const tid = emu.info.partnerTenant.id;
    const pem =
      (await readFile(app.certificateFile, "utf8")) + "\n" + (await readFile(app.keyFile, "utf8"));
    const certificatePath = join(await mkdtemp(join(tmpdir(), "identity-cert-")), "app.pem");
    await writeFile(certificatePath, pem, { mode: 0o600 });
    const credentials = [
      new ClientCertificateCredential(tid, app.clientId, { certificatePath }, options()),
      new ClientCertificateCredential(tid, app.clientId, { certificate: pem }, options()),
    ];
    for (const credential of credentials) {
      const token = await credential.getToken(`${GRAPH}/.default`);
      const claims = await verifyAccessToken(emu, token.token, {
        aud: GRAPH,
        tid,
        roles: GRAPH_APP_ROLES,
      });
      assert.equal(claims["appid"], app.clientId);
      assert.equal(claims["appidacr"], "2", "authenticated by certificate");
    }
    const assertions = emu
      .requests()
      .filter((r) => r.note["client_id"] === app.clientId && r.status === 200);
    assert.equal(assertions.length, 2);
  });

  test("ClientCertificateCredential with sendCertificateChain (x5c)", async () => {
    const app = emu.info.apps.certificate;
    const pem =
      (await readFile(app.certificateFile, "utf8")) + "\n" + (await readFile(app.keyFile, "utf8"));
    const credential = new ClientCertificateCredential(
      emu.info.partnerTenant.id,
      app.clientId,
      { certificate: pem },
      { ...options(), sendCertificateChain: true },
    );
    const token = await credential.getToken(`${GRAPH}/.default`);
    await verifyAccessToken(emu, token.token, {
      aud: GRAPH,
      tid: emu.info.partnerTenant.id,
      roles: GRAPH_APP_ROLES,
    });
  });

  test("a wrong secret fails with AADSTS7000215", async () => {
    const { clientId } = emu.info.apps.confidential;
    const credential = new ClientSecretCredential(
      emu.info.partnerTenant.id,
      clientId,
      "not-the-secret-000000",
      options(),
    );
    await assert.rejects(credential.getToken(`${GRAPH}/.default`), (e: Error) => {
      // Identity turns MSAL's ServerError into AuthenticationRequiredError, keeping its message.
      assert.ok(e instanceof AuthenticationRequiredError, e.name);
      assert.match(e.message, /invalid_client/);
      assert.match(e.message, /AADSTS7000215/);
      return true;
    });
  });
});
