/**
 * The bulk job's throttle state in Redis (`--cache redis://…`), so that every process of a fleet
 * running with the same app slows down together: the same window and learned limit as
 * {@link LocalThrottle}, kept in four keys and changed only by Lua scripts (atomic), on Redis's
 * own clock (`TIME`) so that machines whose clocks differ still agree.
 *
 * Keys, under `partner-token:throttle:{APP}`: `:inflight` (requests sent and not yet answered, by
 * send time), `:accepted` and `:accepted-sent` (accepted requests by estimated arrival and by send
 * time), `:state` (hash: `limit`, `changedAt`, `changedBy`, `changedMid`, `pauseUntil`). They
 * expire on their own when no job runs.
 */
import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { PartnerTokenError } from "../client/errors.ts";
import { sleep } from "../client/http.ts";
import { GROWTH, GROWTH_AFTER_MS, LIMIT_MARGIN, Outstanding, type Throttle } from "./throttle.ts";

const WINDOW_MS = 1_000;

const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** A request's estimated arrival at the server: the middle of its round trip (see LocalThrottle). */
const MID = `local mid = (tonumber(ARGV[1]) + now) / 2`;

/**
 * The estimate of LocalThrottle: 95 % of the accepted requests in the second before a refusal,
 * by estimated arrival or by send time, whichever counts more. Needs `sentAt`, `mid`, `window`.
 */
const ESTIMATE = `
local byArrival = redis.call('ZCOUNT', KEYS[2], '(' .. (mid - window), mid)
local bySend = redis.call('ZCOUNT', KEYS[3], sentAt - window, '(' .. sentAt)
local learned = math.max(1, math.floor(math.max(byArrival, bySend) * tonumber(ARGV[3])))`;

/**
 * KEYS: state, accepted (by arrival), acceptedSent (by send time), inflight.
 * ARGV: member, window, growth after, growth. → {1, sentAt} or {0, waitMs}.
 */
const ACQUIRE = `${NOW}
local window = tonumber(ARGV[2])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pauseUntil') or '0')
if now < pause then return {0, pause - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3 * window)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 3 * window)
-- A request in flight for half a minute belongs to a process that died: it holds no place.
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 30000)
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or '-1')
local changed = tonumber(redis.call('HGET', KEYS[1], 'changedAt') or '0')
if limit > 0 and now - changed > tonumber(ARGV[3]) then
  limit = math.ceil(limit * tonumber(ARGV[4]))
  redis.call('HSET', KEYS[1], 'limit', limit, 'changedAt', now, 'changedBy', -1)
end
local inWindow = redis.call('ZCOUNT', KEYS[2], '(' .. (now - window), '+inf') + redis.call('ZCARD', KEYS[4])
if limit < 0 or inWindow < limit then
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[4], 60000)
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return {1, now}
end
local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local wait = 20
if oldest[2] then wait = math.min(wait, math.max(1, math.ceil(tonumber(oldest[2]) + window - now + 1))) end
return {0, wait}`;

/** KEYS: accepted, acceptedSent, inflight. ARGV: sentAt, member, window. */
const SUCCEEDED = `${NOW}
${MID}
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[1], mid, ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], 5 * tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[2], 5 * tonumber(ARGV[3]))
return 1`;

/** KEYS: inflight. ARGV: member. */
const FAILED = `redis.call('ZREM', KEYS[1], ARGV[1]) return 1`;

/**
 * KEYS: state, accepted, acceptedSent, inflight.
 * ARGV: sentAt, window, margin, retryAfterMs (-1: none), member. → 1 when the limit was learned.
 */
const THROTTLED = `${NOW}
${MID}
local sentAt = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[5])
local changed = tonumber(redis.call('HGET', KEYS[1], 'changedAt') or '0')
local result = 0
if sentAt >= changed then
  ${ESTIMATE}
  redis.call('HSET', KEYS[1], 'limit', learned, 'changedAt', now, 'changedBy', sentAt, 'changedMid', mid)
  result = 1
end
local retryAfter = tonumber(ARGV[4])
if retryAfter > window then
  local pause = tonumber(redis.call('HGET', KEYS[1], 'pauseUntil') or '0')
  redis.call('HSET', KEYS[1], 'pauseUntil', math.max(pause, now + retryAfter))
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return result`;

/** KEYS: state, accepted, acceptedSent. ARGV: sentAt, window, margin. Makes `sentAt`'s estimate exact. */
const REFINE = `
local sentAt = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if tonumber(redis.call('HGET', KEYS[1], 'changedBy') or '-1') ~= sentAt then return 0 end
local mid = tonumber(redis.call('HGET', KEYS[1], 'changedMid'))
${ESTIMATE}
redis.call('HSET', KEYS[1], 'limit', learned)
return 1`;

/** How long after its own last answer a process waits for other processes' answers before refining. */
const REFINE_DELAY_MS = 150;

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
  readonly #redis: Redis | Cluster;
  readonly #keys: { state: string; accepted: string; acceptedSent: string; inflight: string };
  /** The Redis member of each request in flight, by send time. */
  readonly #members = new Map<number, string[]>();
  readonly #outstanding = new Outstanding();
  readonly #pending: number[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #id = randomBytes(6).toString("hex");
  #counter = 0;

  private constructor(redis: Redis | Cluster, app: string) {
    this.#redis = redis;
    const base = `partner-token:throttle:{${app.toLowerCase()}}`;
    this.#keys = {
      state: `${base}:state`,
      accepted: `${base}:accepted`,
      acceptedSent: `${base}:accepted-sent`,
      inflight: `${base}:inflight`,
    };
  }

  /**
   * Connects to `uri` (`redis://[user:password@]HOST:PORT[/DB]`, `rediss://` for TLS; without a
   * password in the URI, `PARTNER_TOKEN_REDIS_PASSWORD`), or to a Redis Cluster or Sentinel set
   * (`redis+cluster://…`, `redis+sentinel://…`, as the fleet cache takes them).
   */
  static async open(uri: string, options: { app: string }): Promise<RedisThrottle> {
    if (/^rediss?\+(cluster|sentinel):/i.test(uri)) {
      // A Redis Cluster or Sentinel set: the stores' connection (the keys share the hash tag {APP}).
      const { parseRedisUri, RedisConnection } = await import("../stores/redis-connection.ts");
      const address = parseRedisUri(uri, "--cache");
      const connection = await RedisConnection.open(address).catch((error: unknown) => {
        throw new PartnerTokenError(
          "ERR_REDIS_UNAVAILABLE",
          `${(error as Error).message.replace(/\.$/, "")} (for the shared throttle).`,
          { hint: (error as PartnerTokenError).hint, cause: error },
        );
      });
      return new RedisThrottle(connection.redis, options.app);
    }
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
    const k = this.#keys;
    const member = `${this.#id}:${++this.#counter}`;
    for (;;) {
      const [granted, value] = (await this.#redis.eval(
        ACQUIRE,
        4,
        k.state,
        k.accepted,
        k.acceptedSent,
        k.inflight,
        member,
        WINDOW_MS,
        GROWTH_AFTER_MS,
        GROWTH,
      )) as [number, number];
      if (granted === 1) {
        this.#outstanding.add(value);
        this.#members.set(value, [...(this.#members.get(value) ?? []), member]);
        return value;
      }
      await sleep(value, signal);
    }
  }

  /** The Redis member of the request let through at `sentAt`, forgotten. */
  #take(sentAt: number): string {
    const members = this.#members.get(sentAt) ?? [];
    const member = members.shift() ?? `${this.#id}:unknown`;
    if (members.length === 0) this.#members.delete(sentAt);
    this.#outstanding.delete(sentAt);
    return member;
  }

  async succeeded(sentAt: number): Promise<void> {
    const k = this.#keys;
    const member = this.#take(sentAt);
    await this.#redis.eval(
      SUCCEEDED,
      3,
      k.accepted,
      k.acceptedSent,
      k.inflight,
      sentAt,
      member,
      WINDOW_MS,
    );
    this.#refine();
  }

  async failed(sentAt: number): Promise<void> {
    await this.#redis.eval(FAILED, 1, this.#keys.inflight, this.#take(sentAt));
    this.#refine();
  }

  async throttled(sentAt: number, retryAfterMs: number | undefined): Promise<void> {
    const k = this.#keys;
    const member = this.#take(sentAt);
    const learned = await this.#redis.eval(
      THROTTLED,
      4,
      k.state,
      k.accepted,
      k.acceptedSent,
      k.inflight,
      sentAt,
      WINDOW_MS,
      LIMIT_MARGIN,
      retryAfterMs ?? -1,
      member,
    );
    if (learned === 1) this.#pending.push(sentAt);
    this.#refine();
  }

  /**
   * Once this process has every answer to what it sent before a refusal it learned from (and a
   * moment for the other processes' answers), makes that estimate exact in Redis.
   */
  #refine(): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const s = this.#pending[i]!;
      if (this.#outstanding.anyBefore(s)) continue;
      this.#pending.splice(i, 1);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const k = this.#keys;
        this.#redis
          .eval(REFINE, 3, k.state, k.accepted, k.acceptedSent, s, WINDOW_MS, LIMIT_MARGIN)
          .catch(() => undefined);
      }, REFINE_DELAY_MS);
      this.#timers.add(timer);
    }
  }

  async currentLimit(): Promise<number> {
    const limit = await this.#redis.hget(this.#keys.state, "limit");
    return limit === null ? Infinity : Number(limit);
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}
