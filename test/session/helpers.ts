/**
 * Shared by the session tests: a private cache folder and key folder per test, the CLI run with
 * them, the emulator's refresh-grant count, and faketime for the client's clock (a fixed offset,
 * or one clock shared with the emulator).
 */
import { spawn } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { MAIN, emuFlags, runCli, tempDir, type CliResult, type Emulator } from "../cli/helpers.ts";

export interface SessionEnv extends Record<string, string> {
  PARTNER_TOKEN_CACHE_DIR: string;
  PARTNER_TOKEN_KEY_DIR: string;
}

/** A cache folder and key folder of its own, keyring off (the keyring tests turn it on). */
export async function sessionEnv(extra: Record<string, string> = {}): Promise<SessionEnv> {
  return {
    PARTNER_TOKEN_CACHE_DIR: await tempDir("pt-cache-"),
    PARTNER_TOKEN_KEY_DIR: await tempDir("pt-keys-"),
    PARTNER_TOKEN_KEYRING: "off",
    ...extra,
  };
}

/** `partner-token connect --device` with the default application, against `emu`. */
export async function connectDevice(
  emu: Emulator,
  env: Record<string, string>,
  ...extra: string[]
): Promise<CliResult> {
  const r = await runCli(["connect", "--use-device-authentication", ...emuFlags(emu), ...extra], {
    env,
  });
  if (r.code !== 0) throw new Error(`connect failed (${r.code}): ${r.stderr}`);
  return r;
}

/** Refresh-token grants the emulator has answered so far. */
export function refreshGrants(emu: Emulator): number {
  return emu.requests().filter((e) => e.note["grant_type"] === "refresh_token").length;
}

/** Every file under `dir` with its mode and content. */
export async function filesUnder(
  dir: string,
): Promise<Array<{ path: string; mode: number; isDir: boolean; text: string }>> {
  const out: Array<{ path: string; mode: number; isDir: boolean; text: string }> = [];
  const walk = async (d: string): Promise<void> => {
    const s = await stat(d);
    out.push({ path: d, mode: s.mode & 0o777, isDir: true, text: "" });
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else
        out.push({
          path: p,
          mode: (await stat(p)).mode & 0o777,
          isDir: false,
          text: await readFile(p, "latin1"),
        });
    }
  };
  await walk(dir);
  return out;
}

/** Runs the CLI under Debian's faketime, `offset` like "+77d". */
export function runCliAt(
  offset: string,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|NODE_EXTRA_CA_CERTS)/.test(k)) childEnv[k] = v;
  Object.assign(childEnv, env, { FAKETIME_DONT_FAKE_MONOTONIC: "1" });
  return new Promise((resolve, reject) => {
    const child = spawn("faketime", ["-f", offset, process.execPath, MAIN, ...args], {
      env: childEnv,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (e) =>
      reject(new Error(`faketime could not run (install Debian's faketime): ${e.message}`)),
    );
    child.on("close", (code, signal) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
    child.stdin.end();
  });
}

/** Debian's libfaketime (the thread-safe build: node runs threads), or a message saying what to install. */
async function libfaketime(): Promise<string> {
  for (const arch of await readdir("/usr/lib").catch(() => [] as string[])) {
    const path = join("/usr/lib", arch, "faketime", "libfaketimeMT.so.1");
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  throw new Error(
    "libfaketime is not installed: install Debian's faketime (scripts/install-system-deps.sh).",
  );
}

/**
 * One clock for the emulator and the CLI processes given `env`: libfaketime reads the offset
 * from a file at every call (`FAKETIME_TIMESTAMP_FILE`, `FAKETIME_NO_CACHE`), so `advance` moves
 * the emulator's clock and that of every such process at once — one already running too.
 * Monotonic time is left alone, so timers and timeouts still count real seconds.
 */
export interface SharedClock {
  /** Add to `runCli`'s environment. */
  env: Record<string, string>;
  /** Seconds the clock is ahead of the real one. */
  readonly offset: number;
  /** Moves the emulator and the processes `seconds` ahead, together (synchronously). */
  advance(seconds: number): void;
}

export async function sharedClock(emu: Emulator): Promise<SharedClock> {
  const dir = await tempDir("pt-clock-");
  const file = join(dir, "offset");
  let offset = 0;
  const write = () => {
    // Atomically: a process reading it mid-write must not see an empty offset (the real time).
    writeFileSync(`${file}.tmp`, `+${offset}s\n`);
    renameSync(`${file}.tmp`, file);
  };
  write();
  return {
    env: {
      LD_PRELOAD: await libfaketime(),
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_NO_CACHE: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    },
    get offset() {
      return offset;
    },
    advance(seconds: number) {
      emu.advanceClock(seconds);
      offset += seconds;
      write();
    },
  };
}
