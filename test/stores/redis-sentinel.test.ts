/**
 * A fleet behind Redis Sentinel (Debian's redis-server: one master, one replica, three sentinels
 * in `--sentinel` mode, on free ports): the refresh-token store and the fleet cache through
 * `redis+sentinel://`, a write relied on only once the replica has it, and what a failover does
 * to ten workers renewing through it (redis-failover.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  openRefreshTokenStore,
  openTokenCache,
  parseEncryptionKey,
  StoreError,
} from "../../src/stores/index.ts";
import { startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { newKey } from "./helpers.ts";
import { proveFailover } from "./redis-failover.ts";
import { startRedisSentinel, withNode, type RunningSentinel } from "./redis-ha.ts";

describe("redis+sentinel: a fleet behind Redis Sentinel", () => {
  let emu: Emulator;
  let sentinel: RunningSentinel;
  before(async () => {
    [emu, sentinel] = await Promise.all([startTestEmulator(), startRedisSentinel()]);
  });
  after(async () => {
    await sentinel?.close();
    await emu?.close();
  });

  it("finds the master through the sentinels; the cache and the store work there", async () => {
    const encryptionKey = parseEncryptionKey(newKey());
    const cache = await openTokenCache(sentinel.url, { encryptionKey });
    const store = await openRefreshTokenStore(`${sentinel.url}/0#sentinel-rt`, { encryptionKey });
    try {
      assert.equal(
        store.description,
        `${sentinel.url}/0#sentinel-rt`,
        "the description names the sentinels, the master and the key",
      );
      const token = {
        result: { accessToken: "eyJ.secret-sentinel-token.sig" } as never,
        expiresAt: Date.now() + 60_000,
        obtainedAt: Date.now(),
      };
      await cache.set("k", token);
      assert.deepEqual(await cache.get("k"), token);
      await store.write("0.AAAA-a-refresh-token-behind-sentinel");
      // Written on the master, and on the replica before write() returned.
      const onMaster = await withNode(sentinel.master.port, (r) => r.hget("sentinel-rt", "value"));
      const onReplica = await withNode(sentinel.replica.port, (r) =>
        r.hget("sentinel-rt", "value"),
      );
      assert.ok(onMaster && onMaster === onReplica, "the replica holds what the master holds");
    } finally {
      await cache.close?.();
      await store.close?.();
    }
  });

  it("a write no replica confirms is not relied on: an error naming Redis", async () => {
    const encryptionKey = parseEncryptionKey(newKey());
    const store = await openRefreshTokenStore(`${sentinel.url}#paused-rt`, { encryptionKey });
    sentinel.replica.pause();
    try {
      await assert.rejects(store.write("0.AAAA-a-token-the-replica-never-sees"), (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.code, "ERR_REDIS_NOT_REPLICATED");
        assert.match(e.message, /^Redis at Sentinel .*no replica of the master confirmed/);
        return true;
      });
    } finally {
      sentinel.replica.resume();
      await store.close?.();
      await sentinel.waitInSync();
    }
  });

  it(
    "10 workers; the master killed mid-renewal: no sign-in, nothing lost, errors name Redis",
    { timeout: 240_000 },
    async () => {
      const onMaster = async <T>(fn: (r: import("ioredis").Redis) => Promise<T>) =>
        withNode((await sentinel.currentMaster()).port, fn);
      await proveFailover(emu, {
        cacheUri: sentinel.url,
        storeKey: "fleet-rt",
        dropCachedTokens: () =>
          onMaster(async (r) => {
            for (const k of await r.keys("partner-token:token:*")) await r.del(k);
          }),
        lockHeld: () => onMaster(async (r) => (await r.keys("partner-token:lock:*")).length > 0),
        killMasterOf: async () => (await sentinel.currentMaster()).kill(),
        waitForFailover: async () => {
          await sentinel.waitForMaster(60_000);
        },
        killEveryCopyOf: async () => {
          await sentinel.master.kill();
          await sentinel.replica.kill();
        },
      });
    },
  );
});
