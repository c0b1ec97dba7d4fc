/**
 * The shared throttle state: a 429 slows every worker (the window's limit is what the server
 * answered in the second before), a long Retry-After pauses everyone, and through Redis two
 * processes share the limit, the window and the pause.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { LocalThrottle, type Throttle } from "../../src/customers/throttle.ts";
import { RedisThrottle } from "../../src/customers/redis-throttle.ts";
import { startRedis, type RunningRedis } from "../stores/helpers.ts";

/** `sends` requests let through, the first `answered` of them answered; the last send time. */
async function burst(
  throttle: Throttle,
  sends: number,
  answered: number,
  unanswered: number[] = [],
): Promise<number> {
  let last = 0;
  for (let i = 0; i < sends; i++) {
    last = await throttle.acquire();
    if (i < answered) await throttle.succeeded(last);
    else unanswered.push(last);
  }
  return last;
}

/** How long `n` workers take to get through the throttle at once (the slowest); then they are done. */
async function timeAcquires(throttle: Throttle, n: number): Promise<number> {
  const started = performance.now();
  const sent = await Promise.all(Array.from({ length: n }, () => throttle.acquire()));
  const took = performance.now() - started;
  for (const t of sent) await throttle.failed(t);
  return took;
}

test("local: no limit until a 429; then every worker waits for room in the one-second window", async () => {
  const throttle = new LocalThrottle();
  assert.equal(await throttle.currentLimit(), Infinity);
  assert.ok((await timeAcquires(throttle, 50)) < 300, "no waiting before any 429");
  const throttle2 = new LocalThrottle();
  const sentAt = await burst(throttle2, 30, 20);
  await throttle2.throttled(sentAt, 1000);
  assert.equal(await throttle2.currentLimit(), 19, "95 % of the 20 answered in the last second");
  // 30 sent in this window, 19 allowed: the next workers wait until the oldest sends leave it.
  const waited = await timeAcquires(throttle2, 5);
  assert.ok(waited >= 850 && waited < 4000, `waited ${waited} ms`);
});

test("local: a 429 for a request sent before the limit changed does not lower it again", async () => {
  const throttle = new LocalThrottle();
  const early = await burst(throttle, 10, 10);
  const late = await throttle.acquire();
  await throttle.throttled(late, undefined);
  assert.equal(await throttle.currentLimit(), 9);
  await throttle.throttled(early, undefined);
  assert.equal(await throttle.currentLimit(), 9);
});

test("local: a Retry-After longer than the window pauses every worker", async () => {
  const throttle = new LocalThrottle();
  const sentAt = await burst(throttle, 5, 5);
  await throttle.throttled(sentAt, 2500);
  const waited = await timeAcquires(throttle, 3);
  assert.ok(waited >= 2400, `waited ${waited} ms`);
});

let redis: RunningRedis;
before(async () => {
  redis = await startRedis();
});
after(() => redis.close());

test("redis: two processes' throttles share the learned limit, the window and the pause", async () => {
  const app = `app-${Date.now()}`;
  const a = await RedisThrottle.open(redis.url, { app });
  const b = await RedisThrottle.open(redis.url, { app });
  const other = await RedisThrottle.open(redis.url, { app: `${app}-other` });
  try {
    assert.equal(await b.currentLimit(), Infinity);
    const inFlight: number[] = [];
    const sentAt = await burst(a, 30, 20, inFlight);
    inFlight.pop();
    await a.throttled(sentAt, 1000);
    assert.equal(await b.currentLimit(), 19, "b sees what a learned");
    const waited = await timeAcquires(b, 3);
    assert.ok(
      waited >= 850 && waited < 4000,
      `b waited ${waited} ms for a's sends to leave the window`,
    );
    assert.ok((await timeAcquires(other, 30)) < 800, "another app has its own state");

    // The rest of a's requests get their answers (no process leaves requests in flight for ever).
    for (const t of inFlight) await a.failed(t);
    const last = await a.acquire();
    await a.throttled(last, 2000);
    const paused = await timeAcquires(b, 1);
    assert.ok(paused >= 1800, `b paused ${paused} ms`);

    const ttl = await redis.client.pttl(`partner-token:throttle:{${app}}:state`);
    assert.ok(ttl > 0 && ttl <= 3_600_000, "the state expires on its own");
  } finally {
    await Promise.all([a.close(), b.close(), other.close()]);
  }
});

test("redis: an unreachable Redis is a clear error naming it", async () => {
  await assert.rejects(RedisThrottle.open("redis://127.0.0.1:1", { app: "x" }), (e: Error) =>
    /Redis at 127\.0\.0\.1:1: could not connect for the shared throttle/.test(e.message),
  );
});
