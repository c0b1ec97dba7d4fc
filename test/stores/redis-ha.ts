/**
 * Next to `startRedis` (helpers.ts): real high-availability Redis deployments made of Debian's
 * `redis-server`, on free ports, each node in its own folder (nothing persisted), stopped after.
 *
 * - {@link startRedisCluster}: 3 masters and 3 replicas (`redis-cli --cluster create …
 *   --cluster-replicas 1`), `cluster-node-timeout` 1 s so that a failover takes seconds;
 * - {@link startRedisSentinel}: one master, one replica and three sentinels (`redis-server
 *   --sentinel`), `down-after-milliseconds` 1 s and a quorum of 2.
 *
 * Every node can be killed with SIGKILL (`kill`), as a crashed machine would be.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A node of a deployment: its port and a way to kill it as a crash would. */
export interface RedisNode {
  port: number;
  /** SIGKILL, and waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the node stops answering but keeps its connections (a hung machine). */
  pause(): void;
  /** SIGCONT, after `pause`. */
  resume(): void;
  readonly alive: boolean;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free as well, not among `taken`. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error("no free port pair for a cluster node");
}

/** Starts `redis-server` with `args`, resolved once it accepts connections. */
async function launch(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server ${args[0]} did not start:\n${out}`));
    }, 15_000);
    const onData = (d: string) => {
      out += d;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.setEncoding("utf8").on("data", onData);
    child.stderr!.setEncoding("utf8").on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server ${args[0]} exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners("exit");
  // Keep reading, so a full pipe never blocks the server.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

function nodeOf(port: number, child: ChildProcess): RedisNode {
  return {
    port,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    pause() {
      child.kill("SIGSTOP");
    },
    resume() {
      child.kill("SIGCONT");
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

const base = (port: number, dir: string) => [
  "--port",
  String(port),
  "--bind",
  "127.0.0.1",
  "--save",
  "",
  "--appendonly",
  "no",
  "--dir",
  dir,
];

/** Waits until `check` holds (polling), or throws `what` after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A short-lived client of one node, for the test's own checks. */
export async function withNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

export interface RunningCluster {
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` (the three first nodes as seeds). */
  url: string;
  nodes: RedisNode[];
  /** The master that holds `key`'s slot now. */
  masterOf(key: string): Promise<RedisNode>;
  /** Waits until every live node says the cluster is `ok` and `key`'s slot has a live master. */
  waitHealthy(key?: string, ms?: number): Promise<void>;
  /** Every key matching `pattern` on every live master (the test's own view). */
  keys(pattern: string): Promise<string[]>;
  /** Deletes every key matching `pattern`, on every live master. */
  del(pattern: string): Promise<void>;
  /** SIGKILLs the master holding `key` and its replicas: no node is left to serve the slot. */
  killShardOf(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts six `redis-server --cluster-enabled yes` nodes on free ports and makes them a cluster of
 * three masters with one replica each.
 */
export async function startRedisCluster(): Promise<RunningCluster> {
  const root = await mkdtemp(join(tmpdir(), "pt-redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freeClusterPort(taken));
  const children: ChildProcess[] = [];
  const nodes: RedisNode[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      ports.map(async (port, i) => {
        const dir = join(root, String(port));
        await mkdir(dir);
        const child = await launch(
          [
            ...base(port, dir),
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            join(dir, "nodes.conf"),
            "--cluster-node-timeout",
            "1000",
            // A replica whose link was down a moment ago may still take over (a test's clock).
            "--cluster-replica-validity-factor",
            "0",
          ],
          /Ready to accept connections/,
        );
        children[i] = child;
        nodes[i] = nodeOf(port, child);
      }),
    );
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "1",
        "--cluster-yes",
      ],
      { timeout: 60_000 },
    );
  } catch (error) {
    await close();
    throw error;
  }
  const live = () => nodes.filter((n) => n.alive);
  const cluster: RunningCluster = {
    url: `redis+cluster://${ports
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(",")}`,
    nodes,
    async masterOf(key) {
      const port = await withNode(live()[0]!.port, async (r) => {
        const slot = Number(await r.call("CLUSTER", "KEYSLOT", key));
        const shards = (await r.call("CLUSTER", "SLOTS")) as Array<
          [number, number, [string, number]]
        >;
        const shard = shards.find(([from, to]) => slot >= from && slot <= to);
        if (!shard) throw new Error(`no master holds slot ${slot}`);
        return Number(shard[2][1]);
      });
      return nodes.find((n) => n.port === port)!;
    },
    async waitHealthy(key, ms = 30_000) {
      await until("the cluster to be ok", ms, async () => {
        for (const n of live()) {
          const info = await withNode(n.port, (r) => r.call("CLUSTER", "INFO") as Promise<string>);
          if (!/cluster_state:ok/.test(info)) return false;
        }
        if (key !== undefined) return (await cluster.masterOf(key)).alive;
        return true;
      });
    },
    async keys(pattern) {
      const out: string[] = [];
      for (const n of live()) {
        const role = await withNode(n.port, (r) => r.role());
        if (role[0] !== "master") continue;
        out.push(...(await withNode(n.port, (r) => r.keys(pattern))));
      }
      return out;
    },
    async del(pattern) {
      for (const n of live()) {
        const role = await withNode(n.port, (r) => r.role());
        if (role[0] !== "master") continue;
        await withNode(n.port, async (r) => {
          for (const k of await r.keys(pattern)) await r.del(k);
        });
      }
    },
    async killShardOf(key) {
      const master = await cluster.masterOf(key);
      const role = await withNode(master.port, (r) => r.role());
      const replicaPorts = ((role[2] ?? []) as Array<[string, string]>).map(([, p]) => Number(p));
      await master.kill();
      await Promise.all(nodes.filter((n) => replicaPorts.includes(n.port)).map((n) => n.kill()));
    },
    close,
  };
  await cluster.waitHealthy();
  // Each master has its replica connected and in sync before anything is written or killed.
  await until("the replicas to sync", 30_000, async () => {
    for (const n of live()) {
      const info = await withNode(n.port, (r) => r.info("replication"));
      if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
      if (/role:master/.test(info) && !/connected_slaves:1/.test(info)) return false;
    }
    return true;
  });
  return cluster;
}

export interface RunningSentinel {
  /** `redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/MASTER_NAME`. */
  url: string;
  masterName: string;
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** The node the sentinels name as master now. */
  currentMaster(): Promise<RedisNode>;
  /** Waits until the sentinels name a live master that answers as one. */
  waitForMaster(ms?: number): Promise<RedisNode>;
  /** Waits until the master has its replica connected again (after a `pause`). */
  waitInSync(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts one master, one replica and three sentinels (quorum 2) watching them. */
export async function startRedisSentinel(): Promise<RunningSentinel> {
  const root = await mkdtemp(join(tmpdir(), "pt-redis-sentinel-"));
  const masterName = "ptmaster";
  const taken = new Set<number>();
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(
    Array.from({ length: 5 }, () => freeClusterPort(taken)),
  );
  const all: RedisNode[] = [];
  const close = async () => {
    await Promise.all(all.map((n) => n.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    const start = async (port: number, extra: string[]) => {
      const dir = join(root, String(port));
      await mkdir(dir);
      const node = nodeOf(port, await launch([...base(port, dir), ...extra], /Ready to accept/));
      all.push(node);
      return node;
    };
    const master = await start(masterPort!, []);
    const replica = await start(replicaPort!, ["--replicaof", "127.0.0.1", String(masterPort)]);
    await until("the replica to sync", 20_000, () =>
      withNode(replicaPort!, async (r) =>
        /master_link_status:up/.test(await r.info("replication")),
      ),
    );
    const sentinels: RedisNode[] = [];
    for (const port of sentinelPorts) {
      const dir = join(root, String(port));
      await mkdir(dir);
      const conf = join(dir, "sentinel.conf");
      await writeFile(
        conf,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 5000`,
          `sentinel parallel-syncs ${masterName} 1`,
          "",
        ].join("\n"),
      );
      const node = nodeOf(
        port,
        await launch([conf, "--sentinel"], /Sentinel ID is|monitor master/),
      );
      all.push(node);
      sentinels.push(node);
    }
    // Every sentinel knows the replica and the two other sentinels before anything is killed.
    await until("the sentinels to know each other", 30_000, async () => {
      for (const s of sentinels) {
        const ok = await withNode(s.port, async (r) => {
          const replicas = (await r.call("SENTINEL", "REPLICAS", masterName)) as unknown[];
          const others = (await r.call("SENTINEL", "SENTINELS", masterName)) as unknown[];
          return replicas.length === 1 && others.length === 2;
        });
        if (!ok) return false;
      }
      return true;
    });
    const byPort = (port: number) => all.find((n) => n.port === port)!;
    const currentMaster = async (): Promise<RedisNode> => {
      for (const s of sentinels.filter((n) => n.alive)) {
        try {
          const [, port] = (await withNode(s.port, (r) =>
            r.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName),
          )) as [string, string];
          return byPort(Number(port));
        } catch {
          /* ask the next one */
        }
      }
      throw new Error("no sentinel answers");
    };
    return {
      url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(",")}/${masterName}`,
      masterName,
      master,
      replica,
      sentinels,
      currentMaster,
      async waitForMaster(ms = 30_000) {
        let found: RedisNode | undefined;
        await until("a master named by the sentinels", ms, async () => {
          const node = await currentMaster();
          if (!node.alive) return false;
          const role = await withNode(node.port, (r) => r.role());
          if (role[0] !== "master") return false;
          found = node;
          return true;
        });
        return found!;
      },
      async waitInSync(ms = 30_000) {
        await until("the replica to be in sync", ms, async () => {
          const master = await currentMaster();
          const info = await withNode(master.port, (r) => r.info("replication"));
          return /connected_slaves:1/.test(info) && /slave0:.*state=online/.test(info);
        });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
