/**
 * Benchmark (not a test): a fleet sharing one Redis. Ratios are printed, nothing is asserted.
 *
 *   npm run bench:fleet        (WORKERS=10 CALLS=100 to change the shape)
 *
 * The emulator runs in this process and Debian's `redis-server` on a free port. WORKERS worker
 * processes each make CALLS token calls — each call as `partner-token token --refresh-token-store
 * redis://…#KEY` makes it, through the library's `openStoreSession`: the store and the cache opened
 * (a new Redis connection, or the local cache file), one `getToken`, closed. Two fleets:
 *
 * - **redis**: `--cache redis://…` — every worker reads the shared, encrypted cache;
 * - **local**: each worker its own local encrypted cache folder (no `--cache`).
 *
 * Printed: the median latency of a cache hit in each, their ratio (goal: redis ≤ 2× local), and
 * the refresh requests the emulator saw per expiry for the Redis fleet (goal: exactly 1; an expiry
 * is simulated by removing the cached tokens from Redis between two rounds).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const GRAPH = "https://graph.microsoft.com/.default";
const SELF = fileURLToPath(import.meta.url);

/** What a worker signs in with (passed as JSON in its environment, the secrets with it). */
interface WorkerConfig {
  storeUri: string;
  /** base64 */
  encryptionKey: string;
  applicationId: string;
  clientSecret: string;
  tenant: string;
  authorityHost: string;
  caFile: string;
  /** The fleet's Redis cache; without it, the worker's local encrypted cache. */
  cacheUri?: string;
}

/**
 * A worker: CALLS token calls in a row, each as `partner-token token --refresh-token-store …`
 * makes it (the store and the cache opened, a session over them, one `getToken`, closed), through
 * the library's `openStoreSession`. Prints one JSON line of per-call milliseconds.
 */
async function worker(calls: number, config: WorkerConfig): Promise<void> {
  const [{ openRefreshTokenStore, openTokenCache }, { parseEncryptionKey }, { openStoreSession }] =
    await Promise.all([
      import("../src/stores/index.ts"),
      import("../src/stores/encryption.ts"),
      import("../src/session/store-session.ts"),
    ]);
  const encryptionKey = parseEncryptionKey(config.encryptionKey);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const store = await openRefreshTokenStore(config.storeUri, {
      encryptionKey,
      caFile: config.caFile,
    });
    const cache = config.cacheUri
      ? await openTokenCache(config.cacheUri, { encryptionKey })
      : undefined;
    const session = await openStoreSession({
      store,
      ...(cache ? { cache } : {}),
      applicationId: config.applicationId,
      clientSecret: config.clientSecret,
      authorityHost: config.authorityHost,
      caFile: config.caFile,
    });
    try {
      await session.getToken({ scopes: [GRAPH], tenant: config.tenant });
    } finally {
      await session.close();
    }
    times.push(performance.now() - start);
  }
  process.stdout.write(JSON.stringify(times) + "\n");
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const WORKERS = Number(process.env.WORKERS ?? 10);
  const CALLS = Number(process.env.CALLS ?? 100);
  const dir = await mkdtemp(join(tmpdir(), "pt-bench-fleet-"));
  const { startEmulator } = await import("../src/emulator/index.ts");
  const emu = await startEmulator({ port: 0, dataDir: join(dir, "emulator"), log: () => {} });
  // The test suite's redis-server: a free port, nothing saved, its own folder.
  const { startRedis } = await import("../test/stores/helpers.ts");
  const redisServer = await startRedis();
  const redisUrl = redisServer.url;
  const redis = redisServer.client;
  const key = randomBytes(32).toString("base64");
  const ca = emu.caFile!;
  const controlCa = await readFile(ca, "utf8");
  const controlCall = async (path: string, method = "GET", body?: unknown): Promise<any> => {
    const { request } = await import("node:https");
    return new Promise((resolve, reject) => {
      const req = request(
        `${emu.url}/_emulator/${path}`,
        { method, ca: controlCa, headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(text ? JSON.parse(text) : undefined));
        },
      );
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  };
  const refreshes = async (): Promise<number> => {
    const log = await controlCall("requests");
    return (log.requests ?? log).filter((e: any) => e.note?.grant_type === "refresh_token").length;
  };

  try {
    // A refresh token for the fleet: the emulator's password grant for the confidential app.
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const { request } = await import("node:https");
    const granted: any = await new Promise((resolve, reject) => {
      const req = request(
        `${emu.url}/${emu.info.partnerTenant.id}/oauth2/v2.0/token`,
        {
          method: "POST",
          ca: controlCa,
          headers: { "content-type": "application/x-www-form-urlencoded" },
        },
        (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve(JSON.parse(text)));
        },
      );
      req.on("error", reject);
      req.end(
        new URLSearchParams({
          client_id: clientId,
          client_secret: clientSecret,
          grant_type: "password",
          username: emu.info.user.username,
          password: emu.info.user.password,
          scope: `offline_access ${GRAPH}`,
        }).toString(),
      );
    });
    const { openRefreshTokenStore } = await import("../src/stores/index.ts");
    const { parseEncryptionKey } = await import("../src/stores/encryption.ts");
    const storeUri = `${redisUrl}/0#bench-rt`;
    const store = await openRefreshTokenStore(storeUri, { encryptionKey: parseEncryptionKey(key) });
    await store.write(granted.refresh_token);
    await store.close?.();

    const config: WorkerConfig = {
      storeUri,
      encryptionKey: key,
      applicationId: clientId,
      clientSecret,
      tenant: emu.info.customers[0]!.domain,
      authorityHost: emu.url,
      caFile: ca,
    };
    const fleet = async (
      label: string,
      cacheUri: string | undefined,
      calls: number,
    ): Promise<number[][]> => {
      const runs = Array.from({ length: WORKERS }, async (_, i) => {
        const env = {
          ...process.env,
          PT_BENCH_WORKER: JSON.stringify({ ...config, ...(cacheUri ? { cacheUri } : {}) }),
          PARTNER_TOKEN_CACHE_DIR: join(dir, label, String(i), "cache"),
          PARTNER_TOKEN_KEY_DIR: join(dir, label, String(i), "keys"),
          PARTNER_TOKEN_KEYRING: "off",
        };
        const child = spawn(process.execPath, [SELF, "worker", String(calls)], {
          env,
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
        const code = await new Promise((r) => child.once("exit", r));
        if (code !== 0) throw new Error(`${label} worker ${i} exited with ${code}`);
        return JSON.parse(out.trim().split("\n").at(-1)!) as number[];
      });
      return Promise.all(runs);
    };

    const dropCache = async () => {
      const keys = await redis.keys("partner-token:token:*");
      if (keys.length) await redis.del(...keys);
    };

    await controlCall("requests", "DELETE");
    const redisRound1 = await fleet("redis", redisUrl, CALLS);
    const renewals1 = await refreshes();
    await dropCache(); // the shared token "expires"
    await controlCall("requests", "DELETE");
    await fleet("redis", redisUrl, 5);
    const renewals2 = await refreshes();

    const local = await fleet("local", undefined, CALLS);

    // The first call of each worker may renew or wait for the renewal: hits are the rest.
    const redisHits = redisRound1.flatMap((t) => t.slice(1));
    const localHits = local.flatMap((t) => t.slice(1));
    const r = median(redisHits);
    const l = median(localHits);
    console.log(`fleet: ${WORKERS} workers × ${CALLS} token calls, one Redis`);
    console.log(`cache hit through Redis   median ${r.toFixed(2)} ms (${redisHits.length} calls)`);
    console.log(`cache hit, local cache    median ${l.toFixed(2)} ms (${localHits.length} calls)`);
    console.log(`ratio redis / local       ${(r / l).toFixed(2)}×   (goal ≤ 2×)`);
    console.log(`renewals per expiry (Redis fleet): ${renewals1}, ${renewals2}   (goal: 1 each)`);
  } finally {
    await redisServer.close();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "worker")
  await worker(Number(process.argv[3]), JSON.parse(process.env.PT_BENCH_WORKER!) as WorkerConfig);
else await main();
