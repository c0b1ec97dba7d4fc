/**
 * Renewal under pressure: 20 processes at once share one refresh; processes killed at random
 * points of a renewal never cost the session; a lock left by a dead process is taken over; the
 * 90-day window, with the emulator's clock and the client's (faketime) moved together.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  GRAPH,
  MAIN,
  runCli,
  startTestEmulator,
  verifyEmulatorToken,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, refreshGrants, runCliAt, sessionEnv } from "./helpers.ts";

describe("renewal", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.close());

  test("20 processes started at once that all need a renewal cause exactly one refresh request", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const customer = emu.info.customers[0]!.id;
    const before = refreshGrants(emu);
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        runCli(["token", "--scopes", GRAPH, "--tenant", customer], { env, timeoutMs: 120_000 }),
      ),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    assert.equal(refreshGrants(emu) - before, 1, "one refresh for 20 processes");
    const tokens = new Set(runs.map((r) => r.json.accessToken as string));
    assert.equal(tokens.size, 1, "all 20 got the one fresh token");
    await verifyEmulatorToken(emu, [...tokens][0]!, { tenantId: customer });
    const status = await runCli(["status", "-o", "json"], { env });
    assert.equal(status.code, 0, "the cache is intact");
    const locks = await readdir(join(env.PARTNER_TOKEN_CACHE_DIR, "locks"));
    assert.deepEqual(locks, [], "no lock left behind");
  });

  test("a process killed with SIGKILL at random points of renewals, 20 times, never costs the session", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const childEnv = { ...process.env, ...env } as Record<string, string>;
    for (const k of Object.keys(childEnv)) if (/^AZURE_/.test(k)) delete childEnv[k];
    for (let i = 0; i < 20; i++) {
      const child = spawn(process.execPath, [MAIN, "token", "--scopes", GRAPH, "--force-refresh"], {
        env: childEnv,
        stdio: "ignore",
      });
      const closed = new Promise((r) => child.once("close", r));
      // From before the cache is read to after the new refresh token is written (or a finished run).
      await new Promise((r) => setTimeout(r, 80 + Math.random() * 500));
      child.kill("SIGKILL");
      await closed;
    }
    const r = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(r.code, 0, r.stderr);
    const status = await runCli(["status", "-o", "json"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.json.state, "ok");
  });

  test("a lock held by a dead process is taken over at once", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const dead = spawn(process.execPath, ["-e", "0"]);
    await new Promise((r) => dead.once("close", r));
    const { hostname } = await import("node:os");
    const locks = join(env.PARTNER_TOKEN_CACHE_DIR, "locks");
    await mkdir(locks, { recursive: true, mode: 0o700 });
    // Every lock this profile could take: the profile file's and a renewal's.
    const holder = JSON.stringify({ host: hostname(), pid: dead.pid, at: Date.now(), id: "dead" });
    await writeFile(join(env.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.json.lock"), holder, {
      mode: 0o600,
    });
    const started = Date.now();
    const r = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 30_000, "did not wait for the lock to age");
  });

  test("the 90-day window: 77 idle days → status 3, token renews and the window restarts; 91 days → exit 4 with AADSTS700082", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    emu.advanceClock(77 * 86_400);
    const warned = await runCliAt("+77d", ["status", "-o", "json"], env);
    assert.equal(warned.code, 3, warned.stderr);
    assert.equal(warned.json.state, "expiring");
    assert.ok(warned.json.refreshToken.daysLeft <= 13.1 && warned.json.refreshToken.daysLeft > 12);
    assert.match(warned.stderr, /expires in 13(\.\d)? days unless it is used/);

    const renewed = await runCliAt("+77d", ["token", "--scopes", GRAPH], env);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stderr, /had 13(\.0)? days left of its 90-day window; it was renewed now/);
    const healthy = await runCliAt("+77d", ["status", "-o", "json"], env);
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.ok(healthy.json.refreshToken.daysLeft > 89, "the window restarted");

    // 91 days after that renewal.
    emu.advanceClock(91 * 86_400);
    const expired = await runCliAt("+168d", ["token", "--scopes", GRAPH, "--force-refresh"], env);
    assert.equal(expired.code, 4, expired.stderr);
    assert.match(expired.stderr, /AADSTS700082/);
    assert.match(expired.stderr, /sign in/i);
    const after = await runCliAt("+168d", ["status", "-o", "json"], env);
    assert.equal(after.code, 4);
    assert.equal(after.json.state, "signInRequired");
  });
});
