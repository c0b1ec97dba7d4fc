/**
 * One connection to Redis for the cache and the store, made to fail fast and clearly: a CLI run
 * must not hang retrying forever (ioredis's default) when Redis is down, and every failure names
 * Redis and the address, with no stack trace.
 */
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { StoreError, StoreUriError } from "./errors.ts";

/** How the client reaches Redis: one server, a Redis Cluster, or the master a Sentinel set names. */
export type RedisMode = "single" | "cluster" | "sentinel";

/** A parsed `redis://`, `redis+cluster://` or `redis+sentinel://` URI (`rediss…` for TLS). */
export interface RedisAddress {
  mode: RedisMode;
  /** The first node (single: the server; cluster: a seed node; sentinel: a sentinel). */
  host: string;
  port: number;
  /** Every node given (cluster seeds, sentinels); one entry for a single server. */
  nodes: Array<{ host: string; port: number }>;
  /** Sentinel: the master group's name. */
  masterName?: string;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** `#KEY`, for a refresh-token store. */
  key?: string;
  /** The URI without the password, for messages. */
  description: string;
}

const HA_FORMS =
  "redis+cluster://[user:password@]HOST:PORT[,HOST:PORT…][#KEY] or redis+sentinel://[user:password@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB][#KEY]";

/**
 * Parses `redis://[user:password@]HOST:PORT[/DB][#KEY]` (or `rediss://` for TLS), and the two
 * high-availability forms: `redis+cluster://[user:password@]HOST:PORT[,HOST:PORT…][/][#KEY]` (a
 * Redis Cluster, any of its nodes as seeds) and
 * `redis+sentinel://[user:password@]HOST:PORT[,HOST:PORT…]/MASTER_NAME[/DB][#KEY]` (the master a
 * set of Sentinels names); `rediss+cluster://` and `rediss+sentinel://` for TLS. Without a password
 * in the URI, `PARTNER_TOKEN_REDIS_PASSWORD` is used: a URI given on the command line is visible
 * to other users, a variable is not. The password is never part of `description`.
 *
 * @example
 * ```ts
 * parseRedisUri("redis://cache.internal:6379/2#partner-rt").key; // "partner-rt"
 * parseRedisUri("redis+sentinel://s1:26379,s2:26379/mymaster#rt", "store").masterName; // "mymaster"
 * ```
 */
export function parseRedisUri(
  uri: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): RedisAddress {
  const ha = /^(rediss?)\+(cluster|sentinel):\/\//i.exec(uri);
  if (ha)
    return parseHaUri(uri, what, env, ha[1]!.toLowerCase(), ha[2]!.toLowerCase() as RedisMode);
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
      `${what}: the scheme '${url.protocol}' is not redis:, rediss:, redis+cluster: or redis+sentinel:.`,
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
    mode: "single",
    host,
    port,
    nodes: [{ host, port }],
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: url.protocol === "rediss:",
    ...(key !== undefined ? { key } : {}),
    description: `${url.protocol}//${username ? `${username}@` : ""}${hostPart}:${port}/${db}${key !== undefined ? `#${key}` : ""}`,
  };
}

function parseHaUri(
  uri: string,
  what: string,
  env: NodeJS.ProcessEnv,
  base: string,
  mode: RedisMode,
): RedisAddress {
  const scheme = `${base}+${mode}:`;
  const fail = (problem: string): never => {
    throw new StoreUriError("ERR_STORE_URI", `${what}: ${problem}; write ${HA_FORMS}.`);
  };
  let rest = uri.slice(scheme.length + 2);
  const hashAt = rest.indexOf("#");
  const key = hashAt < 0 ? undefined : safeDecode(rest.slice(hashAt + 1), "#KEY", what);
  if (hashAt >= 0) rest = rest.slice(0, hashAt);
  const queryAt = rest.indexOf("?");
  if (queryAt >= 0) {
    if (rest.slice(queryAt + 1) !== "")
      // Not echoed: a query may hold what should have been a secret.
      fail(`a ${scheme} URI takes no query options`);
    rest = rest.slice(0, queryAt);
  }
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const at = authority.lastIndexOf("@");
  const userInfo = at < 0 ? "" : authority.slice(0, at);
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const colon = userInfo.indexOf(":");
  const username = safeDecode(colon < 0 ? userInfo : userInfo.slice(0, colon), "user", what);
  const password =
    (colon < 0 ? "" : safeDecode(userInfo.slice(colon + 1), "password", what)) ||
    env.PARTNER_TOKEN_REDIS_PASSWORD ||
    "";
  const defaultPort = mode === "sentinel" ? 26379 : 6379;
  if (hostList === "") fail(`the ${scheme} URI names no node (HOST:PORT)`);
  const nodes = hostList.split(",").map((item) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(item);
    if (!m) return fail(`'${item}' is not HOST:PORT`);
    const port = m[3] === undefined ? defaultPort : Number(m[3]);
    if (port < 1 || port > 65535) return fail(`the port in '${item}' is not 1–65535`);
    return { host: m[1] ?? m[2]!, port };
  });
  if (nodes.length > 64) fail(`${nodes.length} nodes is more than 64`);
  let masterName: string | undefined;
  let db = 0;
  const parts = path === "" ? [] : path.split("/");
  if (mode === "cluster") {
    if (parts.some((p) => p !== "")) fail(`a Redis Cluster has only database 0: drop '/${path}'`);
  } else {
    if (parts.length === 0 || parts[0] === "")
      fail("a Sentinel URI needs the master's name after the sentinels (/MASTER_NAME)");
    masterName = safeDecode(parts[0]!, "master name", what);
    if (!/^[\x21-\x7e]{1,200}$/.test(masterName))
      fail(`the master name '${masterName}' is not valid`);
    const dbText = parts[1] ?? "";
    if (dbText !== "" && !/^\d{1,2}$/.test(dbText))
      fail(`the database '/${dbText}' is not a number`);
    if (parts.length > 2 && !(parts.length === 3 && parts[2] === ""))
      fail(`'/${path}' has more than /MASTER_NAME/DB`);
    db = dbText === "" ? 0 : Number(dbText);
  }
  const hosts = nodes
    .map((n) => `${n.host.includes(":") ? `[${n.host}]` : n.host}:${n.port}`)
    .join(",");
  const first = nodes[0]!;
  return {
    mode,
    host: first.host,
    port: first.port,
    nodes,
    ...(masterName !== undefined ? { masterName } : {}),
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: base === "rediss",
    ...(key !== undefined ? { key } : {}),
    description:
      `${scheme}//${username ? `${username}@` : ""}${hosts}` +
      (mode === "sentinel" ? `/${masterName}/${db}` : "") +
      (key !== undefined ? `#${key}` : ""),
  };
}

function safeDecode(text: string, part: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new StoreUriError(
      "ERR_STORE_URI",
      `${what}: the ${part} in the Redis URI is not valid percent-encoding.`,
    );
  }
}

/** Where an address points, for messages: `127.0.0.1:6379`, or every node of a cluster or Sentinel set. */
export function whereOf(address: RedisAddress): string {
  const hosts = address.nodes
    .map((n) => `${n.host.includes(":") ? `[${n.host}]` : n.host}:${n.port}`)
    .join(",");
  if (address.mode === "cluster") return `Cluster ${hosts}`;
  if (address.mode === "sentinel") return `Sentinel ${hosts} (master '${address.masterName}')`;
  return hosts;
}

/** A URI with any password replaced, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/** A client of one server (or of a Sentinel set's master), or of a whole Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** How long a write waits for a replica to confirm it (`WAIT`) before it counts as not written. */
export const REPLICA_WAIT_MS = 2_000;

/** The longest a connection may take to open, and a step (its retries included) to run. */
const OPEN_DEADLINE_MS = 10_000;
const RUN_DEADLINE_MS = 15_000;

function deadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    // Not unref'd: a client that gave up may hold no handle, and this must still settle.
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A live connection and the way to run commands on it with errors that name Redis. */
export class RedisConnection {
  readonly redis: RedisClient;
  readonly address: RedisAddress;
  #lastError: Error | undefined;

  private constructor(redis: RedisClient, address: RedisAddress) {
    this.redis = redis;
    this.address = address;
    // Without a listener ioredis prints every connection error on the console itself.
    redis.on("error", (error: Error) => (this.#lastError = error));
    // A Cluster reports a failing node through "node error"; keep it for the message.
    redis.on("node error", (error: Error) => (this.#lastError = error));
  }

  /** Connects (within a few seconds, or a {@link StoreError}). */
  static async open(address: RedisAddress): Promise<RedisConnection> {
    const { Redis, Cluster } = await import("ioredis");
    const auth = {
      ...(address.username ? { username: address.username } : {}),
      ...(address.password ? { password: address.password } : {}),
    };
    const bounded = {
      connectTimeout: 3_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
    };
    let client: RedisClient;
    if (address.mode === "cluster") {
      client = new Cluster(address.nodes, {
        lazyConnect: true,
        enableReadyCheck: true,
        // Every node of the cluster unreachable: give up after a few tries.
        clusterRetryStrategy: (times) => (times > 3 ? null : 100 * times),
        // A failover: moved slots and a refreshed map, retried a bounded number of times.
        maxRedirections: 8,
        retryDelayOnFailover: 200,
        retryDelayOnClusterDown: 200,
        retryDelayOnTryAgain: 200,
        slotsRefreshTimeout: 2_000,
        redisOptions: {
          ...auth,
          ...bounded,
          ...(address.tls ? { tls: {} } : {}),
        },
      });
    } else if (address.mode === "sentinel") {
      const sentinelPassword = process.env.PARTNER_TOKEN_REDIS_SENTINEL_PASSWORD || undefined;
      const options: RedisOptions = {
        sentinels: address.nodes,
        name: address.masterName!,
        db: address.db,
        ...auth,
        ...(sentinelPassword ? { sentinelPassword } : {}),
        ...(address.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
        ...bounded,
        lazyConnect: true,
        enableReadyCheck: true,
        // The master went away: ask the sentinels again, for about the time a failover takes;
        // commands meanwhile fail after one try (maxRetriesPerRequest) with an error naming Redis.
        retryStrategy: (times) => (times > 20 ? null : Math.min(100 * times, 500)),
        sentinelRetryStrategy: (times) => (times > 3 ? null : 100 * times),
        sentinelCommandTimeout: 2_000,
      };
      client = new Redis(options);
    } else {
      const options: RedisOptions = {
        host: address.host,
        port: address.port,
        db: address.db,
        ...auth,
        ...(address.tls ? { tls: { servername: address.host } } : {}),
        lazyConnect: true,
        ...bounded,
        // A few quick reconnections (a Redis restart), then fail: a CLI run must not hang.
        retryStrategy: (times) => (times > 3 ? null : 100 * times),
        enableReadyCheck: true,
      };
      client = new Redis(options);
    }
    const connection = new RedisConnection(client, address);
    try {
      await deadline(
        connection.redis.connect(),
        OPEN_DEADLINE_MS,
        `no answer within ${OPEN_DEADLINE_MS / 1000} s`,
      );
    } catch (error) {
      connection.redis.disconnect();
      throw connection.failure("connect", error);
    }
    return connection;
  }

  /** Runs `fn`, turning any Redis failure into a {@link StoreError} that names Redis and the address. */
  async run<T>(what: string, fn: (redis: RedisClient) => Promise<T>): Promise<T> {
    try {
      // Each command has its own timeout; this bounds a whole step, retries and redirections too.
      return await deadline(
        fn(this.redis),
        RUN_DEADLINE_MS,
        `no answer within ${RUN_DEADLINE_MS / 1000} s`,
      );
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw this.failure(what, error);
    }
  }

  /**
   * Runs a write script on `key` and, where the master holding `key` has replicas, `WAIT`s until
   * at least one of them has the write: replication is asynchronous, and a failover promotes a
   * replica — one that has not received the write would hand the fleet the value from before it.
   * Throws a {@link StoreError} (`ERR_REDIS_NOT_REPLICATED`) when no replica confirms in time.
   * Returns the script's result.
   */
  async evalReplicated(
    what: string,
    script: string,
    key: string,
    args: Array<string | number>,
  ): Promise<unknown> {
    return this.run(what, async (r) => {
      // Through the client: in a Cluster it follows the slot's master across a failover (MOVED).
      const result = await r.eval(script, 1, key, ...args);
      // ROLE and WAIT go to the node that ran the script, on the connection that wrote.
      const node = isCluster(r) ? masterFor(r, key) : r;
      if (!node) throw new Error(`no master is known for the slot of the key '${key}'`);
      const role = (await node.role()) as unknown[];
      const replicas = Array.isArray(role[2]) ? role[2].length : 0;
      if (replicas === 0) return result;
      const acked = await node.wait(replicas, REPLICA_WAIT_MS);
      if (Number(acked) < 1)
        throw new StoreError(
          "ERR_REDIS_NOT_REPLICATED",
          this.address.description,
          `Redis at ${whereOf(this.address)} (${this.address.description}): could not ${what}: no replica of the master confirmed the write within ${REPLICA_WAIT_MS / 1000} s, so a failover could lose it.`,
          {
            hint: "Check the replicas' link to their master (INFO replication). Until a replica has it, the value is not relied on.",
          },
        );
      return result;
    });
  }

  /** Every key matching `pattern`, on every master (one server, or each master of a cluster). */
  async scanKeys(
    pattern: string,
    onKey: (key: string, node: Redis) => Promise<void>,
  ): Promise<void> {
    const nodes = isCluster(this.redis) ? this.redis.nodes("master") : [this.redis];
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 200);
        cursor = next;
        for (const key of keys) await onKey(key, node);
      } while (cursor !== "0");
    }
  }

  failure(what: string, error: unknown): StoreError {
    const reason = describe(error, this.#lastError);
    const where = whereOf(this.address);
    const auth = /NOAUTH|WRONGPASS|NOPERM/.test(reason);
    return new StoreError(
      auth ? "ERR_REDIS_AUTH" : "ERR_REDIS_UNAVAILABLE",
      this.address.description,
      `Redis at ${where} (${this.address.description}): could not ${what}: ${reason}.`,
      {
        hint: auth
          ? "Check the user and password (redis://user:password@host:port, or PARTNER_TOKEN_REDIS_PASSWORD) and the user's ACL."
          : this.address.mode === "single"
            ? `Check that Redis is running and reachable at ${where}. Nothing was written.`
            : `Check that Redis is running and reachable at ${where}; during a failover no master answers until a replica has taken over (seconds). Try again.`,
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

/** The connection of the master that serves `key`'s slot, as the client's slot map says. */
function masterFor(cluster: Cluster, key: string): Redis | undefined {
  const nodeKey = cluster.slots[keySlot(key)]?.[0];
  if (nodeKey === undefined) return undefined;
  return cluster
    .nodes("master")
    .find((n) => `${n.options.host ?? "127.0.0.1"}:${n.options.port ?? 6379}` === nodeKey);
}

/** Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag (`{…}`) or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, "utf8");
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

function describe(error: unknown, last: Error | undefined): string {
  let own = error instanceof Error ? error.message : String(error);
  // ioredis's wording, said in the terms of this tool.
  own = own
    .replace(
      /^Reached the max retries per request limit.*$/s,
      "the connection was lost and no master answered again in time",
    )
    .replace(
      /^Too many Cluster redirections\. Last error: (?:\w*Error: )?/s,
      "no master answered for the key's slot: ",
    );
  // "Connection is closed." says less than the socket error that closed it.
  const code = (last as NodeJS.ErrnoException | undefined)?.code;
  if (
    last &&
    own !== last.message &&
    /closed|max retries|Stream isn't writeable|no master answered|no answer within/i.test(own)
  )
    return `${own.replace(/\.$/, "")} (${code ?? last.message.replace(/\.$/, "")})`;
  return own.replace(/\.$/, "");
}
