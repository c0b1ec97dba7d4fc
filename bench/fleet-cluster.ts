/**
 * Benchmark (not a test): a fleet on a Redis Cluster against the same fleet on one Redis. Ratios
 * are printed, nothing is asserted.
 *
 *   npm run bench:fleet-cluster        (WORKERS=10 CALLS=20 to change the shape)
 *
 * The emulator runs in this process; Debian's `redis-server` runs once as a single node and six
 * times as a 3-master, 3-replica cluster (the test suite's starters, on free ports). WORKERS worker
 * processes (test/stores/redis-ha-worker.ts) each make CALLS token calls as a scheduled command
 * does — open the Redis store and cache, one `getToken`, close — first against the single node,
 * then against the cluster (`redis+cluster://`).
 *
 * Printed: the median latency of a cache hit in each and their ratio — per call of a worker (each
 * call opens its connections, so the cluster's slot map is read every time), and on a connection
 * already open, as a long-lived process (serve, exec, the library) has it (goal: cluster ≤ 1.3× a
 * single node) — and the refresh requests the emulator saw per expiry on the cluster (goal: exactly
 * 1; an expiry is simulated by removing the cached tokens between two rounds).
 */
import { spawn } from "node:child_process";
import { request } from "node:https";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const GRAPH = "https://graph.microsoft.com/.default";
const WORKER = fileURLToPath(new URL("../test/stores/redis-ha-worker.ts", import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const WORKERS = Number(process.env.WORKERS ?? 10);
const CALLS = Number(process.env.CALLS ?? 20);
const dir = await mkdtemp(join(tmpdir(), "pt-bench-fleet-cluster-"));
const { startEmulator } = await import("../src/emulator/index.ts");
const { startRedis } = await import("../test/stores/helpers.ts");
const { startRedisCluster } = await import("../test/stores/redis-ha.ts");
const { openRefreshTokenStore, parseEncryptionKey } = await import("../src/stores/index.ts");
const emu = await startEmulator({ port: 0, dataDir: join(dir, "emulator"), log: () => {} });
const [single, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
const ca = await readFile(emu.caFile!, "utf8");
const key = randomBytes(32).toString("base64");
const { clientId, clientSecret } = emu.info.apps.confidential;

function https(
  path: string,
  method: string,
  body?: string,
  type = "application/json",
): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.url}${path}`,
      { method, ca, headers: { "content-type": type } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => resolve(text ? JSON.parse(text) : undefined));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const refreshes = async (): Promise<number> => {
  const log = await https("/_emulator/requests", "GET");
  return (log.requests ?? log).filter((e: any) => e.note?.grant_type === "refresh_token").length;
};
const clearLog = () => https("/_emulator/requests", "DELETE");

/** Puts a fresh refresh token (a password grant) in the store at `uri`. */
async function seed(uri: string): Promise<void> {
  const granted = await https(
    `/${emu.info.partnerTenant.id}/oauth2/v2.0/token`,
    "POST",
    new URLSearchParams({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: "password",
      username: emu.info.user.username,
      password: emu.info.user.password,
      scope: `offline_access ${GRAPH}`,
    }).toString(),
    "application/x-www-form-urlencoded",
  );
  const store = await openRefreshTokenStore(uri, { encryptionKey: parseEncryptionKey(key) });
  await store.write(granted.refresh_token);
  await store.close?.();
}

/** WORKERS processes × `calls` calls against `cacheUri`; each worker's per-call milliseconds. */
async function fleet(cacheUri: string, calls: number): Promise<number[][]> {
  return Promise.all(
    Array.from({ length: WORKERS }, async (_, i) => {
      const child = spawn(process.execPath, [WORKER], {
        env: {
          ...process.env,
          PT_KEY: key,
          APP_SECRET: clientSecret,
          PT_WORKER_CALLS: String(calls),
          PT_WORKER: JSON.stringify({
            storeUri: `${cacheUri}#bench-rt`,
            cacheUri,
            clientId,
            tenant: emu.info.customers[0]!.domain,
            authorityHost: emu.url,
            caFile: emu.caFile,
            scope: GRAPH,
          }),
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
      await new Promise((r) => child.once("exit", r));
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { ok: boolean; ms: number });
      const failed = lines.filter((l) => !l.ok).length;
      if (failed > 0) throw new Error(`worker ${i} against ${cacheUri}: ${failed} calls failed`);
      return lines.map((l) => l.ms);
    }),
  );
}

try {
  const singleUri = `${single.url}/0`;
  await seed(`${singleUri}#bench-rt`);
  await seed(`${cluster.url}#bench-rt`);

  // Alternating rounds, so that the machine's load falls on both alike.
  const singleHits: number[] = [];
  const clusterHits: number[] = [];
  const half = Math.max(2, Math.ceil(CALLS / 2));
  for (let round = 0; round < 2; round++) {
    for (const t of await fleet(singleUri, half)) singleHits.push(...t.slice(1));
    await clearLog();
    for (const t of await fleet(cluster.url, half)) clusterHits.push(...t.slice(1));
  }
  const renewalsFirst = await refreshes(); // the last cluster round: nothing expired, 0

  // A long-lived process (serve, exec, the library): hits on a connection already open,
  // alternating between the two so that the machine's load falls on both alike.
  const { openTokenCache } = await import("../src/stores/index.ts");
  const encryptionKey = parseEncryptionKey(key);
  const caches = await Promise.all([
    openTokenCache(singleUri, { encryptionKey }),
    openTokenCache(cluster.url, { encryptionKey }),
  ]);
  const entry = {
    result: { accessToken: "x".repeat(1500) } as never,
    expiresAt: Date.now() + 3_600_000,
    obtainedAt: Date.now(),
  };
  const openHits: [number[], number[]] = [[], []];
  try {
    for (const [i, c] of caches.entries())
      for (let k = 0; k < 16; k++) await c.set(`bench-${i}-${k}`, entry);
    for (let n = 0; n < 4000; n++) {
      const which = n % 2;
      const start = performance.now();
      await caches[which]!.get(`bench-${which}-${n % 16}`);
      openHits[which]!.push(performance.now() - start);
    }
  } finally {
    await Promise.all(caches.map((c) => c.close?.()));
  }
  const renewals: number[] = [];
  for (let expiry = 0; expiry < 2; expiry++) {
    await cluster.del("partner-token:token:*"); // the shared token "expires"
    await clearLog();
    await fleet(cluster.url, 3);
    renewals.push(await refreshes());
  }

  const s = median(singleHits);
  const c = median(clusterHits);
  console.log(
    `fleet on a cluster: ${WORKERS} workers × ${2 * half} token calls, each opening its connections`,
  );
  console.log(
    `cache hit, one Redis node          median ${s.toFixed(2)} ms (${singleHits.length} calls)`,
  );
  console.log(
    `cache hit, 3-master Redis Cluster  median ${c.toFixed(2)} ms (${clusterHits.length} calls)`,
  );
  console.log(
    `ratio cluster / single node        ${(c / s).toFixed(2)}×   (each call connects: the cluster's map is read anew)`,
  );
  const so = median(openHits[0]);
  const co = median(openHits[1]);
  console.log(
    `cache hit on an open connection: one node ${(so * 1000).toFixed(0)} µs, cluster ${(co * 1000).toFixed(0)} µs (${openHits[0].length} each)`,
  );
  console.log(`ratio cluster / single node        ${(co / so).toFixed(2)}×   (goal ≤ 1.3×)`);
  console.log(`renewals with nothing expired (cluster): ${renewalsFirst}   (goal: 0)`);
  console.log(`renewals per expiry (cluster): ${renewals.join(", ")}   (goal: 1 each)`);
} finally {
  await Promise.all([single.close(), cluster.close()]);
  await emu.close();
  await rm(dir, { recursive: true, force: true });
}
