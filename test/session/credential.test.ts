/**
 * The library side: openSession/getToken in process, the in-memory cache, and
 * PartnerTokenCredential driving an Azure SDK pipeline (`@azure/core-rest-pipeline`'s
 * bearerTokenAuthenticationPolicy) against the emulator's Partner Center API, and in a customer
 * tenant through `tenantId`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bearerTokenAuthenticationPolicy,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  createDefaultHttpClient,
} from "@azure/core-rest-pipeline";
import { GRAPH, startTestEmulator, verifyEmulatorToken, type Emulator } from "../cli/helpers.ts";
import { trustEmulatorCa } from "../interop/helpers.ts";
import {
  connectSession,
  CredentialUnavailableError,
  MemoryTokenCache,
  openSession,
  PartnerTokenCredential,
} from "../../src/index.ts";
import { refreshGrants, sessionEnv } from "./helpers.ts";

const PC = "https://api.partnercenter.microsoft.com";

describe("sessions in the library and PartnerTokenCredential", () => {
  let emu: Emulator;
  let cacheDir: string;
  before(async () => {
    emu = await startTestEmulator();
    await trustEmulatorCa(emu.caFile!);
    const env = await sessionEnv();
    cacheDir = env.PARTNER_TOKEN_CACHE_DIR;
    process.env.PARTNER_TOKEN_KEY_DIR = env.PARTNER_TOKEN_KEY_DIR;
    process.env.PARTNER_TOKEN_KEYRING = "off";
    await connectSession(
      { useDeviceAuthentication: true, authorityHost: emu.info.url, caFile: emu.caFile! },
      { cacheDir, profile: "lib", clientOptions: { log: () => {} } },
    );
  });
  after(() => emu.close());

  test("PartnerTokenCredential authenticates an Azure SDK pipeline to Partner Center's API", async () => {
    const credential = new PartnerTokenCredential({ cacheDir, profile: "lib" });
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({ credential, scopes: `${PC}/user_impersonation` }),
    );
    const request = createPipelineRequest({
      url: `${emu.info.partnerCenterEndpoint}/v1/customers`,
      headers: createHttpHeaders({ accept: "application/json" }),
    });
    const response = await pipeline.sendRequest(createDefaultHttpClient(), request);
    assert.equal(response.status, 200, response.bodyAsText ?? "");
    const body = JSON.parse(response.bodyAsText ?? "{}");
    assert.ok(Array.isArray(body.items) && body.items.length > 0, "customers listed");
  });

  test("getToken honours tenantId (a customer's tenant) and serves the cache until renewal is due", async () => {
    const credential = new PartnerTokenCredential({ cacheDir, profile: "lib" });
    const customer = emu.info.customers[0]!.id;
    const before = refreshGrants(emu);
    const token = await credential.getToken(GRAPH, { tenantId: customer });
    assert.ok(token);
    await verifyEmulatorToken(emu, token.token, { tenantId: customer });
    assert.ok(token.expiresOnTimestamp > Date.now() + 600_000);
    const again = await credential.getToken(GRAPH, { tenantId: customer });
    assert.equal(again!.token, token.token);
    assert.equal(refreshGrants(emu), before + 1);
  });

  test("no session: CredentialUnavailableError, so credential chains move on", async () => {
    const credential = new PartnerTokenCredential({ cacheDir, profile: "nobody" });
    await assert.rejects(credential.getToken(GRAPH), (e: Error) => {
      assert.ok(e instanceof CredentialUnavailableError);
      assert.equal(e.name, "CredentialUnavailableError");
      assert.match(e.message, /No session for profile 'nobody'/);
      return true;
    });
  });

  test("an in-memory cache: a session whose tokens are never written", async () => {
    const memory = new MemoryTokenCache();
    const session = await openSession({ cacheDir, profile: "lib", cache: memory });
    const customer = emu.info.customers[1]!.id;
    const a = await session.getToken({ scopes: [GRAPH], tenant: customer });
    const b = await session.getToken({ scopes: [GRAPH], tenant: customer });
    assert.equal(a.accessToken, b.accessToken);
    assert.equal((await memory.list()).length, 1);
    const onDisk = await openSession({ cacheDir, profile: "lib" });
    const fromDisk = await (onDisk as any).options.cache.list();
    assert.ok(
      !fromDisk.some((e: any) => e.token.result.accessToken === a.accessToken),
      "not written to the file cache",
    );
  });

  test("concurrent getToken calls in one process share one renewal", async () => {
    const session = await openSession({ cacheDir, profile: "lib" });
    const customer = emu.info.customers[2]?.id ?? emu.info.customers[0]!.id;
    const before = refreshGrants(emu);
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        session.getToken({ scopes: ["https://outlook.office365.com/.default"], tenant: customer }),
      ),
    );
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1);
    assert.equal(refreshGrants(emu) - before, 1);
  });
});
