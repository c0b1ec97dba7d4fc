/**
 * Files that must never be half-written or readable by others: a private temporary file in the
 * same folder, flushed to disk, then renamed over the target (atomic on POSIX and NTFS). A process
 * killed at any point leaves either the old file or the new one.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Creates `path` (and parents) with mode 0700 when missing. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

/**
 * Replaces `target` with `data`, mode 0600, atomically.
 *
 * @example
 * ```ts
 * await writeFileAtomic("/home/me/.local/state/partner-token/profiles/default.json", json);
 * ```
 */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  const file = await open(temporary, "wx", 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
