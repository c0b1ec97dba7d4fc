/**
 * The proof of the bulk job, as a library: 200 generated customers, 10 without delegated access,
 * 10 without consent, the token endpoint throttled. Every customer comes out exactly once: 180
 * tokens whose `tid` is that customer, 20 errors with the right AADSTS number and hint, throttled
 * answers absorbed. Also: a session-wide failure stops the job, cancellation stops it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createLocalJWKSet, jwtVerify } from "jose";
import { CancelledError, SignInRequiredError } from "../../src/client/errors.ts";
import {
  bulkClientOptions,
  customerTokens,
  type CustomerTokenResult,
} from "../../src/customers/customer-tokens.ts";
import { PartnerCenterClient } from "../../src/partner-center/client.ts";
import { TokenBroker } from "../../src/session/broker.ts";
import { MemoryTokenCache } from "../../src/session/memory-cache.ts";
import type { RefreshTokenStore } from "../../src/session/types.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  AZURE_CLI_APP,
  GRAPH,
  PARTNER,
  partnerRefreshToken,
  startScaleEmulator,
} from "./helpers.ts";
import { rawRequest } from "../client/helpers.ts";

let emu: RunningEmulator;

/** A refresh-token store in memory: what a session keeps, without a file. */
function memoryStore(token: string): RefreshTokenStore & { writes: number } {
  let current = token;
  return {
    description: "memory",
    writes: 0,
    async read() {
      return { token: current };
    },
    async write(next: string) {
      this.writes++;
      current = next;
    },
  };
}

async function broker(): Promise<TokenBroker> {
  return new TokenBroker({
    kind: "user",
    app: {
      clientId: AZURE_CLI_APP,
      environment: {
        name: "Custom",
        authorityHost: emu.url,
        partnerCenterEndpoint: emu.url,
        caFile: emu.caFile,
      },
      tenant: PARTNER,
    },
    accountId: "partner-admin",
    refreshTokens: memoryStore(await partnerRefreshToken(emu)),
    cache: new MemoryTokenCache(),
    clientOptions: bulkClientOptions,
  });
}

before(async () => {
  emu = await startScaleEmulator({
    count: 200,
    withoutAccess: 10,
    withoutConsent: 10,
    // Low enough that even a busy machine goes faster than this: the throttle must be met.
    tokenRequestsPerSecond: 20,
    relationships: [],
  });
});
after(() => emu.close());

test("200 customers, 10 without access, 10 without consent, throttled: each once, 180 tokens in their tenant, 20 explained errors", async () => {
  const session = await broker();
  emu.clearRequests();
  let throttled = 0;
  const results: CustomerTokenResult[] = [];
  for await (const r of customerTokens(session, {
    scopes: [GRAPH],
    partnerCenter: new PartnerCenterClient({
      source: session,
      endpoint: emu.url,
      caFile: emu.caFile!,
    }),
    concurrency: 16,
    onThrottled: () => throttled++,
  }))
    results.push(r);

  const customers = emu.info.customers.map((c) => c.id);
  assert.equal(customers.length, 200);
  assert.equal(results.length, 200, "one result per customer");
  assert.deepEqual(new Set(results.map((r) => r.tenantId)), new Set(customers));

  const keys = JSON.parse(
    (await rawRequest(emu, `${emu.url}/common/discovery/v2.0/keys`)).body,
  ) as Parameters<typeof createLocalJWKSet>[0];
  const jwks = createLocalJWKSet(keys);
  const ok = results.filter((r) => r.status === "ok");
  assert.equal(ok.length, 180);
  for (const r of ok) {
    const { payload } = await jwtVerify(r.accessToken, jwks);
    assert.equal(payload["tid"], r.tenantId);
    assert.ok(Date.parse(r.expiresOn) > Date.now());
    assert.match(String(r.domain), /^customer\d{5}\.onmicrosoft\.com$/);
  }

  const failed = results.filter((r) => r.status === "error");
  const byCode = (code: string) => failed.filter((r) => r.error.code === code);
  assert.equal(failed.length, 20);
  assert.equal(byCode("AADSTS50020").length, 10);
  assert.equal(byCode("AADSTS65001").length, 10);
  for (const r of byCode("AADSTS50020")) {
    assert.equal(r.error.aadsts, 50020);
    assert.match(r.error.hint, /re-establish GDAP access/i);
    assert.match(r.error.message, /does not exist in tenant/);
  }
  for (const r of byCode("AADSTS65001")) {
    assert.match(r.error.hint, /not consented in this customer's tenant/);
    assert.match(r.error.hint, /admin consent/);
  }

  // Throttled answers were met, and absorbed: none is a result.
  const refusals = emu.requests().filter((e) => e.status === 429);
  assert.ok(throttled > 0, "the throttle was met");
  assert.equal(refusals.length, throttled, "every 429 was seen by the job");
  assert.ok(results.every((r) => r.status === "ok" || r.error.status !== 429));
});

test("a refresh token revoked: the job stops at once with SignInRequiredError instead of failing every tenant", async () => {
  const session = await broker();
  emu.revoke({ all: true });
  const customers = emu.info.customers.map((c) => c.id);
  emu.clearRequests();
  await assert.rejects(
    async () => {
      for await (const r of customerTokens(session, { scopes: [GRAPH], customers })) void r;
    },
    (e: unknown) => e instanceof SignInRequiredError && e.aadsts === 50173,
  );
  const grants = emu.requests().filter((e) => e.note["grant_type"] === "refresh_token");
  assert.ok(grants.length <= 40, `stopped early (${grants.length} grants, not 200)`);
});

test("cancelled through the signal: CancelledError, and no worker left running", async () => {
  const session = await broker();
  const controller = new AbortController();
  const customers = emu.info.customers.map((c) => c.id);
  let seen = 0;
  await assert.rejects(async () => {
    for await (const r of customerTokens(session, {
      scopes: [GRAPH],
      customers,
      signal: controller.signal,
    })) {
      void r;
      if (++seen === 5) controller.abort();
    }
  }, CancelledError);
  const before = emu.requests().length;
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(emu.requests().length - before <= 32, "no new work after the cancel");
});

test("bad options fail at the boundary", async () => {
  const session = await broker();
  await assert.rejects(
    customerTokens(session, { scopes: [], customers: ["x"] }).next(),
    /scopes must name at least one scope/,
  );
  await assert.rejects(
    customerTokens(session, { scopes: [GRAPH], customers: ["x"], concurrency: 0 }).next(),
    /concurrency must be a whole number/,
  );
  await assert.rejects(
    customerTokens(session, { scopes: [GRAPH] }).next(),
    /Give the customers, or a partnerCenter client/,
  );
});
