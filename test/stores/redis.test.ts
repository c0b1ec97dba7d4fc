/**
 * Redis, for real (Debian's redis-server on a free port): the refresh-token store and the fleet
 * cache, encrypted; ten worker processes sharing one renewal; Redis going away; a lock holder
 * killed with SIGKILL.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { openRefreshTokenStore, openTokenCache, StoreError } from "../../src/stores/index.ts";
import { parseEncryptionKey } from "../../src/stores/encryption.ts";
import {
  emuFlags,
  GRAPH,
  MAIN,
  runCli,
  startTestEmulator,
  verifyEmulatorToken,
  type Emulator,
} from "../cli/helpers.ts";
import {
  cliEnv,
  control,
  dumpRedis,
  freePort,
  newKey,
  proveStore,
  refreshRequests,
  seedStore,
  startRedis,
  type RunningRedis,
} from "./helpers.ts";

const TOKEN = "0.AAAA-a-refresh-token-for-redis-tests";

describe("redis: store and cache (library)", () => {
  let redis: RunningRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.close());

  it("keeps the refresh token encrypted, bound to its key, and reads it back", async () => {
    const key = parseEncryptionKey(newKey());
    const store = await openRefreshTokenStore(`${redis.url}/0#lib-rt`, { encryptionKey: key });
    try {
      assert.equal(store.description, `redis://127.0.0.1:${redis.port}/0#lib-rt`);
      assert.equal(await store.read(), null);
      await store.write(TOKEN);
      const read = await store.read();
      assert.equal(read?.token, TOKEN);
      assert.ok(read?.updatedAt && Math.abs(read.updatedAt - Date.now()) < 60_000);
      const raw = await dumpRedis(redis.client);
      assert.ok(raw.length > 0);
      assert.ok(!raw.some((v) => v.includes(TOKEN)), "the token is not in Redis in clear");
      await assert.rejects(store.write(""), /Refusing to write an empty refresh token/);
      assert.equal((await store.read())?.token, TOKEN);
    } finally {
      await store.close?.();
    }
    // A value moved to another key, or read with another key, does not decrypt.
    await redis.client.copy("lib-rt", "lib-rt-copy");
    const copy = await openRefreshTokenStore(`${redis.url}/0#lib-rt-copy`, { encryptionKey: key });
    const other = await openRefreshTokenStore(`${redis.url}/0#lib-rt`, {
      encryptionKey: parseEncryptionKey(newKey()),
    });
    try {
      await assert.rejects(copy.read(), (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.match(e.message, /cannot be read: the value does not decrypt/);
        return true;
      });
      await assert.rejects(other.read(), /does not decrypt with this key/);
    } finally {
      await copy.close?.();
      await other.close?.();
    }
  });

  it("never writes an older token over a newer one", async () => {
    const key = parseEncryptionKey(newKey());
    const store = await openRefreshTokenStore(`${redis.url}/0#cas-rt`, { encryptionKey: key });
    try {
      await redis.client.hset("cas-rt", "updatedAt", String(Date.now() + 60_000), "value", "x");
      await store.write(TOKEN);
      assert.equal(await redis.client.hget("cas-rt", "value"), "x", "the newer value stayed");
    } finally {
      await store.close?.();
    }
  });

  it("refuses Redis without an encryption key, saying how to make one", async () => {
    await assert.rejects(openRefreshTokenStore(`${redis.url}#k`), /openssl rand -base64 32/);
    await assert.rejects(openTokenCache(redis.url), /openssl rand -base64 32/);
  });

  it("cache: encrypted entries that expire with the token; a lock taken by one at a time", async () => {
    const encryptionKey = parseEncryptionKey(newKey());
    const a = await openTokenCache(redis.url, { encryptionKey, lockTtlMs: 1000 });
    const b = await openTokenCache(redis.url, { encryptionKey, lockTtlMs: 1000 });
    try {
      const token = {
        result: { accessToken: "eyJhbGciOi.secret-access-token.sig" } as never,
        expiresAt: Date.now() + 60_000,
        obtainedAt: Date.now(),
      };
      await a.set("k1", token);
      assert.deepEqual(await b.get("k1"), token);
      assert.ok(!(await dumpRedis(redis.client)).some((v) => v.includes("secret-access-token")));
      const ttl = await redis.client.pttl((await redis.client.keys("partner-token:token:*"))[0]!);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `entry expires with the token (${ttl} ms)`);
      assert.deepEqual(
        (await a.list!()).map((e) => e.key),
        ["k1"],
      );

      const order: string[] = [];
      const slow = (name: string) => async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 1500)); // longer than the TTL: extended meanwhile
        order.push(`${name} out`);
      };
      await Promise.all([a.withLock("renew", slow("a")), b.withLock("renew", slow("b"))]);
      assert.deepEqual(
        order.map((s) => s.split(" ")[1]),
        ["in", "out", "in", "out"],
      );
      assert.equal((await redis.client.keys("partner-token:lock:*")).length, 0, "released");
    } finally {
      await a.close?.();
      await b.close?.();
    }
  });
});

describe("redis: through the command line", () => {
  let emu: Emulator;
  let redis: RunningRedis;
  const key = newKey();
  before(async () => {
    [emu, redis] = await Promise.all([startTestEmulator(), startRedis()]);
  });
  after(async () => {
    await emu?.close();
    await redis?.close();
  });

  const storeUri = () => `${redis.url}/0#partner-rt`;
  const readStore = async (): Promise<string | null> => {
    const store = await openRefreshTokenStore(storeUri(), {
      encryptionKey: parseEncryptionKey(key),
    });
    try {
      return (await store.read())?.token ?? null;
    } finally {
      await store.close?.();
    }
  };
  const workerArgs = (extra: string[] = []) => [
    "token",
    "--refresh-token-store",
    storeUri(),
    "--cache",
    redis.url,
    "--encryption-key",
    "env:PT_KEY",
    "--application-id",
    emu.info.apps.confidential.clientId,
    "--credential",
    "env:APP_SECRET",
    "--tenant",
    emu.info.customers[1]!.domain,
    "--scopes",
    GRAPH,
    ...emuFlags(emu),
    ...extra,
  ];
  const workerEnv = () =>
    cliEnv({ PT_KEY: key, APP_SECRET: emu.info.apps.confidential.clientSecret });

  it("sign-in writes, token rotates, a revoked token exits 4 and leaves the store", async () => {
    await proveStore(emu, storeUri(), readStore, {
      extra: ["--encryption-key", "env:PT_KEY"],
      env: { PT_KEY: key },
    });
  });

  // Ten processes at once on a shared machine: more time than one command needs.
  it(
    "10 workers with their own local caches and one Redis: one refresh, ten valid tokens, nothing in clear",
    { timeout: 240_000 },
    async () => {
      await seedRedisStore();
      await control(emu, "requests", undefined, "DELETE");
      const env = await Promise.all(Array.from({ length: 10 }, () => workerEnv()));
      const results = await Promise.all(
        env.map((e) => runCli(workerArgs(), { env: e, timeoutMs: 200_000 })),
      );
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      assert.equal(await refreshRequests(emu), 1, "exactly one refresh request for the fleet");
      const tokens = results.map((r) => r.json.accessToken as string);
      assert.equal(new Set(tokens).size, 1, "all ten share the one renewed token");
      for (const t of tokens)
        await verifyEmulatorToken(emu, t, {
          audience: "https://graph.microsoft.com",
          tenantId: emu.info.customers[1]!.id,
        });
      const rt = await readStore();
      const everything = await dumpRedis(redis.client);
      for (const value of everything) {
        assert.ok(!value.includes(tokens[0]!), "no access token in clear");
        assert.ok(!rt || !value.includes(rt), "no refresh token in clear");
        assert.doesNotMatch(value, /eyJ[\w-]+\.eyJ/, "no JWT in clear");
      }
    },
  );

  /** Empties the fleet cache, so that the next worker renews. */
  async function dropCachedTokens(): Promise<void> {
    const keys = await redis.client.keys("partner-token:token:*");
    if (keys.length > 0) await redis.client.del(...keys);
  }

  /** Puts a fresh refresh token in the Redis store: an App + User sign-in. */
  async function seedRedisStore(): Promise<void> {
    const r = await seedStore(emu, storeUri(), {
      extra: ["--encryption-key", "env:PT_KEY"],
      env: await workerEnv(),
    });
    assert.equal(r.code, 0, r.stderr);
  }

  it(
    "a worker killed with SIGKILL while holding the lock: the others carry on after its expiry",
    { timeout: 180_000 },
    async () => {
      await seedRedisStore();
      await dropCachedTokens();
      const path = `/${emu.info.customers[1]!.domain}/oauth2/v2.0/token`;
      await control(emu, "faults", { path, delayMs: 8000, count: 1 });
      const env = await workerEnv();
      const child = spawn(process.execPath, [MAIN, ...workerArgs()], {
        env: { ...cleanEnv(), ...env },
        stdio: "ignore",
      });
      const deadline = Date.now() + 15_000;
      while ((await redis.client.keys("partner-token:lock:*")).length === 0) {
        assert.ok(Date.now() < deadline, "the first worker took the lock");
        await new Promise((r) => setTimeout(r, 50));
      }
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      const [lock] = await redis.client.keys("partner-token:lock:*");
      assert.ok(lock, "the dead holder's lock is left");
      const left = await redis.client.pttl(lock);
      assert.ok(left > 0 && left <= 10_000, `it expires by itself (${left} ms left)`);
      // Nobody releases it and nothing is cached: the next worker can only renew once it expired.
      const next = await runCli(workerArgs(), { env: await workerEnv(), timeoutMs: 150_000 });
      assert.equal(next.code, 0, next.stderr);
      assert.equal(await redis.client.exists(lock), 0, "released by the worker that took it over");
      await verifyEmulatorToken(emu, next.json.accessToken, {
        audience: "https://graph.microsoft.com",
      });
    },
  );

  it("Redis unreachable: a clear error naming Redis and the address, no stack trace", async () => {
    const port = await freePort();
    const r = await runCli(
      workerArgs().map((a) => (a === redis.url ? `redis://127.0.0.1:${port}` : a)),
      { env: await workerEnv() },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("Redis stopped during a renewal: a clear error, and the new refresh token shown on request", async () => {
    await seedRedisStore();
    await dropCachedTokens();
    const path = `/${emu.info.customers[1]!.domain}/oauth2/v2.0/token`;
    await control(emu, "faults", { path, delayMs: 4000, count: 1 });
    const run = runCli(workerArgs(["--show-new-refresh-token"]), { env: await workerEnv() });
    // Stopped while the worker renews: it holds the lock, its refresh request is under way.
    const deadline = Date.now() + 15_000;
    while ((await redis.client.keys("partner-token:lock:*")).length === 0) {
      assert.ok(Date.now() < deadline, "the worker took the lock");
      await new Promise((r) => setTimeout(r, 50));
    }
    await redis.stop();
    const r = await run;
    await redis.restart();
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`Redis at 127\\.0\\.0\\.1:${redis.port}`));
    assert.match(r.stderr, /could not be written/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const shown = JSON.parse(r.stdout.trim().split("\n")[0]!);
    assert.ok(typeof shown.refreshToken === "string" && shown.refreshToken.length > 16);
  });
});

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|NODE_EXTRA_CA_CERTS|BROWSER$)/.test(k))
      env[k] = v;
  return env;
}
