/**
 * `--save-refresh-token FILE`: writes the rotated refresh token back, so the next run starts from
 * it (a refresh token unused for 90 days expires; every use returns a new one to keep).
 *
 * Nothing is lost: the file is replaced atomically (a private temporary file in the same folder,
 * flushed, then renamed over it), only after a successful sign-in, and only with a value that
 * looks like a refresh token; otherwise the old file stays as it was.
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";

/** `~/…` is under the home folder, as in `@~/…` sources. */
export function expandHome(path: string): string {
  return path.replace(/^~(?=\/|\\|$)/, homedir());
}

export type SaveOutcome = "saved" | "none-issued";

/**
 * Saves `token` to `path` (mode 0600). Resolves "none-issued", writing nothing, when the server
 * issued no refresh token; throws, writing nothing, on a value that is not a plausible token.
 */
export async function saveRefreshToken(path: string, token: string | null): Promise<SaveOutcome> {
  if (token === null || token === "") return "none-issued";
  // Opaque, but always printable and on one line: anything else is not worth overwriting with.
  if (!/^[\x21-\x7e]{16,16384}$/.test(token))
    throw new Error("the refresh token in the response is not a printable single-line value");
  const target = expandHome(path);
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  const file = await open(temporary, "wx", 0o600);
  try {
    await file.writeFile(token + "\n", "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return "saved";
}
