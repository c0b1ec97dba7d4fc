/**
 * A cross-process lock on one file, made for single-flight renewal and for read-modify-write of a
 * profile: `open(path, "wx")` creates the lock or fails if another process holds it. The lock file
 * names its holder (host, pid); a holder that died (SIGKILL, power loss) is detected — on the same
 * host by its pid, elsewhere by age — and its lock taken over, so a crash never wedges the cache.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rm, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { CancelledError } from "../client/errors.ts";

interface Holder {
  host: string;
  pid: number;
  at: number;
  id: string;
}

export interface LockOptions {
  /** A lock older than this is taken over even when its holder seems alive (another host). */
  staleMs?: number;
  /** Give up after this long (throws {@link LockTimeoutError}). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The lock could not be taken in time: its holder is alive and still working. */
export class LockTimeoutError extends Error {
  override readonly name = "LockTimeoutError";
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, "utf8")) as Holder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(
  path: string,
  holder: Holder | undefined,
  staleMs: number,
): Promise<boolean> {
  if (holder === undefined) {
    // Being written this instant, or left empty by a crash between create and write.
    try {
      return Date.now() - (await stat(path)).mtimeMs > 2_000;
    } catch {
      return false;
    }
  }
  if (holder.host === hostname() && !alive(holder.pid)) return true;
  return Date.now() - holder.at > staleMs;
}

/**
 * Takes the lock at `path`, waiting while a live process holds it. Resolves to the release function.
 *
 * @example
 * ```ts
 * const release = await acquireLock(`${dir}/default.lock`);
 * try { await renew(); } finally { await release(); }
 * ```
 */
export async function acquireLock(
  path: string,
  options: LockOptions = {},
): Promise<() => Promise<void>> {
  const staleMs = options.staleMs ?? 120_000;
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const me: Holder = {
    host: hostname(),
    pid: process.pid,
    at: Date.now(),
    id: randomBytes(8).toString("hex"),
  };
  let wait = 5;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    try {
      const file = await open(path, "wx", 0o600);
      try {
        await file.writeFile(JSON.stringify({ ...me, at: Date.now() }));
      } finally {
        await file.close();
      }
      return async () => {
        const holder = await readHolder(path);
        if (holder?.id === me.id) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(path);
    if (await isStale(path, holder, staleMs)) {
      await takeOver(path, holder);
      continue;
    }
    if (Date.now() > deadline)
      throw new LockTimeoutError(
        `${path} is held by process ${holder?.pid ?? "?"} on ${holder?.host ?? "?"}; it did not finish in time`,
      );
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 100);
  }
}

/**
 * Removes a stale lock. Two waiters may find the same stale lock: the removal is itself guarded by
 * a short-lived lock, and the holder is read again under it, so a fresh lock is never removed.
 */
async function takeOver(path: string, seen: Holder | undefined): Promise<void> {
  const guard = `${path}.takeover`;
  let file;
  try {
    file = await open(guard, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Another waiter is taking it over; a guard left by a crash is cleared after a few seconds.
    try {
      if (Date.now() - (await stat(guard)).mtimeMs > 5_000) await rm(guard, { force: true });
    } catch {
      /* gone already */
    }
    await sleep(5);
    return;
  }
  try {
    await file.close();
    const now = await readHolder(path);
    if (now?.id === seen?.id) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}
