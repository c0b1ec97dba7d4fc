/**
 * The Partner Center client against the emulator: /generatetoken and /v1/customers paging, the
 * headers of every call (a new MS-CorrelationId per call, MS-RequestId kept across retries, the
 * client name), retries honouring Retry-After, and 401/403/429/500 kept as PartnerCenterError.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { PartnerCenterClient, PartnerCenterError } from "../../src/partner-center/client.ts";
import { generatePartnerCenterToken } from "../../src/partner-center/generate-token.ts";
import { listCustomers } from "../../src/partner-center/customers.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import type { TokenSource } from "../../src/session/types.ts";
import {
  PARTNER,
  RefreshTokenSource,
  partnerRefreshToken,
  startScaleEmulator,
} from "../customers/helpers.ts";

let emu: RunningEmulator;
let source: RefreshTokenSource;

const client = (s: TokenSource = source) =>
  new PartnerCenterClient({ source: s, endpoint: emu.url, caFile: emu.caFile! });

const calls = (path: string) => emu.requests().filter((r) => r.path === path);

before(async () => {
  emu = await startScaleEmulator({ count: 1200 });
  source = new RefreshTokenSource(emu, await partnerRefreshToken(emu));
});
after(() => emu.close());

test("generatetoken: a Partner Center token for the partner, with the call's headers", async () => {
  emu.clearRequests();
  const token = await generatePartnerCenterToken(client());
  const claims = JSON.parse(Buffer.from(token.accessToken.split(".")[1]!, "base64url").toString());
  assert.equal(claims.tid, PARTNER);
  assert.equal(claims.aud, "https://api.partnercenter.microsoft.com");
  assert.equal(token.tokenType, "Bearer");
  assert.ok(Date.parse(token.expiresOn) > Date.now() + 800_000, token.expiresOn);
  const [call] = calls("/generatetoken");
  assert.equal(call!.status, 200);
  assert.equal(call!.headers["ms-correlationid"], token.correlationId);
  assert.match(call!.headers["ms-requestid"]!, /^[0-9a-f-]{36}$/);
  assert.equal(call!.headers["ms-partnercenter-client"], "partner-token");
  assert.equal(call!.note["grant_type"], "jwt_token");

  const again = await generatePartnerCenterToken(client());
  assert.notEqual(again.correlationId, token.correlationId, "a new correlation id per call");
});

test("a 500 then a 429 with Retry-After are retried: one call, the same MS-RequestId and correlation id", async () => {
  emu.clearRequests();
  emu.injectFault({ path: "/generatetoken", status: 500, count: 1 });
  emu.injectFault({ path: "/generatetoken", status: 429, retryAfter: 1, count: 1 });
  const started = Date.now();
  const token = await generatePartnerCenterToken(client());
  assert.ok(Date.now() - started >= 1000, "waited for Retry-After");
  const tries = calls("/generatetoken");
  assert.deepEqual(
    tries.map((t) => t.status),
    [500, 429, 200],
  );
  assert.equal(new Set(tries.map((t) => t.headers["ms-requestid"])).size, 1);
  assert.deepEqual(
    [...new Set(tries.map((t) => t.headers["ms-correlationid"]))],
    [token.correlationId],
  );
});

test("500 after every retry: PartnerCenterError with Partner Center's code, description, status and correlation id", async () => {
  emu.clearRequests();
  emu.injectFault({ path: "/generatetoken", status: 500, count: 4 });
  const error = await generatePartnerCenterToken(client()).then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PartnerCenterError);
  assert.equal(error.status, 500);
  assert.equal(error.code, "ERR_PARTNER_CENTER_500");
  assert.equal(error.partnerCenterCode, 900500);
  assert.match(error.errorDescription!, /transient error/);
  assert.match(error.hint!, /try again later/i);
  const tries = calls("/generatetoken");
  assert.equal(tries.length, 4, "the first attempt and three retries");
  assert.equal(error.correlationId, tries[0]!.headers["ms-correlationid"]);
  assert.equal(error.requestId, tries[0]!.headers["ms-requestid"]);
});

test("429 beyond the retries: PartnerCenterError 429 with its hint", async () => {
  emu.injectFault({ path: "/v1/customers", status: 429, retryAfter: 0, count: 4 });
  const error = await listCustomers(client())
    .next()
    .then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e,
    );
  assert.ok(error instanceof PartnerCenterError);
  assert.equal(error.status, 429);
  assert.equal(error.partnerCenterCode, 900429);
  assert.match(error.hint!, /throttling/);
});

test("401: a token Partner Center refuses, once more with a renewed token, then PartnerCenterError 401", async () => {
  let asked = 0;
  const forged: TokenSource = {
    async getToken(options) {
      asked++;
      const real = await source.getToken(options);
      return { ...real, accessToken: `${real.accessToken.slice(0, -8)}AAAAAAAA` };
    },
  };
  const error = await generatePartnerCenterToken(client(forged)).then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PartnerCenterError);
  assert.equal(error.status, 401);
  assert.equal(error.partnerCenterCode, 900401);
  assert.match(error.errorDescription!, /signature/);
  assert.match(error.hint!, /Sign in again/);
  assert.equal(asked, 2, "one renewal after the first 401");
});

test("403: a user with no Partner Center role", async () => {
  const sales = emu.info.user.username.replace(/^admin@/, "sales@");
  const salesSource = new RefreshTokenSource(
    emu,
    await partnerRefreshToken(emu, { username: sales, password: "Emulator-Sales-Passw0rd!" }),
  );
  const error = await generatePartnerCenterToken(client(salesSource)).then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PartnerCenterError);
  assert.equal(error.status, 403);
  assert.equal(error.partnerCenterCode, 900403);
  assert.match(error.message, /not authorized/);
  assert.match(error.hint!, /Admin agent/);
});

test("customers: every page through the continuation token, each customer once with tenantId, domain, name", async () => {
  emu.clearRequests();
  const customers = [];
  for await (const c of listCustomers(client(), { pageSize: 500 })) customers.push(c);
  assert.equal(customers.length, 1203, "1200 generated and the seed's 3");
  assert.equal(new Set(customers.map((c) => c.tenantId)).size, 1203);
  const first = customers.find((c) => c.domain === "customer00001.onmicrosoft.com")!;
  assert.match(first.tenantId, /^[0-9a-f-]{36}$/);
  assert.equal(first.name, "Customer 1");
  assert.equal(first.relationship, "reseller");
  const pages = calls("/v1/customers");
  assert.equal(pages.length, 3);
  assert.ok(pages.every((p) => p.status === 200 && p.query["size"] === "500"));
});
