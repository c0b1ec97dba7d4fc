/** The request log and the stores stay bounded: the last N requests within a byte budget, paged; the oldest codes and flows forgotten. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestLog, type RequestLogEntry } from "../../src/emulator/emulator.ts";
import { Store } from "../../src/emulator/store.ts";

const entry = (n: number) => ({ path: `/${n}` }) as RequestLogEntry;

test("a ring of the last N entries, oldest first", () => {
  const log = new RequestLog(3);
  assert.deepEqual(log.list(), []);
  log.push(entry(1));
  log.push(entry(2));
  assert.deepEqual(
    log.list().map((e) => e.path),
    ["/1", "/2"],
  );
  for (let n = 3; n <= 7; n++) log.push(entry(n));
  assert.deepEqual(
    log.list().map((e) => e.path),
    ["/5", "/6", "/7"],
  );
  log.clear();
  assert.deepEqual(log.list(), []);
  log.push(entry(8));
  assert.deepEqual(
    log.list().map((e) => e.path),
    ["/8"],
  );
});

test("the log stays within its byte budget, dropping the oldest entries", () => {
  const log = new RequestLog(1000, 10_000);
  for (let n = 0; n < 500; n++)
    log.push({ path: `/${n}`, query: { q: "x".repeat(200) } } as unknown as RequestLogEntry);
  assert.ok(log.bytes <= 10_000, `${log.bytes} bytes`);
  assert.ok(log.length > 10 && log.length < 100, `${log.length} entries`);
  assert.equal(log.list().at(-1)!.path, "/499");
});

test("pages by sequence number, stable while the log moves", () => {
  const log = new RequestLog(10);
  for (let n = 1; n <= 25; n++) log.push(entry(n));
  const first = log.page(0, 4);
  assert.deepEqual(
    first.requests.map((e) => e.path),
    ["/16", "/17", "/18", "/19"],
  );
  assert.equal(first.total, 10);
  for (let n = 26; n <= 27; n++) log.push(entry(n));
  const second = log.page(first.next!, 100);
  assert.deepEqual(
    second.requests.map((e) => e.path),
    ["/20", "/21", "/22", "/23", "/24", "/25", "/26", "/27"],
  );
  assert.equal(second.next, undefined);
});

test("the stores forget their oldest entries when full, and sweep what expired", () => {
  const store = new Store({ flows: 3, refreshTokens: 2 });
  for (let n = 0; n < 5; n++)
    store.flows.set(`f${n}`, {
      id: `f${n}`,
      params: {},
      tenantKey: "common",
      kind: "authorize",
      userOid: undefined,
      expiresAt: n < 3 ? 1000 : 10_000_000,
    });
  assert.deepEqual([...store.flows.keys()], ["f2", "f3", "f4"]);
  const rt = (issuedAt: number) => ({
    userOid: "u",
    username: "u@x",
    authTime: 0,
    amr: ["pwd"],
    clientId: "c",
    tenantId: "t",
    issuedAt,
    revoked: false,
  });
  const fresh = store.issueRefreshToken(rt(5_000_000));
  store.issueRefreshToken(rt(0));
  store.sweep(5_000_000, 1000);
  assert.deepEqual([...store.flows.keys()], ["f3", "f4"]);
  // The old token is kept for a grace period (AADSTS700082 rather than "unknown"), then goes.
  assert.equal(store.refreshTokens.size, 2);
  store.sweep(40 * 86_400_000, 1000);
  assert.equal(store.refreshTokens.size, 0);
  assert.ok(fresh);
});
