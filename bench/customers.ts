/**
 * The bulk customer-token job against a throttled, slow token endpoint, as ratios measured in one
 * run. Goals: with 1,000 customers, 50 ms added to every answer and the token endpoint throttled
 * at 400 requests/s per app, throughput ≥ 90 % of that ceiling and ≥ 20× a sequential loop over
 * the same library, with zero lost tenants; memory flat (peak for 1,000 and 10,000 customers).
 *
 *   npm run bench:customers           (CONCURRENCY=N: the job's concurrency; CEILING=N: the throttle)
 *
 * The emulator runs as a process of its own (`partner-token emulator --seed …`), so that its CPU
 * is not the job's. Each measurement is a fresh child process of this script, so that its peak
 * memory is its own: the job is the library's `customerTokens` over a `TokenBroker` (memory cache,
 * the refresh token kept in memory and rotated), results counted and dropped as they come. The
 * sequential loop (`await broker.getToken(…)` per customer) runs on a sample of 60 customers and is
 * extrapolated to 1,000: at 50 ms and more per token it would take a minute on its own.
 */
import { spawn, execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "src/cli/main.ts");
const SELF = fileURLToPath(import.meta.url);
const GRAPH = "https://graph.microsoft.com/.default";
const AZURE_CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";
/** The throttle's rate (CEILING=N to try another: where this machine cannot reach 400/s, a lower one shows the job against a ceiling it can reach). */
const CEILING = Number(process.env.CEILING ?? 400);
const LATENCY_MS = 50;
const SAMPLE = 60;

interface Ready {
  url: string;
  caFile: string;
  customers: { id: string }[];
  user: { username: string; password: string };
}

interface Measurement {
  mode: "job" | "sequential";
  customers: number;
  tenants: number;
  unique: number;
  ok: number;
  failed: number;
  throttled: number;
  seconds: number;
  peakRssMb: number;
  peakHeapMb: number;
  /** CPU time of the job's process per tenant (user + system). */
  cpuMsPerTenant: number;
  /** Live heap after a full collection at the end, the source still alive (its token cache in it). */
  retainedHeapMb: number;
  /** CPU time of the emulator's process per tenant (its whole run, token signing and TLS). */
  emulatorCpuMsPerTenant?: number;
}

/** Starts `partner-token emulator` with `count` generated customers; resolves its ready line. */
async function startEmulator(
  count: number,
  throttled = true,
): Promise<{ ready: Ready; pid: number; stop: () => void }> {
  const dir = await mkdtemp(join(tmpdir(), "pt-bench-customers-"));
  const { defaultSeed } = await import("../src/emulator/seed.ts");
  const seedFile = join(dir, "seed.json");
  await writeFile(
    seedFile,
    JSON.stringify({
      ...defaultSeed,
      relationships: [],
      settings: {
        latencyMs: LATENCY_MS,
        ...(throttled ? { throttle: { tokenRequestsPerSecond: CEILING } } : {}),
      },
      generatedCustomers: { partner: PARTNER, count },
    }),
  );
  const child = spawn(
    process.execPath,
    [MAIN, "emulator", "--port", "0", "--data-dir", dir, "--seed", seedFile],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(JSON.parse(line!));
    });
    child.on("exit", (code) => reject(new Error(`the emulator exited with ${code}`)));
  });
  return { ready, pid: child.pid!, stop: () => child.kill("SIGTERM") };
}

function passwordGrant(ready: Ready): Promise<string> {
  const body = new URLSearchParams({
    grant_type: "password",
    client_id: AZURE_CLI_APP,
    username: ready.user.username,
    password: ready.user.password,
    scope: "https://api.partnercenter.microsoft.com/user_impersonation offline_access openid",
  }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      `${ready.url}/${PARTNER}/oauth2/v2.0/token`,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        ca: readFileSync(ready.caFile, "utf8"),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => resolve(JSON.parse(text).refresh_token));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** In a child process: one measurement, printed as one JSON line. */
async function measure(mode: "job" | "sequential", ready: Ready, count: number): Promise<void> {
  const [{ TokenBroker }, { MemoryTokenCache }, job] = await Promise.all([
    import("../src/session/broker.ts"),
    import("../src/session/memory-cache.ts"),
    import("../src/customers/customer-tokens.ts"),
  ]);
  let current = await passwordGrant(ready);
  const broker = new TokenBroker({
    kind: "user",
    app: {
      clientId: AZURE_CLI_APP,
      environment: {
        name: "Custom",
        authorityHost: ready.url,
        partnerCenterEndpoint: ready.url,
        caFile: ready.caFile,
      },
      tenant: PARTNER,
    },
    accountId: "bench",
    refreshTokens: {
      description: "memory",
      read: async () => ({ token: current }),
      write: async (token: string) => void (current = token),
    },
    cache: new MemoryTokenCache(),
    clientOptions: job.bulkClientOptions,
  });
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 100);
  // As the CLI does before the job (its customer list needs a Partner Center token): modules
  // loaded, the connection and the key set warm. Start-up is not throughput.
  await broker.getToken({ scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"] });
  const ids = ready.customers.map((c) => c.id);
  const seen = new Set<string>();
  let ok = 0;
  let failed = 0;
  let throttled = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  if (mode === "job") {
    for await (const r of job.customerTokens(broker, {
      scopes: [GRAPH],
      customers: ids,
      ...(process.env.CONCURRENCY ? { concurrency: Number(process.env.CONCURRENCY) } : {}),
      onThrottled: () => throttled++,
    })) {
      seen.add(r.tenantId);
      if (r.status === "ok") ok++;
      else failed++;
    }
  } else {
    for (const id of ids.slice(0, SAMPLE)) {
      try {
        await broker.getToken({ scopes: [GRAPH], tenant: id });
        ok++;
      } catch {
        failed++;
      }
      seen.add(id);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(timer);
  sample();
  (globalThis as { gc?: () => void }).gc?.();
  const retained = process.memoryUsage().heapUsed;
  void broker;
  const result: Measurement = {
    mode,
    customers: count,
    tenants: mode === "job" ? ids.length : Math.min(SAMPLE, ids.length),
    unique: seen.size,
    ok,
    failed,
    throttled,
    seconds,
    peakRssMb: peakRss / 2 ** 20,
    peakHeapMb: peakHeap / 2 ** 20,
    cpuMsPerTenant: (cpu.user + cpu.system) / 1000 / Math.max(1, seen.size),
    retainedHeapMb: retained / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

/**
 * In a child process: the job alone, `count` customers through a source that keeps nothing and
 * answers at once — what the job itself holds as the number of customers grows.
 */
async function measureJobAlone(count: number): Promise<void> {
  const job = await import("../src/customers/customer-tokens.ts");
  const gc = (globalThis as { gc?: () => void }).gc!;
  const token = "x".repeat(1500);
  const source = {
    getToken: async (o: { tenant?: string }) => {
      await new Promise((r) => setImmediate(r));
      return { accessToken: token + o.tenant, expiresOn: new Date().toISOString() } as never;
    },
  };
  const ids = Array.from(
    { length: count },
    (_, i) => `00000000-0000-4000-a000-${String(i).padStart(12, "0")}`,
  );
  gc();
  const before = process.memoryUsage().heapUsed;
  let done = 0;
  for await (const r of job.customerTokens(source, { scopes: [GRAPH], customers: ids })) {
    void r;
    done++;
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(
    JSON.stringify({ count, done, growthMb: (after - before) / 2 ** 20 }) + "\n",
  );
}

const runChild = promisify(execFile);

/** CPU time (user + system) of a process so far, from /proc on Linux; undefined elsewhere. */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // Fields 14 and 15 of stat (utime, stime), in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function jobAlone(count: number): Promise<{ count: number; done: number; growthMb: number }> {
  const { stdout } = await runChild(
    process.execPath,
    ["--expose-gc", SELF, "--job-alone", String(count)],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

async function child(
  mode: "job" | "sequential",
  count: number,
  throttled = true,
): Promise<Measurement> {
  const { ready, pid, stop } = await startEmulator(count, throttled);
  try {
    const emulatorCpuBefore = cpuMsOf(pid);
    // The throttle's window starts empty for every measurement: a fresh emulator each time.
    const readyFile = join(await mkdtemp(join(tmpdir(), "pt-bench-ready-")), "ready.json");
    await writeFile(readyFile, JSON.stringify(ready));
    const { stdout } = await runChild(
      process.execPath,
      ["--expose-gc", SELF, "--measure", mode, readyFile, String(count)],
      { maxBuffer: 1 << 20, env: process.env },
    );
    const m: Measurement = JSON.parse(stdout.trim().split("\n").at(-1)!);
    const emulatorCpu = cpuMsOf(pid);
    if (emulatorCpu !== undefined && emulatorCpuBefore !== undefined)
      m.emulatorCpuMsPerTenant = (emulatorCpu - emulatorCpuBefore) / Math.max(1, m.unique);
    return m;
  } finally {
    stop();
  }
}

const line = (m: Measurement) =>
  `${m.mode.padEnd(10)} ${String(m.customers).padStart(6)} customers: ${m.tenants} asked, ${m.unique} answered once, ${m.ok} ok, ${m.failed} failed, ` +
  `${m.throttled} throttled answers absorbed; ${m.seconds.toFixed(2)} s = ${(m.tenants / m.seconds).toFixed(0)} tenants/s; ` +
  `peak RSS ${m.peakRssMb.toFixed(0)} MB, peak heap ${m.peakHeapMb.toFixed(0)} MB, ${m.retainedHeapMb.toFixed(0)} MB live at the end; ` +
  `${m.cpuMsPerTenant.toFixed(1)} ms CPU per tenant` +
  (m.emulatorCpuMsPerTenant !== undefined
    ? ` (+ ${m.emulatorCpuMsPerTenant.toFixed(1)} ms in the emulator)`
    : "");

if (process.argv[2] === "--job-alone") {
  await measureJobAlone(Number(process.argv[3]));
} else if (process.argv[2] === "--measure") {
  await measure(
    process.argv[3] as "job" | "sequential",
    JSON.parse(readFileSync(process.argv[4]!, "utf8")),
    Number(process.argv[5]),
  );
} else {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
  console.log(
    `bench:customers — token endpoint throttled at ${CEILING}/s per app, ${LATENCY_MS} ms on every answer` +
      `\n${cpus().length} CPUs, load average ${load()} at the start (other processes share the CPUs: compare runs on a quiet machine)\n`,
  );
  const thousand = await child("job", 1000);
  console.log(line(thousand));
  const sequential = await child("sequential", 1000);
  console.log(line(sequential));
  const tenThousand = await child("job", 10_000);
  console.log(line(tenThousand));
  // What this machine can do at all, emulator and job together, with no throttle: the ceiling
  // means something only where the machine can reach it.
  const unthrottled = await child("job", 1000, false);
  console.log(`${line(unthrottled)}  (no throttle)`);

  const alone = [await jobAlone(1000), await jobAlone(100_000)];
  const rate = thousand.tenants / thousand.seconds;
  const unthrottledRate = unthrottled.tenants / unthrottled.seconds;
  const sequentialSeconds = (sequential.seconds / sequential.tenants) * 1000;
  const lost = thousand.tenants - thousand.unique + (tenThousand.tenants - tenThousand.unique);
  console.log(
    `\nthroughput, 1,000 customers:  ${rate.toFixed(0)}/s = ${((rate / CEILING) * 100).toFixed(1)} % of the ${CEILING}/s ceiling (goal ≥ 90 %)` +
      `\n                              (this machine without a throttle: ${unthrottledRate.toFixed(0)}/s; the job reached ` +
      `${((rate / Math.min(CEILING, unthrottledRate)) * 100).toFixed(1)} % of what was reachable here)` +
      `\nvs a sequential loop:         ${(sequentialSeconds / thousand.seconds).toFixed(1)}× (the loop's ${sequentialSeconds.toFixed(1)} s for 1,000 extrapolated from ${sequential.tenants}; goal ≥ 20×)` +
      `\nlost tenants:                 ${lost} (goal 0)` +
      `\npeak memory:                  RSS ${thousand.peakRssMb.toFixed(0)} MB for 1,000, ${tenThousand.peakRssMb.toFixed(0)} MB for 10,000 ` +
      `(peak heap ${thousand.peakHeapMb.toFixed(0)} → ${tenThousand.peakHeapMb.toFixed(0)} MB; live at the end ` +
      `${thousand.retainedHeapMb.toFixed(0)} → ${tenThousand.retainedHeapMb.toFixed(0)} MB: ` +
      `${(((tenThousand.retainedHeapMb - thousand.retainedHeapMb) * 2 ** 20) / 9000 / 1024).toFixed(1)} KB per customer kept by the session's token cache)` +
      `\nthe job alone:                live heap ${alone.map((a) => `${a.growthMb >= 0 ? "+" : ""}${a.growthMb.toFixed(1)} MB after ${a.done.toLocaleString("en")} customers`).join(", ")} ` +
      `(a source that keeps nothing: what grows above is the session's cache, not the job)` +
      `\nload average at the end:      ${load()}`,
  );
}
