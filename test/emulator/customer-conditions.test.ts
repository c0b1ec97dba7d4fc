/**
 * The emulator's real-world conditions for the bulk job: generated customers without delegated
 * access (AADSTS50020) or without consent (AADSTS65001) on the refresh grant, the token endpoint
 * throttled per client app (429 + Retry-After), latency on every answer, and --print-seed.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { defaultSeed, parseSeed, SeedError } from "../../src/emulator/index.ts";
import { Harness, aadsts } from "./harness.ts";

const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";
const AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const PUBLIC_APP = "8041dc5f-49f9-4351-a3dd-dbc24f56f68e";
const GRAPH = "https://graph.microsoft.com/.default";

let h: Harness;
let refreshToken: string;

async function passwordToken(client: string): Promise<Record<string, any>> {
  const r = await h.token(PARTNER, {
    grant_type: "password",
    client_id: client,
    username: h.info.user.username,
    password: h.info.user.password,
    scope: `${GRAPH} offline_access`,
  });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

before(async () => {
  h = await Harness.start({
    seed: {
      ...defaultSeed,
      relationships: [],
      settings: { throttle: { tokenRequestsPerSecond: 5 } },
      generatedCustomers: { partner: PARTNER, count: 20, withoutAccess: 3, withoutConsent: 2 },
    },
  });
  refreshToken = (await passwordToken(AZURE_CLI)).refresh_token;
});
after(() => h.close());

/** Waits out the throttle's one-second window, so that each test starts with a full allowance. */
const calm = () => new Promise((r) => setTimeout(r, 1100));

test("generated customers: some lose delegated access (AADSTS50020), some consent (AADSTS65001), the rest give tokens", async () => {
  await calm();
  const customers = h.info.customers;
  assert.equal(customers.length, 20);
  const codes: Record<string, number> = {};
  for (const [i, c] of customers.entries()) {
    if (i > 0 && i % 5 === 0) await calm();
    // The Azure CLI's app is installed in every tenant (the partner's own apps are not).
    const res = await h.token(c.id, {
      client_id: AZURE_CLI,
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      scope: GRAPH,
    });
    if (res.status === 200) {
      const claims = await h.verify(res.json.access_token, c.id);
      assert.equal(claims["tid"], c.id);
      codes["ok"] = (codes["ok"] ?? 0) + 1;
    } else {
      assert.equal(res.status, 400);
      assert.equal(res.json.error, "invalid_grant");
      const code = aadsts(res.json);
      codes[code] = (codes[code] ?? 0) + 1;
      if (code === 50020) assert.match(res.json.error_description, /does not exist in tenant/);
      if (code === 65001) assert.equal(res.json.suberror, "consent_required");
    }
  }
  assert.deepEqual(codes, { ok: 15, 50020: 3, 65001: 2 });
});

test("the seed refuses more special customers than customers, naming the key", () => {
  assert.throws(
    () =>
      parseSeed({
        ...defaultSeed,
        generatedCustomers: { partner: PARTNER, count: 3, withoutAccess: 2, withoutConsent: 2 },
      }),
    (e: unknown) =>
      e instanceof SeedError &&
      /generatedCustomers: withoutAccess \+ withoutConsent/.test(e.message),
  );
});

test("throttle: above tokenRequestsPerSecond per client app the token endpoint answers 429 with Retry-After in Entra's shape", async () => {
  await calm();
  const form = (client: string) => ({
    client_id: client,
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    scope: GRAPH,
  });
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => h.token(PARTNER, form(AZURE_CLI))),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  const refused = answers.find((a) => a.status === 429)!;
  assert.equal(refused.headers["retry-after"], "1");
  assert.equal(refused.json.error, "too_many_requests");
  assert.equal(aadsts(refused.json), 50196);
  // Per client app: another app still has its own allowance in the same second.
  const other = await h.token(PARTNER, {
    client_id: PUBLIC_APP,
    grant_type: "refresh_token",
    refresh_token: (await passwordToken(PUBLIC_APP)).refresh_token,
    scope: GRAPH,
  });
  assert.equal(other.status, 200, other.text);
  // After the window, the first app is served again.
  await calm();
  assert.equal((await h.token(PARTNER, form(AZURE_CLI))).status, 200);
});

test("latencyMs is added to every answer but the control API's", async () => {
  const slow = await Harness.start({ seed: { ...defaultSeed, settings: { latencyMs: 1000 } } });
  try {
    let started = performance.now();
    const r = await slow.fetch(`/${PARTNER}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.ok(performance.now() - started > 990, "discovery waited for the latency");
    started = performance.now();
    assert.equal((await slow.fetch("/_emulator/info")).status, 200);
    assert.ok(performance.now() - started < 700, "the control API does not wait");
  } finally {
    await slow.close();
  }
});

test("partner-token emulator --print-seed prints the embedded seed, a valid start for one's own", () => {
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const r = spawnSync(process.execPath, [main, "emulator", "--print-seed"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const seed = JSON.parse(r.stdout);
  assert.equal(seed.settings.latencyMs, 0);
  assert.deepEqual(seed.tenants, defaultSeed.tenants);
  assert.doesNotThrow(() => parseSeed(seed));
});
