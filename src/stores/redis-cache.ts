/**
 * `--cache redis://HOST:PORT[/DB]`: the access-token cache and the renewal lock of a fleet in one
 * Redis, so that N workers on N machines renew each (account, tenant, scopes) once and share the
 * result.
 *
 * - Entries are encrypted (AES-256-GCM, `encryption.ts`) under a key name that is a hash of the
 *   cache key, and expire in Redis when the token does.
 * - In a Redis Cluster (`redis+cluster://`) an entry and its lock share a hash tag (one slot);
 *   each script touches one key.
 * - The lock is `SET lock <random id> NX PX ttl`; its holder extends it while it works and
 *   releases it with a compare-and-delete script, so it never deletes a lock it lost. A holder
 *   that dies (SIGKILL, a lost machine) stops extending it, and the lock frees itself after
 *   `lockTtlMs`. Waiters poll.
 */
import { createHash, randomBytes } from "node:crypto";
import { CancelledError } from "../client/errors.ts";
import type { CachedToken, TokenCache } from "../session/types.ts";
import { decryptFromRedis, encryptForRedis } from "./encryption.ts";
import { StoreError } from "./errors.ts";
import { RedisConnection, type RedisAddress } from "./redis-connection.ts";

const PREFIX = "partner-token:";

/** Deletes the lock only when it is still ours. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;
/** Extends the lock only when it is still ours. */
const EXTEND = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisTokenCacheOptions {
  /** 32 bytes; every worker of a fleet uses the same key. */
  encryptionKey: Buffer;
  /** A lock whose holder stopped extending it (died) frees itself after this long. Default 10 s. */
  lockTtlMs?: number;
  /** Give up waiting for a lock after this long. Default 120 s. */
  lockTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hashOf = (text: string): string =>
  createHash("sha256").update(text).digest("base64url").slice(0, 32);

/**
 * A {@link TokenCache} in Redis, shared by every worker that points at the same Redis and key.
 *
 * @example
 * ```ts
 * const cache = await RedisTokenCache.open(parseRedisUri("redis://10.0.0.5:6379/0", "--cache"), {
 *   encryptionKey: parseEncryptionKey(process.env.PARTNER_TOKEN_ENCRYPTION_KEY!),
 * });
 * const token = await cache.withLock("renew:…", async () => renew());
 * await cache.close();
 * ```
 */
export class RedisTokenCache implements TokenCache {
  readonly #connection: RedisConnection;
  readonly #key: Buffer;
  readonly #lockTtlMs: number;
  readonly #lockTimeoutMs: number;

  private constructor(connection: RedisConnection, options: RedisTokenCacheOptions) {
    this.#connection = connection;
    this.#key = options.encryptionKey;
    this.#lockTtlMs = options.lockTtlMs ?? 10_000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 120_000;
  }

  /** Connects to Redis; a {@link StoreError} names Redis and the address when it does not answer. */
  static async open(
    address: RedisAddress,
    options: RedisTokenCacheOptions,
  ): Promise<RedisTokenCache> {
    return new RedisTokenCache(await RedisConnection.open(address), options);
  }

  /** Where the cache is, without a password. */
  get description(): string {
    return this.#connection.address.description;
  }

  /**
   * `partner-token:token:{HASH}` and `partner-token:lock:{HASH}`: the braces make HASH the key's
   * hash tag, so in a Redis Cluster an entry and its renewal lock live in one slot, on one master
   * (one failover moves both together), while different entries spread over the cluster.
   */
  #entryKey(key: string): string {
    return `${PREFIX}token:{${hashOf(key)}}`;
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const redisKey = this.#entryKey(key);
    const stored = await this.#connection.run("read the token cache", (r) => r.get(redisKey));
    if (stored === null) return undefined;
    const entry = JSON.parse(decryptFromRedis(this.#key, redisKey, stored, this.description)) as {
      key: string;
      token: CachedToken;
    };
    // A hash collision is as good as impossible; a value moved from another key would not decrypt.
    return entry.key === key ? entry.token : undefined;
  }

  async set(key: string, token: CachedToken): Promise<void> {
    const ttl = token.expiresAt - Date.now();
    if (ttl <= 0) return;
    const redisKey = this.#entryKey(key);
    const value = encryptForRedis(this.#key, redisKey, JSON.stringify({ key, token }));
    await this.#connection.run("write the token cache", (r) => r.set(redisKey, value, "PX", ttl));
  }

  async list(): Promise<Array<{ key: string; token: CachedToken }>> {
    const out: Array<{ key: string; token: CachedToken }> = [];
    await this.#connection.run("list the token cache", (r) =>
      this.#connection.scanKeys(`${PREFIX}token:*`, async (redisKey) => {
        // Read through the client, which routes the key to its master in a Cluster.
        const stored = await r.get(redisKey);
        if (stored === null) return;
        out.push(
          JSON.parse(decryptFromRedis(this.#key, redisKey, stored, this.description)) as {
            key: string;
            token: CachedToken;
          },
        );
      }),
    );
    return out;
  }

  async withLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lockKey = `${PREFIX}lock:{${hashOf(name)}}`;
    const id = randomBytes(16).toString("base64url");
    const ttl = this.#lockTtlMs;
    const deadline = Date.now() + this.#lockTimeoutMs;
    let wait = 20;
    for (;;) {
      if (signal?.aborted) throw new CancelledError();
      const taken = await this.#connection.run("take the renewal lock", (r) =>
        r.set(lockKey, id, "PX", ttl, "NX"),
      );
      if (taken === "OK") break;
      if (Date.now() > deadline)
        throw new StoreError(
          "ERR_REDIS_LOCK_TIMEOUT",
          this.description,
          `Another worker has held the renewal lock in ${this.description} for over ${Math.round(this.#lockTimeoutMs / 1000)} s.`,
          { hint: "It is still renewing (its lock keeps being extended); try again later." },
        );
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, 200);
    }
    // Extend while working, so a slow renewal keeps its lock and only a dead holder loses it.
    const extender = setInterval(
      () => {
        this.#connection.redis.eval(EXTEND, 1, lockKey, id, ttl).catch(() => {
          /* the release below reports a Redis that went away */
        });
      },
      Math.max(ttl / 3, 50),
    );
    extender.unref();
    try {
      return await fn();
    } finally {
      clearInterval(extender);
      await this.#connection
        .run("release the renewal lock", (r) => r.eval(RELEASE, 1, lockKey, id))
        .catch(() => {
          // Not fatal: the lock expires by itself after its TTL.
        });
    }
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }
}
