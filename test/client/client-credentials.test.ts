import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeProtectedHeader } from "jose";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByClientCredentials,
  newPartnerAccessToken,
  ServerError,
  UsageError,
} from "../../src/index.ts";
import { GRAPH, startEmulatorWithBase, verifyAccessToken, type EmulatorBase } from "./helpers.ts";

describe("client credentials", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase());
  });
  after(() => emu.close());

  test("with a client secret: an app-only token for the asked tenant and audience", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tenant = emu.info.partnerTenant.id;
    const result = await acquireTokenByClientCredentials({
      ...base,
      clientId,
      clientSecret,
      tenant,
      scopes: [GRAPH],
    });
    const claims = await verifyAccessToken(emu, result.accessToken, tenant);
    assert.equal(claims.aud, "https://graph.microsoft.com");
    assert.equal(claims.tid, tenant);
    assert.equal(claims.appid, clientId);
    assert.equal(result.tenantId, tenant);
    assert.equal(result.refreshToken, null);
    assert.equal(result.account, null);
    assert.equal(result.uniqueId, null);
    assert.deepEqual(result.scopes, [GRAPH]);
    assert.equal(result.tokenType, "Bearer");
    assert.ok(Date.parse(result.expiresOn) > Date.now() + 50 * 60_000);
    assert.ok(Date.parse(result.extendedExpiresOn) >= Date.parse(result.expiresOn));
    assert.match(result.correlationId, /^[0-9a-f-]{36}$/);
  });

  test("the ServicePrincipal parameter set runs client credentials, in a customer tenant too", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const customer = emu.info.customers[0]!.id;
    const result = await newPartnerAccessToken({
      ...base,
      applicationId: clientId,
      credential: { userName: clientId, password: clientSecret },
      scopes: [GRAPH],
      tenant: customer,
      servicePrincipal: true,
    });
    const claims = await verifyAccessToken(emu, result.accessToken, customer);
    assert.equal(claims.tid, customer);
  });

  test("with a certificate by thumbprint from the certificate folder: PS256 assertion with x5t#S256", async () => {
    const { clientId, certificateFile, keyFile, thumbprint } = emu.info.apps.certificate;
    const directory = await mkdtemp(join(tmpdir(), "partner-token-certs-"));
    await copyFile(certificateFile, join(directory, "app-cert.pem"));
    await copyFile(keyFile, join(directory, "app-key.pem"));
    const tenant = emu.info.partnerTenant.id;
    emu.clearRequests();
    const result = await acquireTokenByClientCredentials({
      ...base,
      clientId,
      tenant,
      scopes: [GRAPH],
      certificate: { thumbprint: thumbprint.toLowerCase().match(/../g)!.join(" "), directory },
    });
    const claims = await verifyAccessToken(emu, result.accessToken, tenant);
    assert.equal(claims.appid, clientId);
  });

  test("with a certificate file (PEM with its key), RS256 + x5t, through the parameter set", async () => {
    const { clientId, certificateFile, keyFile, thumbprint } = emu.info.apps.certificate;
    const directory = await mkdtemp(join(tmpdir(), "partner-token-certs-"));
    const combined = join(directory, "app.pem");
    await writeFile(
      combined,
      (await readFile(certificateFile, "utf8")) + (await readFile(keyFile, "utf8")),
    );
    const tenant = emu.info.partnerTenant.domain;
    const result = await acquireTokenByClientCredentials({
      ...base,
      clientId,
      tenant,
      scopes: [GRAPH],
      certificate: { path: combined, assertionAlgorithm: "RS256" },
    });
    assert.equal(result.tenantId, emu.info.partnerTenant.id);
    const viaSet = await newPartnerAccessToken({
      ...base,
      applicationId: clientId,
      certificateThumbprint: thumbprint,
      certificatePath: combined,
      scopes: [GRAPH],
      tenant,
    });
    assert.equal(
      (await verifyAccessToken(emu, viaSet.accessToken, emu.info.partnerTenant.id)).appid,
      clientId,
    );
  });

  test("the client assertion has the claims Entra ID wants", async () => {
    const { clientId, certificateFile, keyFile } = emu.info.apps.certificate;
    const { loadCertificate, createClientAssertion } = await import("../../src/index.ts");
    const directory = await mkdtemp(join(tmpdir(), "partner-token-certs-"));
    const combined = join(directory, "app.pem");
    await writeFile(
      combined,
      (await readFile(certificateFile, "utf8")) + (await readFile(keyFile, "utf8")),
    );
    const certificate = await loadCertificate({ path: combined });
    const audience = `${emu.url}/${emu.info.partnerTenant.id}/oauth2/v2.0/token`;
    const a = await createClientAssertion({ clientId, audience, certificate });
    const b = await createClientAssertion({ clientId, audience, certificate, algorithm: "RS256" });
    const ha = decodeProtectedHeader(a);
    assert.equal(ha.alg, "PS256");
    assert.ok(typeof ha["x5t#S256"] === "string" && ha.x5t === undefined);
    const hb = decodeProtectedHeader(b);
    assert.equal(hb.alg, "RS256");
    assert.ok(typeof hb.x5t === "string" && hb["x5t#S256"] === undefined);
    const { decodeJwt } = await import("jose");
    const ca = decodeJwt(a);
    const cb = decodeJwt(b);
    assert.equal(ca.aud, audience);
    assert.equal(ca.iss, clientId);
    assert.equal(ca.sub, clientId);
    assert.notEqual(ca.jti, cb.jti);
    assert.ok(ca.exp! - ca.iat! <= 600 && ca.exp! - ca.iat! >= 60);
  });

  test("a wrong secret: ServerError AADSTS7000215 with Entra's fields, a hint, and no secret in sight", async () => {
    const { clientId } = emu.info.apps.confidential;
    const wrong = "Wrong~secret.value-1234567890";
    const err = await acquireTokenByClientCredentials({
      ...base,
      clientId,
      clientSecret: wrong,
      tenant: emu.info.partnerTenant.id,
      scopes: [GRAPH],
    }).then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ServerError, String(err));
    assert.equal(err.code, "ERR_AADSTS7000215");
    assert.equal(err.error, "invalid_client");
    assert.equal(err.aadsts, 7000215);
    assert.ok(err.errorCodes?.includes(7000215));
    assert.match(err.message, /^invalid_client: AADSTS7000215/);
    assert.match(err.hint ?? "", /secret's value/);
    assert.equal(err.exitCode, 1);
    assert.ok(err.traceId && err.correlationId);
    const shown = JSON.stringify(err) + err.message + String(err.stack);
    assert.ok(!shown.includes(wrong));
    assert.ok(!JSON.stringify(err).includes("response"), "the raw response stays out of JSON");
  });

  test("an unknown tenant: AADSTS90002 with its hint", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    await assert.rejects(
      acquireTokenByClientCredentials({
        ...base,
        clientId,
        clientSecret,
        tenant: "nowhere.onmicrosoft.com",
        scopes: [GRAPH],
      }),
      (e: ServerError) => e.aadsts === 90002 && /tenant was not found/.test(e.hint ?? ""),
    );
  });

  test("no secret nor certificate: a usage error before any request", async () => {
    await assert.rejects(
      acquireTokenByClientCredentials({
        ...base,
        clientId: emu.info.apps.confidential.clientId,
        tenant: "x",
        scopes: [GRAPH],
      }),
      (e: UsageError) => e instanceof UsageError && e.exitCode === 2,
    );
  });

  test("retries 503 and 429 (honouring Retry-After) and then succeeds", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tenant = emu.info.partnerTenant.id;
    emu.injectFault({ path: `/${tenant}/oauth2/v2.0/token`, count: 1, status: 503 });
    emu.injectFault({ path: `/${tenant}/oauth2/v2.0/token`, count: 1, status: 429, retryAfter: 1 });
    const started = Date.now();
    const lines: string[] = [];
    const result = await acquireTokenByClientCredentials(
      { ...base, clientId, clientSecret, tenant, scopes: [GRAPH] },
      { debug: (line) => lines.push(line) },
    );
    assert.ok(result.accessToken);
    assert.ok(Date.now() - started >= 900, "waited for Retry-After");
    assert.ok(lines.some((line) => line.includes("(retry 1)")));
    assert.ok(lines.some((line) => line.includes("(retry 2)")));
  });

  test("gives up after a bounded number of retries with a ServerError naming the status", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tenant = emu.info.partnerTenant.id;
    emu.injectFault({ path: `/${tenant}/oauth2/v2.0/token`, count: 10, status: 500 });
    try {
      await assert.rejects(
        acquireTokenByClientCredentials({
          ...base,
          clientId,
          clientSecret,
          tenant,
          scopes: [GRAPH],
        }),
        (e: ServerError) => e instanceof ServerError && e.status === 500,
      );
    } finally {
      emu.clearFaults();
    }
  });
});
