/**
 * One connection to Redis for the cache and the store, made to fail fast and clearly: a CLI run
 * must not hang retrying forever (ioredis's default) when Redis is down, and every failure names
 * Redis and the address, with no stack trace.
 */
import type { Redis, RedisOptions } from "ioredis";
import { StoreError, StoreUriError } from "./errors.ts";

/** A parsed `redis://` or `rediss://` URI. */
export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** `#KEY`, for a refresh-token store. */
  key?: string;
  /** The URI without the password, for messages. */
  description: string;
}

/**
 * Parses `redis://[user:password@]HOST:PORT[/DB][#KEY]` (or `rediss://` for TLS). Without a
 * password in the URI, `PARTNER_TOKEN_REDIS_PASSWORD` is used: a URI given on the command line is
 * visible to other users, a variable is not.
 *
 * @example
 * ```ts
 * parseRedisUri("redis://cache.internal:6379/2#partner-rt").key; // "partner-rt"
 * ```
 */
export function parseRedisUri(
  uri: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): RedisAddress {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${what}: '${redactUri(uri)}' is not a URI; write redis://HOST:PORT[/DB].`,
    );
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${what}: the scheme '${url.protocol}' is not redis: or rediss:.`,
    );
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!host)
    throw new StoreUriError("ERR_STORE_URI", `${what}: the host is missing (redis://HOST:PORT).`);
  const port = url.port === "" ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, "");
  if (dbText !== "" && !/^\d{1,2}$/.test(dbText))
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${what}: the database '/${dbText}' is not a number (redis://HOST:PORT/0).`,
    );
  if (url.search !== "")
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${what}: a Redis URI takes no query ('${url.search}').`,
    );
  const key = url.hash === "" ? undefined : decodeURIComponent(url.hash.slice(1));
  const password = url.password
    ? decodeURIComponent(url.password)
    : env.PARTNER_TOKEN_REDIS_PASSWORD || undefined;
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const db = dbText === "" ? 0 : Number(dbText);
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: url.protocol === "rediss:",
    ...(key !== undefined ? { key } : {}),
    description: `${url.protocol}//${username ? `${username}@` : ""}${hostPart}:${port}/${db}${key !== undefined ? `#${key}` : ""}`,
  };
}

/** A URI with any password replaced, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/** A live connection and the way to run commands on it with errors that name Redis. */
export class RedisConnection {
  readonly redis: Redis;
  readonly address: RedisAddress;
  #lastError: Error | undefined;

  private constructor(redis: Redis, address: RedisAddress) {
    this.redis = redis;
    this.address = address;
    // Without a listener ioredis prints every connection error on the console itself.
    redis.on("error", (error: Error) => (this.#lastError = error));
  }

  /** Connects (within a few seconds, or a {@link StoreError}). */
  static async open(address: RedisAddress): Promise<RedisConnection> {
    const { Redis } = await import("ioredis");
    const options: RedisOptions = {
      host: address.host,
      port: address.port,
      db: address.db,
      ...(address.username ? { username: address.username } : {}),
      ...(address.password ? { password: address.password } : {}),
      ...(address.tls ? { tls: { servername: address.host } } : {}),
      lazyConnect: true,
      connectTimeout: 3_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
      // A few quick reconnections (a Redis restart), then fail: a CLI run must not hang.
      retryStrategy: (times) => (times > 3 ? null : 100 * times),
      enableReadyCheck: true,
    };
    const connection = new RedisConnection(new Redis(options), address);
    try {
      await connection.redis.connect();
    } catch (error) {
      connection.redis.disconnect();
      throw connection.failure("connect", error);
    }
    return connection;
  }

  /** Runs `fn`, turning any Redis failure into a {@link StoreError} that names Redis and the address. */
  async run<T>(what: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await fn(this.redis);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw this.failure(what, error);
    }
  }

  failure(what: string, error: unknown): StoreError {
    const reason = describe(error, this.#lastError);
    const where = `${this.address.host}:${this.address.port}`;
    const auth = /NOAUTH|WRONGPASS|NOPERM/.test(reason);
    return new StoreError(
      auth ? "ERR_REDIS_AUTH" : "ERR_REDIS_UNAVAILABLE",
      this.address.description,
      `Redis at ${where} (${this.address.description}): could not ${what}: ${reason}.`,
      {
        hint: auth
          ? "Check the user and password (redis://user:password@host:port, or PARTNER_TOKEN_REDIS_PASSWORD) and the user's ACL."
          : `Check that Redis is running and reachable at ${where}. Nothing was written.`,
        cause: error,
      },
    );
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function describe(error: unknown, last: Error | undefined): string {
  const own = error instanceof Error ? error.message : String(error);
  // "Connection is closed." says less than the socket error that closed it.
  const code = (last as NodeJS.ErrnoException | undefined)?.code;
  if (last && own !== last.message && /closed|max retries|Stream isn't writeable/i.test(own))
    return `${own.replace(/\.$/, "")} (${code ?? last.message})`;
  return own.replace(/\.$/, "");
}
