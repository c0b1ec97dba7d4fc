/** The request log keeps the last N requests, oldest first, however many came before. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RequestLog, type RequestLogEntry } from "../../src/emulator/emulator.ts";

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
