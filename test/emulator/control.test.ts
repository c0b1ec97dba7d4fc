/** The control API, over HTTP: clock, faults, revocation, users, the request log (secrets redacted). */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness, aadsts } from "./harness.ts";

const GRAPH = "https://graph.microsoft.com";
let h: Harness;
let partner: string;

before(async () => {
  h = await Harness.start({ autoApprove: true });
  partner = h.info.partnerTenant.id;
});
after(() => h.close());

const credentials = () => h.credentials(partner);

describe("control API", () => {
  test("GET /_emulator/info is the ready line", async () => {
    const res = await h.fetch("/_emulator/info");
    assert.deepEqual(res.json, JSON.parse(JSON.stringify(h.info)));
  });

  test("a status fault with Retry-After applies to the next N requests only", async () => {
    const set = await h.fetch("/_emulator/faults", {
      json: { path: `/${partner}/oauth2/v2.0/token`, count: 2, status: 429, retryAfter: 3 },
    });
    assert.equal(set.status, 200);
    for (let i = 0; i < 2; i++) {
      const res = await credentials();
      assert.equal(res.status, 429);
      assert.equal(res.headers["retry-after"], "3");
      aadsts(res.json);
    }
    assert.equal((await credentials()).status, 200);
  });

  test("a dropped connection, a malformed body and a delay", async () => {
    await h.fetch("/_emulator/faults", { json: { path: `/${partner}/oauth2`, drop: true } });
    await assert.rejects(credentials(), /socket hang up|ECONNRESET/);
    await h.fetch("/_emulator/faults", { json: { path: `/${partner}/oauth2`, malformed: true } });
    const malformed = await credentials();
    assert.equal(malformed.status, 200);
    assert.throws(() => JSON.parse(malformed.text));
    await h.fetch("/_emulator/faults", { json: { path: `/${partner}/oauth2`, delayMs: 300 } });
    const started = Date.now();
    assert.equal((await credentials()).status, 200);
    assert.ok(Date.now() - started >= 290);
  });

  test("bad control requests name what is wrong", async () => {
    const noEffect = await h.fetch("/_emulator/faults", { json: { path: "/x" } });
    assert.equal(noEffect.status, 400);
    assert.match(
      String(noEffect.json["message"]),
      /at least one of status, delayMs, drop, malformed/,
    );
    const clock = await h.fetch("/_emulator/clock", { json: { advanceSeconds: "soon" } });
    assert.equal(clock.status, 400);
    assert.match(String(clock.json["message"]), /advanceSeconds/);
  });

  test("the clock moves token times", async () => {
    const before = await h.verify(String((await credentials()).json["access_token"]));
    const moved = await h.fetch("/_emulator/clock", { json: { advanceSeconds: 0 } });
    assert.equal(moved.status, 200);
    assert.ok(Math.abs(Date.parse(String(moved.json["now"])) - Date.now()) < 60_000);
    assert.ok(Number(before.exp) - Number(before.iat) === 3600);
  });

  test("revoke by user, over HTTP", async () => {
    const ropc = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "password",
      username: h.info.user.username,
      password: h.info.user.password,
      scope: `offline_access ${GRAPH}/User.Read`,
    });
    const rt = String(ropc.json["refresh_token"]);
    const res = await h.fetch("/_emulator/revoke", { json: { username: h.info.user.username } });
    assert.ok(Number(res.json["revoked"]) >= 1);
    const refused = await h.token("organizations", {
      client_id: h.info.apps.public.clientId,
      grant_type: "refresh_token",
      refresh_token: rt,
    });
    assert.equal(aadsts(refused.json), 50173);
  });

  test("the request log records requests without secrets", async () => {
    await h.fetch("/_emulator/requests", { method: "DELETE" });
    await credentials();
    await h.token(partner, {
      ...h.confidential({ client_secret: "a-wrong-secret-value" }),
      grant_type: "client_credentials",
      scope: `${GRAPH}/.default`,
    });
    const log = await h.fetch("/_emulator/requests");
    const entries = log.json["requests"] as {
      path: string;
      status: number;
      note: Record<string, string>;
    }[];
    assert.equal(entries.length, 2);
    assert.equal(entries[0]!.status, 200);
    assert.equal(entries[0]!.note["grant_type"], "client_credentials");
    assert.equal(entries[1]!.status, 401);
    assert.match(entries[1]!.note["error"]!, /7000215/);
    assert.doesNotMatch(log.text, /a-wrong-secret-value/);
    assert.doesNotMatch(
      log.text,
      new RegExp(h.info.apps.confidential.clientSecret.replace(/[.~]/g, "\\$&")),
    );
  });
});

describe("request bodies", () => {
  test("an oversized body gets Entra's 413 answer, and the server goes on", async () => {
    const res = await h.token(partner, {
      ...h.confidential(),
      grant_type: "client_credentials",
      scope: "x".repeat(1_100_000),
    });
    assert.equal(res.status, 413);
    aadsts(res.json);
    assert.equal((await credentials()).status, 200);
  });
});

describe("control API validation and unknown endpoints", () => {
  test("a fault status must be an error status; the clock must stay representable", async () => {
    for (const status of [0, 101, 204, 304, 600, 1e9]) {
      const res = await h.fetch("/_emulator/faults", { json: { path: "/x", status } });
      assert.equal(res.status, 400, `status ${status}`);
      assert.match(String(res.json["message"]), /^status: must be an error status from 400 to 599/);
    }
    for (const advanceSeconds of [1e13, -1, 1e308]) {
      const res = await h.fetch("/_emulator/clock", { json: { advanceSeconds } });
      assert.equal(res.status, 400);
      assert.match(String(res.json["message"]), /^advanceSeconds: /);
    }
    const limit = await h.fetch("/_emulator/requests?limit=0");
    assert.equal(limit.status, 400);
    assert.match(String(limit.json["message"]), /^limit: /);
    assert.equal((await credentials()).status, 200, "still serving");
  });

  test("404 and 405 in Entra's shape; Partner Center's and Azure's on their paths", async () => {
    const missing = await h.fetch("/nowhere/at/all");
    assert.equal(missing.status, 404);
    aadsts(missing.json);
    const wrongMethod = await h.fetch(`/${partner}/oauth2/v2.0/token`, { method: "GET" });
    assert.equal(wrongMethod.status, 405);
    assert.equal(aadsts(wrongMethod.json), 900561);
    assert.equal(wrongMethod.headers["allow"], "POST");
    const pc = await h.fetch("/v1/nothing-here");
    assert.equal(pc.status, 404);
    assert.equal(typeof pc.json["code"], "number");
    assert.equal(typeof pc.json["description"], "string");
    const arm = await h.fetch("/subscriptions?api-version=2022-12-01", { method: "DELETE" });
    assert.equal(arm.status, 405);
    assert.equal(arm.json["error"]["code"], "MethodNotAllowed");
  });
});
