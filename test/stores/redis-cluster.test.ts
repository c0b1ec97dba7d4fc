/**
 * A fleet on a real Redis Cluster (Debian's redis-server: 3 masters, 3 replicas, on free ports):
 * the refresh-token store and the fleet cache through `redis+cluster://`, and what a failover
 * does to ten workers renewing through it (redis-failover.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  openRefreshTokenStore,
  openTokenCache,
  parseEncryptionKey,
} from "../../src/stores/index.ts";
import { emuFlags, runCli, startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { sessionEnv } from "../session/helpers.ts";
import { newKey } from "./helpers.ts";
import { proveFailover } from "./redis-failover.ts";
import { startRedisCluster, withNode, type RunningCluster } from "./redis-ha.ts";

describe("redis+cluster: a fleet on a Redis Cluster", () => {
  let emu: Emulator;
  let cluster: RunningCluster;
  before(async () => {
    [emu, cluster] = await Promise.all([startTestEmulator(), startRedisCluster()]);
  });
  after(async () => {
    await cluster?.close();
    await emu?.close();
  });

  it("keeps an entry and its renewal lock in one slot, entries spread over the masters", async () => {
    const encryptionKey = parseEncryptionKey(newKey());
    const cache = await openTokenCache(cluster.url, { encryptionKey });
    try {
      const token = {
        result: { accessToken: "eyJ.secret-cluster-token.sig" } as never,
        expiresAt: Date.now() + 60_000,
        obtainedAt: Date.now(),
      };
      for (let i = 0; i < 12; i++) await cache.set(`key-${i}`, token);
      assert.deepEqual(await cache.get("key-3"), token);
      const listed = (await cache.list!()).map((e) => e.key).sort();
      assert.equal(listed.length, 12, "list reads every master");
      const entries = await cluster.keys("partner-token:token:*");
      const masters = new Set(
        await Promise.all(entries.map(async (k) => (await cluster.masterOf(k)).port)),
      );
      assert.ok(masters.size > 1, "entries spread over more than one master");
      await cache.withLock("key-3", async () => {
        const [lock] = await cluster.keys("partner-token:lock:*");
        assert.ok(lock, "the lock is held");
        const entry = entries.find((k) => k.endsWith(lock.slice(lock.indexOf("{"))))!;
        assert.ok(entry, "the lock and its entry share a hash tag");
        assert.equal((await cluster.masterOf(lock)).port, (await cluster.masterOf(entry)).port);
      });
      assert.equal((await cluster.keys("partner-token:lock:*")).length, 0, "released");
    } finally {
      await cache.close?.();
    }
  });

  it("the command line's --cache takes redis+cluster://: one renewal, then the fleet's cached token", async () => {
    const env = {
      ...(await sessionEnv()),
      CLIENT_SECRET: emu.info.apps.confidential.clientSecret,
      PARTNER_TOKEN_ENCRYPTION_KEY: newKey(),
    };
    const graph = "https://graph.microsoft.com/.default";
    const connected = await runCli(
      [
        "connect",
        "--service-principal",
        "--application-id",
        emu.info.apps.confidential.clientId,
        "--credential",
        "env:CLIENT_SECRET",
        "--tenant",
        emu.info.partnerTenant.id,
        ...emuFlags(emu),
        "--scopes",
        graph,
        "-o",
        "none",
      ],
      { env },
    );
    assert.equal(connected.code, 0, connected.stderr);
    const before = (await cluster.keys("partner-token:token:*")).length;
    const grants = () =>
      emu.requests().filter((e) => e.note["grant_type"] === "client_credentials").length;
    const granted = grants();
    const first = await runCli(["token", "--cache", cluster.url, "--scopes", graph], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(grants(), granted + 1, "renewed once: the fleet cache starts empty");
    assert.equal((await cluster.keys("partner-token:token:*")).length, before + 1);
    const second = await runCli(["token", "--scopes", graph], {
      env: { ...env, PARTNER_TOKEN_CACHE: cluster.url },
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.accessToken, first.json.accessToken, "from the cluster");
    assert.equal(grants(), granted + 1);
  });

  it("writes the refresh token only once a replica has it", async () => {
    const encryptionKey = parseEncryptionKey(newKey());
    const store = await openRefreshTokenStore(`${cluster.url}#cluster-rt`, { encryptionKey });
    try {
      await store.write("0.AAAA-a-refresh-token-for-the-cluster");
      const master = await cluster.masterOf("cluster-rt");
      const role = await withNode(master.port, (r) => r.role());
      const replicaPort = (role[2] as Array<[string, string]>)[0]![1];
      const onReplica = await withNode(Number(replicaPort), async (r) => {
        await r.call("READONLY");
        return r.hget("cluster-rt", "value");
      });
      assert.ok(onReplica, "the replica holds the value as soon as the write returned");
      assert.equal((await store.read())?.token, "0.AAAA-a-refresh-token-for-the-cluster");
    } finally {
      await store.close?.();
    }
  });

  it("the bulk job's shared throttle runs its scripts on the cluster (its keys in one slot)", async () => {
    const { RedisThrottle } = await import("../../src/customers/redis-throttle.ts");
    const app = `cluster-app-${Date.now()}`;
    const a = await RedisThrottle.open(cluster.url, { app });
    const b = await RedisThrottle.open(cluster.url, { app });
    try {
      assert.equal(await b.currentLimit(), Infinity);
      const sent: number[] = [];
      for (let i = 0; i < 5; i++) sent.push(await a.acquire());
      for (const t of sent.slice(0, 4)) await a.succeeded(t);
      await a.throttled(sent[4]!, undefined);
      const limit = await b.currentLimit();
      assert.ok(limit >= 1 && limit <= 4, `b sees the limit a learned (${limit})`);
      const keys = await cluster.keys(`partner-token:throttle:{${app}}:*`);
      assert.ok(keys.length >= 2, "several keys, all on one master");
      const masters = new Set(
        await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)),
      );
      assert.equal(masters.size, 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it(
    "10 workers; the master holding the refresh token killed mid-renewal: no sign-in, nothing lost",
    { timeout: 240_000 },
    async () => {
      await proveFailover(emu, {
        cacheUri: cluster.url,
        storeKey: "fleet-rt",
        dropCachedTokens: () => cluster.del("partner-token:token:*"),
        lockHeld: async () => (await cluster.keys("partner-token:lock:*")).length > 0,
        killMasterOf: async (key) => (await cluster.masterOf(key)).kill(),
        waitForFailover: (key) => cluster.waitHealthy(key, 60_000),
        killEveryCopyOf: (key) => cluster.killShardOf(key),
      });
    },
  );
});
