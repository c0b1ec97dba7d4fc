/**
 * The failover proof the Redis Cluster and Sentinel tests share: ten worker processes
 * (redis-ha-worker.ts) renew once through the fleet cache; then, while a renewal is in flight, the
 * master holding the refresh token is killed with SIGKILL. After the failover the workers carry on
 * with no sign-in, the refresh token is never replaced by an older one, at most one extra renewal
 * happens, and every error on the way names Redis. Last, with no master left for the key, a worker
 * fails with a clear error naming Redis.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openRefreshTokenStore, parseEncryptionKey } from "../../src/stores/index.ts";
import type { StoredRefreshToken } from "../../src/session/types.ts";
import { GRAPH, type Emulator } from "../cli/helpers.ts";
import { control, newKey, refreshRequests } from "./helpers.ts";

const WORKER = fileURLToPath(new URL("./redis-ha-worker.ts", import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WorkerLine {
  at: number;
  ok: boolean;
  token?: string;
  code?: string;
  message?: string;
  signIn?: boolean;
  ms: number;
}

/** What the proof needs from a deployment (a cluster, or a Sentinel set). */
export interface FailoverTarget {
  /** The fleet cache URI (`redis+cluster://…`, `redis+sentinel://…`). */
  cacheUri: string;
  /** The refresh-token store's key (the store URI is `cacheUri#storeKey`). */
  storeKey: string;
  /** Removes the cached access tokens (as their expiry would). */
  dropCachedTokens(): Promise<void>;
  /** Whether a renewal lock is held. */
  lockHeld(): Promise<boolean>;
  /** SIGKILLs the master that holds `key` now. */
  killMasterOf(key: string): Promise<void>;
  /** Waits until a live master holds `key` again. */
  waitForFailover(key: string): Promise<void>;
  /** SIGKILLs the master holding `key` and every replica that could take over from it. */
  killEveryCopyOf(key: string): Promise<void>;
}

interface RunningWorker {
  child: ChildProcess;
  lines: WorkerLine[];
  exited: Promise<unknown>;
}

/** A refresh token for the emulator's confidential app and user (a password grant). */
async function signIn(emu: Emulator): Promise<string> {
  const { clientId, clientSecret } = emu.info.apps.confidential;
  const ca = readFileSync(emu.info.caFile!, "utf8");
  const body: { refresh_token?: string } = await new Promise((resolve, reject) => {
    const req = request(
      `${emu.info.url}/${emu.info.partnerTenant.id}/oauth2/v2.0/token`,
      { method: "POST", ca, headers: { "content-type": "application/x-www-form-urlencoded" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
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
  assert.ok(body.refresh_token, "the emulator signed in");
  return body.refresh_token;
}

/** The refresh requests the emulator saw, for a failure's message. */
async function refreshLog(emu: Emulator): Promise<string> {
  const log = await control(emu, "requests");
  const entries: Array<Record<string, any>> = Array.isArray(log) ? log : (log.requests ?? []);
  return entries
    .filter((e) => e["note"]?.["grant_type"] === "refresh_token")
    .map(
      (e) =>
        `${e["time"]} ${e["path"]} ${e["status"]} ${e["durationMs"]} ms ${e["note"]?.["error"] ?? ""}`,
    )
    .join("\n");
}

export async function proveFailover(emu: Emulator, target: FailoverTarget): Promise<void> {
  const key = newKey();
  const encryptionKey = parseEncryptionKey(key);
  const storeUri = `${target.cacheUri}#${target.storeKey}`;
  const tenant = emu.info.customers[1]!;
  const workerEnv = (extra: Record<string, string> = {}) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|NODE_EXTRA_CA_CERTS)/.test(k)) env[k] = v;
    return {
      ...env,
      PT_KEY: key,
      APP_SECRET: emu.info.apps.confidential.clientSecret,
      PT_WORKER: JSON.stringify({
        storeUri,
        cacheUri: target.cacheUri,
        clientId: emu.info.apps.confidential.clientId,
        tenant: tenant.domain,
        authorityHost: emu.info.url,
        caFile: emu.info.caFile,
        scope: GRAPH,
      }),
      ...extra,
    };
  };
  const startWorker = (): RunningWorker => {
    const child = spawn(process.execPath, [WORKER], {
      env: workerEnv(),
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines: WorkerLine[] = [];
    let buffer = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as WorkerLine);
        buffer = buffer.slice(nl + 1);
      }
    });
    return { child, lines, exited: new Promise((r) => child.once("exit", r)) };
  };
  const waitFor = async (what: string, ms: number, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}:\n${summary()}`);
      await sleep(100);
    }
  };

  const summary = () =>
    workers
      .map((w, i) => {
        const last = w.lines.at(-1);
        return `worker ${i}: ${w.lines.length} calls, ${w.lines.filter((l) => l.ok).length} ok; last: ${last ? (last.ok ? `ok at ${last.at}` : `${last.code} ${last.message}`) : "none"}`;
      })
      .join("\n");
  // The test's own view of the store, through the same kind of connection as the fleet's.
  const view = await openRefreshTokenStore(storeUri, { encryptionKey });
  const workers: RunningWorker[] = [];
  let monitoring = true;
  const seen: StoredRefreshToken[] = [];
  let monitor: Promise<void> = Promise.resolve();
  try {
    const rt0 = await signIn(emu);
    await view.write(rt0);
    await control(emu, "requests", undefined, "DELETE");

    // 1. Ten workers renew once and share the token.
    for (let i = 0; i < 10; i++) workers.push(startWorker());
    await waitFor("every worker's first token", 90_000, () =>
      workers.every((w) => w.lines.some((l) => l.ok)),
    );
    const first = workers.map((w) => w.lines.find((l) => l.ok)!);
    const errorsSoFar = () =>
      workers
        .flatMap((w) => w.lines.filter((l) => !l.ok))
        .map((l) => `${l.code}: ${l.message}`)
        .join("\n");
    assert.equal(
      await refreshRequests(emu),
      1,
      `one renewal for the ten workers; errors:\n${errorsSoFar()}\nrefreshes:\n${await refreshLog(emu)}`,
    );
    assert.equal(new Set(first.map((l) => l.token)).size, 1, "all ten share the renewed token");
    const rt1 = (await view.read())!;
    assert.notEqual(rt1.token, rt0, "the rotated refresh token was written back");

    // The store, watched all along: never an older token back, never the first one again.
    monitor = (async () => {
      while (monitoring) {
        const read = await view.read().catch(() => undefined);
        if (read) seen.push(read);
        await sleep(50);
      }
    })();

    // 2. The shared token "expires"; the next renewal is slow, and meanwhile the master dies.
    await control(emu, "requests", undefined, "DELETE");
    await control(emu, "faults", {
      path: `/${tenant.domain}/oauth2/v2.0/token`,
      delayMs: 1000,
      count: 1,
    });
    await target.dropCachedTokens();
    const droppedAt = Date.now();
    await waitFor("a worker to start renewing", 20_000, () => target.lockHeld());
    const killedAt = Date.now();
    await target.killMasterOf(target.storeKey);
    await target.waitForFailover(target.storeKey);
    const failedOverAt = Date.now();

    // 3. After the failover, every worker carries on.
    await waitFor("every worker's tokens after the failover", 90_000, () =>
      workers.every((w) => w.lines.filter((l) => l.ok && l.at > failedOverAt).length >= 2),
    );
    monitoring = false;
    await monitor;
    for (const w of workers) w.child.stdin!.end();
    await Promise.all(workers.map((w) => w.exited));

    const after = workers.flatMap((w) => w.lines.filter((l) => l.at > droppedAt));
    const errors = after.filter((l) => !l.ok);
    for (const e of errors) {
      assert.equal(e.signIn, false, `no sign-in needed: ${e.message}`);
      assert.match(e.message!, /Redis at (Cluster|Sentinel) /, "every error names Redis");
      assert.ok(
        ["ERR_REDIS_UNAVAILABLE", "ERR_REFRESH_TOKEN_WRITE", "ERR_REDIS_NOT_REPLICATED"].includes(
          e.code!,
        ),
        `an error of Redis, not ${e.code}: ${e.message}`,
      );
      assert.doesNotMatch(e.message!, /\n\s+at /, "no stack trace");
    }
    const renewals = await refreshRequests(emu);
    assert.ok(
      renewals >= 1 && renewals <= 2,
      `one renewal for the expiry, at most one more for the failover (${renewals})`,
    );
    const tokensAfter = new Set(after.filter((l) => l.ok).map((l) => l.token));
    assert.ok(tokensAfter.size <= renewals, "no more access tokens than renewals");
    for (const w of workers) assert.ok(w.lines.at(-1)!.ok, "every worker ends with a token");

    // No refresh token lost or overwritten by an older one.
    assert.ok(seen.length > 0, "the store was readable");
    for (let i = 1; i < seen.length; i++)
      assert.ok(
        (seen[i]!.updatedAt ?? 0) >= (seen[i - 1]!.updatedAt ?? 0),
        "the stored refresh token never went back to an older one",
      );
    assert.ok(!seen.some((s) => s.token === rt0), "never the token from before the last renewal");
    const last = (await view.read())!;
    assert.notEqual(last.token, rt1.token, "the renewal after the failover was written");
    assert.ok(last.updatedAt! > rt1.updatedAt!, "a newer token than before the failover");
    console.log(
      `failover: ${failedOverAt - killedAt} ms; ${errors.length} errors naming Redis meanwhile; ${renewals} renewal(s)`,
    );

    // 4. No master left for the key: a clear error naming Redis, in bounded time.
    await target.dropCachedTokens();
    await target.killEveryCopyOf(target.storeKey);
    const once = spawn(process.execPath, [WORKER], {
      env: workerEnv({ PT_WORKER_ONCE: "1" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    once.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    once.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    const code = await new Promise((r) => once.once("exit", r));
    assert.equal(code, 1, err);
    const line = JSON.parse(out.trim().split("\n").at(-1)!) as WorkerLine;
    assert.equal(line.ok, false);
    assert.equal(line.code, "ERR_REDIS_UNAVAILABLE", line.message);
    assert.match(line.message!, /^Redis at (Cluster|Sentinel) .*: could not /);
    assert.ok(!line.message!.includes(key), "no secret in the message");
    console.log(`no master: ${line.message}`);
  } finally {
    monitoring = false;
    await monitor.catch(() => undefined);
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    await view.close?.().catch(() => undefined);
  }
}
