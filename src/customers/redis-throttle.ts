/**
 * The bulk job's throttle state in Redis (`--cache redis://…`), so that every process of a fleet
 * running with the same app slows down together: the same sliding window and learned limit as
 * {@link LocalThrottle}, kept in three keys and changed only by Lua scripts (atomic), on Redis's
 * own clock (`TIME`) so that machines whose clocks differ still agree.
 *
 * Keys, under `partner-token:throttle:{APP}`: `:sent` (sorted set of send times), `:answered`
 * (sorted set of answer times), `:state` (hash: `limit`, `changedAt`, `pauseUntil`). They
 * expire on their own when no job runs.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { PartnerTokenError } from "../client/errors.ts";
import { sleep } from "../client/http.ts";
import { GROWTH, GROWTH_AFTER_MS, LIMIT_MARGIN, type Throttle } from "./throttle.ts";

const WINDOW_MS = 1_000;

const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** → {1, sentAt} when let through, {0, waitMs} otherwise. */
const ACQUIRE = `${NOW}
local window = tonumber(ARGV[2])
local pause = tonumber(redis.call('HGET', KEYS[2], 'pauseUntil') or '0')
if now < pause then return {0, pause - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3 * window)
local limit = tonumber(redis.call('HGET', KEYS[2], 'limit') or '-1')
local changed = tonumber(redis.call('HGET', KEYS[2], 'changedAt') or '0')
if limit > 0 and now - changed > tonumber(ARGV[3]) then
  limit = math.ceil(limit * tonumber(ARGV[4]))
  redis.call('HSET', KEYS[2], 'limit', limit, 'changedAt', now)
end
local inWindow = redis.call('ZCOUNT', KEYS[1], now - window, '+inf')
if limit < 0 or inWindow < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 5 * window)
  redis.call('PEXPIRE', KEYS[2], 3600000)
  return {1, now}
end
local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], now - window, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {0, math.max(1, tonumber(oldest[2]) + window - now + 1)}`;

/** KEYS: answered. ARGV: member, window. */
const SUCCEEDED = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3 * tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], 5 * tonumber(ARGV[2]))
return 1`;

/** KEYS: sent, state, answered. ARGV: sentAt, retryAfterMs (-1: none), unused, window, margin. */
const THROTTLED = `${NOW}
local sentAt = tonumber(ARGV[1])
local window = tonumber(ARGV[4])
local changed = tonumber(redis.call('HGET', KEYS[2], 'changedAt') or '0')
if sentAt >= changed then
  local accepted = redis.call('ZCOUNT', KEYS[3], now - window, '(' .. now)
  redis.call('HSET', KEYS[2], 'limit', math.max(1, math.floor(accepted * tonumber(ARGV[5]))), 'changedAt', now)
end
local retryAfter = tonumber(ARGV[2])
if retryAfter > window then
  local pause = tonumber(redis.call('HGET', KEYS[2], 'pauseUntil') or '0')
  redis.call('HSET', KEYS[2], 'pauseUntil', math.max(pause, now + retryAfter))
end
redis.call('PEXPIRE', KEYS[2], 3600000)
return 1`;

/**
 * A throttle shared through Redis by every process that names the same app.
 *
 * @example
 * ```ts
 * const throttle = await RedisThrottle.open("redis://cache.internal:6379", { app: clientId });
 * try {
 *   for await (const r of customerTokens(session, { scopes, throttle })) …
 * } finally {
 *   await throttle.close();
 * }
 * ```
 */
export class RedisThrottle implements Throttle {
  readonly #redis: Redis;
  readonly #keys: { sent: string; answered: string; state: string };
  readonly #id = randomBytes(6).toString("hex");
  #counter = 0;

  private constructor(redis: Redis, app: string) {
    this.#redis = redis;
    const base = `partner-token:throttle:{${app.toLowerCase()}}`;
    this.#keys = { sent: `${base}:sent`, answered: `${base}:answered`, state: `${base}:state` };
  }

  /**
   * Connects to `uri` (`redis://[user:password@]HOST:PORT[/DB]`, `rediss://` for TLS; without a
   * password in the URI, `PARTNER_TOKEN_REDIS_PASSWORD`).
   */
  static async open(uri: string, options: { app: string }): Promise<RedisThrottle> {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new PartnerTokenError(
        "ERR_REDIS_URI",
        `--cache: not a URI; write redis://HOST:PORT[/DB].`,
      );
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:")
      throw new PartnerTokenError(
        "ERR_REDIS_URI",
        `--cache: the scheme '${url.protocol}' is not redis: or rediss:.`,
      );
    const { Redis } = await import("ioredis");
    const password = url.password
      ? decodeURIComponent(url.password)
      : process.env.PARTNER_TOKEN_REDIS_PASSWORD || undefined;
    const redis = new Redis({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port === "" ? 6379 : Number(url.port),
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(password ? { password } : {}),
      ...(url.protocol === "rediss:" ? { tls: { servername: url.hostname } } : {}),
      lazyConnect: true,
      connectTimeout: 3_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => (times > 3 ? null : 100 * times),
    });
    let lastError: Error | undefined;
    redis.on("error", (error: Error) => (lastError = error));
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new PartnerTokenError(
        "ERR_REDIS_UNAVAILABLE",
        `Redis at ${url.host}: could not connect for the shared throttle: ${(lastError ?? (error as Error)).message}.`,
        { hint: `Check that Redis is running and reachable at ${url.host}.`, cause: error },
      );
    }
    return new RedisThrottle(redis, options.app);
  }

  async acquire(signal?: AbortSignal): Promise<number> {
    for (;;) {
      const [granted, value] = (await this.#redis.eval(
        ACQUIRE,
        2,
        this.#keys.sent,
        this.#keys.state,
        `${this.#id}:${++this.#counter}`,
        WINDOW_MS,
        GROWTH_AFTER_MS,
        GROWTH,
      )) as [number, number];
      if (granted === 1) return value;
      await sleep(value, signal);
    }
  }

  async succeeded(): Promise<void> {
    await this.#redis.eval(
      SUCCEEDED,
      1,
      this.#keys.answered,
      `${this.#id}:a${++this.#counter}`,
      WINDOW_MS,
    );
  }

  async throttled(sentAt: number, retryAfterMs: number | undefined): Promise<void> {
    await this.#redis.eval(
      THROTTLED,
      3,
      this.#keys.sent,
      this.#keys.state,
      this.#keys.answered,
      sentAt,
      retryAfterMs ?? -1,
      `${this.#id}:r${++this.#counter}`,
      WINDOW_MS,
      LIMIT_MARGIN,
    );
  }

  async currentLimit(): Promise<number> {
    const limit = await this.#redis.hget(this.#keys.state, "limit");
    return limit === null ? Infinity : Number(limit);
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}
