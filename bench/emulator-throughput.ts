/**
 * Benchmark (not a test): access tokens per second that the emulator mints for the client
 * credentials grant, against panva's oidc-provider configured the same way on this machine.
 *
 *   node bench/emulator-throughput.ts        (npm run bench)
 *
 * Both servers speak HTTPS on loopback with a certificate issued by the emulator's generated CA
 * (oidc-provider reuses the emulator's server.pem / server-key.pem, so the TLS cost is the same),
 * authenticate one client by `client_secret_post`, and mint RS256-signed JWT access tokens for a
 * resource with an RSA 2048 key. Each server runs in its own worker thread; the load generator
 * runs on the main thread with the same client code for both: a fixed number of POSTs at a fixed
 * concurrency over keep-alive connections that trust the CA. Rounds alternate (A B A B …) and the
 * median of each server's rounds is compared, goal: emulator / oidc-provider >= 1.5. A third
 * target, "floor" (a bare HTTPS server that signs one RS256 JWT per request), shows the ceiling
 * this machine puts on any server doing the same TLS and RSA work; "CPU µs/token" is the CPU time
 * of the whole process per token (less sensitive to a busy machine than tokens per second).
 *
 * The load generator is Debian's `wrk` when it is installed (`apt-get install wrk`): a C program in
 * a process of its own, so the servers' differences are not drowned by the cost of the client;
 * "CPU µs/token" is then the servers' own CPU. Without wrk, the Node client below is used
 * (BENCH_LOAD=node forces it), and the ratios come out compressed by its cost.
 *
 * Environment: BENCH_LOAD (wrk | node), BENCH_REQUESTS (node: 2000 per round), BENCH_SECONDS
 * (wrk: 3 per round), BENCH_WARMUP (300), BENCH_CONCURRENCY (16), BENCH_ROUNDS (6 per server).
 */
import { Agent, request, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { execFile, execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";

const GOAL = 1.5;
const RESOURCE = "https://graph.microsoft.com";
const ROLES = ["Directory.Read.All", "Organization.Read.All", "User.Read.All"];
const TIME_LIMIT_MS = 120_000;

/** What a server worker reports once it listens. */
interface Target {
  name: string;
  tokenUrl: string;
  jwksUrl: string;
  issuer: string;
  audience: string;
  caFile: string;
  dataDir: string;
  /** The form body of one token request (client_secret_post). */
  form: string;
}

type WorkerInput = { kind: "emulator" | "oidc-provider" | "floor"; dataDir: string };

function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

// ---------------------------------------------------------------------------------------------
// Server side (worker threads)

async function runEmulator(dataDir: string): Promise<{ target: Target; close(): Promise<void> }> {
  const { startEmulator } = await import("../src/emulator/index.ts");
  const emu = await startEmulator({ port: 0, dataDir, log: () => {} });
  const tenant = emu.info.partnerTenant.id;
  const app = emu.info.apps.confidential;
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: app.clientId,
    client_secret: app.clientSecret,
    scope: `${RESOURCE}/.default`,
  }).toString();
  return {
    target: {
      name: "emulator",
      tokenUrl: `${emu.url}/${tenant}/oauth2/v2.0/token`,
      jwksUrl: `${emu.url}/${tenant}/discovery/v2.0/keys`,
      issuer: `${emu.url}/${tenant}/`,
      audience: RESOURCE,
      caFile: emu.caFile!,
      dataDir,
      form,
    },
    close: () => emu.close(),
  };
}

/** The emulator's server certificate and key in `dataDir`, which the other servers reuse. */
function emulatorCertificate(dataDir: string): { cert: Buffer; key: Buffer } {
  return {
    cert: readFileSync(join(dataDir, "server.pem")),
    key: readFileSync(join(dataDir, "server-key.pem")),
  };
}

/** Listens on a free loopback port (keep-alive 5 s) and returns the server's issuer. */
async function listenOnLoopback(server: HttpsServer): Promise<string> {
  server.keepAliveTimeout = 5000;
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A server of ours on `issuer` that answers at /token and /jwks: its target and how to close it. */
function servedAt(
  server: HttpsServer,
  name: string,
  issuer: string,
  dataDir: string,
  form: string,
): { target: Target; close(): Promise<void> } {
  return {
    target: {
      name,
      tokenUrl: `${issuer}/token`,
      jwksUrl: `${issuer}/jwks`,
      issuer,
      audience: RESOURCE,
      caFile: join(dataDir, "ca.pem"),
      dataDir,
      form,
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

async function runOidcProvider(
  dataDir: string,
): Promise<{ target: Target; close(): Promise<void> }> {
  // oidc-provider prints development notices (in-memory adapter, experimental features) with
  // console.info / console.warn; they are expected here, so keep them out of the report.
  for (const method of ["info", "warn"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].includes("oidc-provider")) return;
      original(...args);
    };
  }
  // @ts-expect-error oidc-provider ships no types.
  const { default: Provider } = await import("oidc-provider");
  const { createServer } = await import("node:https");
  const server = createServer(emulatorCertificate(dataDir));
  const issuer = await listenOnLoopback(server);
  const signingJwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    format: "jwk",
  });
  const client = { id: "bench-client", secret: "bench-client-secret-0000000000000000" };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        grant_types: ["client_credentials"],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    jwks: { keys: [{ ...signingJwk, kid: "bench-rs256", use: "sig", alg: "RS256" }] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== RESOURCE) throw new Provider.errors.InvalidTarget();
          return {
            audience: RESOURCE,
            scope: ROLES.join(" "),
            accessTokenTTL: 3600,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    ttl: { ClientCredentials: 3600 },
  });
  server.on("request", provider.callback());
  const form = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: client.id,
    client_secret: client.secret,
    resource: RESOURCE,
    scope: ROLES.join(" "),
  }).toString();
  return servedAt(server, "oidc-provider", issuer, dataDir, form);
}

/**
 * The floor: a bare node:https server (same certificate) that reads the body and answers with one
 * freshly signed RS256 JWT, signed the way both servers sign (WebCrypto, RSA 2048). Neither server
 * can mint faster than this on the same machine, so it shows how much room is left.
 */
async function runFloor(dataDir: string): Promise<{ target: Target; close(): Promise<void> }> {
  const { createServer } = await import("node:https");
  const { randomUUID, webcrypto } = await import("node:crypto");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const cryptoKey = privateKey.toCryptoKey({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "floor" }] });
  const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "floor" })).toString(
    "base64url",
  );
  let issuer = "";
  const server = createServer(emulatorCertificate(dataDir), (req, res) => {
    const send = (text: string) => {
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method === "GET") return send(jwks);
    req.resume();
    req.on("end", () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: issuer, aud: RESOURCE, iat: now, exp: now + 3600, jti: randomUUID() };
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
      void webcrypto.subtle
        .sign("RSASSA-PKCS1-v1_5", cryptoKey, Buffer.from(input))
        .then((signature) => {
          const token = `${input}.${Buffer.from(signature).toString("base64url")}`;
          send(JSON.stringify({ token_type: "Bearer", expires_in: 3600, access_token: token }));
        });
    });
  });
  issuer = await listenOnLoopback(server);
  return servedAt(server, "floor", issuer, dataDir, "grant_type=client_credentials");
}

async function workerMain(input: WorkerInput): Promise<void> {
  const running =
    input.kind === "emulator"
      ? await runEmulator(input.dataDir)
      : input.kind === "oidc-provider"
        ? await runOidcProvider(input.dataDir)
        : await runFloor(input.dataDir);
  parentPort!.on("message", (message: unknown) => {
    if (message === "close") void running.close().then(() => parentPort!.close());
  });
  parentPort!.postMessage(running.target);
}

// ---------------------------------------------------------------------------------------------
// Client side (main thread): the same code for both servers

interface Client {
  agent: Agent;
  post(url: string, form: string): Promise<{ status: number; body: string }>;
  get(url: string): Promise<{ status: number; body: string }>;
}

function httpsClient(ca: Buffer, concurrency: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const send = (method: string, url: string, form?: string) =>
    new Promise<{ status: number; body: string }>((ok, fail) => {
      const headers: Record<string, string | number> = { accept: "application/json" };
      if (form !== undefined) {
        headers["content-type"] = "application/x-www-form-urlencoded";
        headers["content-length"] = Buffer.byteLength(form);
      }
      const req = request(url, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", fail);
      });
      req.on("error", fail);
      req.end(form);
    });
  return {
    agent,
    post: (url, form) => send("POST", url, form),
    get: (url) => send("GET", url),
  };
}

interface Round {
  tokensPerSecond: number;
  /** CPU time of this process per token, in µs: the servers' threads and thread pool, plus the Node client when it is the load. */
  cpuPerToken: number;
}

/** Sends `count` token requests, `concurrency` at a time. */
async function load(
  client: Client,
  target: Target,
  count: number,
  concurrency: number,
): Promise<Round> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const { status, body } = await client.post(target.tokenUrl, target.form);
      if (status !== 200) throw new Error(`${target.name}: HTTP ${status}: ${body.slice(0, 300)}`);
      const token = (JSON.parse(body) as { access_token?: unknown }).access_token;
      if (typeof token !== "string") throw new Error(`${target.name}: no access_token in ${body}`);
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { tokensPerSecond: count / seconds, cpuPerToken: (used.user + used.system) / count };
}

function wrkInstalled(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (e) {
    // `wrk --version` prints its usage and exits 1; only a missing binary means no wrk.
    return (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** `seconds` of load from wrk (one thread, `concurrency` keep-alive connections). */
async function loadWithWrk(
  target: Target,
  seconds: number,
  concurrency: number,
  dir: string,
): Promise<Round> {
  const script = join(dir, `${target.name}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(target.form)}\n` +
      `wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n`,
  );
  const cpu = process.cpuUsage();
  const out = await new Promise<string>((ok, fail) =>
    execFile(
      "wrk",
      ["-t1", `-c${concurrency}`, `-d${seconds}s`, "-s", script, target.tokenUrl],
      { timeout: (seconds + 30) * 1000 },
      (error, stdout) => (error ? fail(error) : ok(stdout)),
    ),
  );
  const used = process.cpuUsage(cpu);
  const count = Number(/(\d+) requests in/.exec(out)?.[1]);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  if (!count || !rate) throw new Error(`${target.name}: cannot read wrk's output:\n${out}`);
  if (/Non-2xx or 3xx responses|Socket errors/.test(out))
    throw new Error(`${target.name}: failed requests:\n${out}`);
  return { tokensPerSecond: rate, cpuPerToken: (used.user + used.system) / count };
}

/** One token, checked: an RS256 JWT whose signature verifies against the server's JWKS. */
async function verifyOnce(client: Client, target: Target): Promise<Record<string, unknown>> {
  const { status, body } = await client.post(target.tokenUrl, target.form);
  if (status !== 200) throw new Error(`${target.name}: HTTP ${status}: ${body}`);
  const token = (JSON.parse(body) as { access_token: string }).access_token;
  const header = decodeProtectedHeader(token);
  if (header.alg !== "RS256") throw new Error(`${target.name}: alg ${String(header.alg)}`);
  const jwks = JSON.parse((await client.get(target.jwksUrl)).body) as JSONWebKeySet;
  const key = jwks.keys.find((k) => k.kid === header.kid);
  if (key?.kty !== "RSA" || Buffer.from(key.n!, "base64url").length !== 256)
    throw new Error(`${target.name}: signing key is not RSA 2048`);
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    algorithms: ["RS256"],
    issuer: target.issuer,
    audience: target.audience,
  });
  return payload;
}

function startWorker(input: WorkerInput): Promise<{ worker: Worker; target: Target }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: input });
  return new Promise((ok, fail) => {
    worker.once("message", (target: Target) => ok({ worker, target }));
    worker.once("error", fail);
    worker.once("exit", (code) => fail(new Error(`${input.kind} worker exited (${code})`)));
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const requests = intFromEnv("BENCH_REQUESTS", 2000);
  const warmup = intFromEnv("BENCH_WARMUP", 300);
  const concurrency = intFromEnv("BENCH_CONCURRENCY", 16);
  const rounds = intFromEnv("BENCH_ROUNDS", 6);
  const seconds = intFromEnv("BENCH_SECONDS", 3);
  const useWrk = process.env["BENCH_LOAD"] !== "node" && wrkInstalled();
  const deadline = setTimeout(() => {
    console.error(`bench: gave up after ${TIME_LIMIT_MS / 1000} s`);
    process.exit(2);
  }, TIME_LIMIT_MS);
  deadline.unref();

  const dataDir = mkdtempSync(join(tmpdir(), "partner-token-bench-"));
  const workers: Worker[] = [];
  try {
    // The emulator creates its CA and server certificate first; oidc-provider reuses them.
    const emulator = await startWorker({ kind: "emulator", dataDir });
    workers.push(emulator.worker);
    const oidc = await startWorker({ kind: "oidc-provider", dataDir });
    workers.push(oidc.worker);
    const floor = await startWorker({ kind: "floor", dataDir });
    workers.push(floor.worker);
    const targets = [emulator.target, oidc.target, floor.target];
    const client = httpsClient(readFileSync(emulator.target.caFile), concurrency);

    console.log(
      `client credentials, RS256 JWT access tokens, HTTPS keep-alive on loopback; load from ` +
        (useWrk
          ? `wrk, ${seconds} s per round`
          : `the Node client (no wrk installed), ${requests} requests per round`) +
        ` at concurrency ${concurrency}, ${rounds} rounds per server`,
    );
    for (const t of targets) {
      const claims = await verifyOnce(client, t);
      console.log(
        `  ${t.name.padEnd(14)} token verified: RS256, iss ${String(claims["iss"])}, aud ${String(claims["aud"])}`,
      );
      await load(client, t, warmup, concurrency);
    }

    const results = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++)
      for (const t of round % 2 === 0 ? targets : [...targets].reverse())
        results
          .get(t.name)!
          .push(
            useWrk
              ? await loadWithWrk(t, seconds, concurrency, dataDir)
              : await load(client, t, requests, concurrency),
          );
    client.agent.destroy();

    console.log("");
    const rate = (name: string) => median(results.get(name)!.map((r) => r.tokensPerSecond));
    const cpu = (name: string) => median(results.get(name)!.map((r) => r.cpuPerToken));
    console.log(
      `  ${"server".padEnd(14)}  ${"median tok/s".padStart(12)}  ${"CPU µs/token".padStart(12)}  tok/s by round`,
    );
    for (const t of targets)
      console.log(
        `  ${t.name.padEnd(14)}  ${rate(t.name).toFixed(0).padStart(12)}  ${cpu(t.name).toFixed(0).padStart(12)}  ${results
          .get(t.name)!
          .map((r) => r.tokensPerSecond.toFixed(0))
          .join(", ")}`,
      );
    // Each round measures the servers back to back, under about the same load from the rest of
    // the machine: the median of the per-round ratios is steadier than a ratio of medians.
    const ratioTo = (name: string) =>
      median(
        results
          .get(name)!
          .map((r, i) => r.tokensPerSecond / results.get("oidc-provider")![i]!.tokensPerSecond),
      );
    const ratio = ratioTo("emulator");
    console.log("");
    console.log(
      `  emulator / oidc-provider = ${ratio.toFixed(2)}x tok/s (median of per-round ratios; ` +
        `${(cpu("oidc-provider") / cpu("emulator")).toFixed(2)}x by CPU per token) ` +
        `- goal ${GOAL.toFixed(1)}x: ${ratio >= GOAL ? "met" : "not met"}`,
    );
    console.log(
      `  floor / oidc-provider    = ${ratioTo("floor").toFixed(2)}x tok/s ` +
        `(${(cpu("oidc-provider") / cpu("floor")).toFixed(2)}x by CPU per token) ` +
        `- floor: bare HTTPS + one RS256 signature per request, the most any server reaches here`,
    );
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((ok) => {
            w.removeAllListeners("exit");
            w.removeAllListeners("error");
            w.once("exit", () => ok());
            w.postMessage("close");
            setTimeout(() => void w.terminate(), 3000).unref();
          }),
      ),
    );
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await workerMain(workerData as WorkerInput);
