/**
 * `file:PATH` (and `--save-refresh-token PATH`): the refresh token in a file, mode 0600, replaced
 * atomically — a private temporary file in the target's own folder, flushed, renamed over it — so
 * a crash leaves the old token or the new one, never half of one.
 *
 * A symbolic link is written through: the temporary file goes next to the link's target and is
 * renamed over the target, so the link stays a link (renaming over the link itself would replace
 * it with a plain file and leave the real token behind, unchanged).
 */
import { lstat, readFile, readlink, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { writeFileAtomic } from "../session/atomic-file.ts";
import type { RefreshTokenStore, StoredRefreshToken } from "../session/types.ts";
import { assertStorableToken, StoreError } from "./errors.ts";

/** `~/…` is under the home folder, as in `@~/…` sources. */
export function expandHome(path: string): string {
  return path.replace(/^~(?=\/|\\|$)/, homedir());
}

const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

/**
 * The file that a write must replace: `path` itself, or the final target of a symbolic link
 * (which must be, or be about to be, a plain file in an existing folder).
 */
export async function writeTarget(path: string, description = `file:${path}`): Promise<string> {
  const given = resolve(expandHome(path));
  let info;
  try {
    info = await lstat(given);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return given;
    throw fileError(description, "inspect", given, error);
  }
  let target = given;
  if (info.isSymbolicLink()) {
    try {
      target = await realpath(given);
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw fileError(description, "follow", given, error);
      // A dangling link: write its target, provided the target's folder exists.
      target = resolve(dirname(given), await readlink(given));
      try {
        await stat(dirname(target));
      } catch {
        throw new StoreError(
          "ERR_STORE_SYMLINK",
          description,
          `${given} is a symbolic link to ${target}, whose folder does not exist; nothing was written.`,
          { hint: `Create ${dirname(target)}, or point the link at an existing folder.` },
        );
      }
      return target;
    }
    info = await stat(target);
  }
  if (!info.isFile())
    throw new StoreError(
      "ERR_STORE_NOT_A_FILE",
      description,
      `${target} is not a regular file; nothing was written.`,
    );
  return target;
}

function fileError(description: string, verb: string, path: string, error: unknown): StoreError {
  const code = codeOf(error) ?? "error";
  return new StoreError(
    "ERR_STORE_FILE",
    description,
    `Could not ${verb} ${path} (${code}); it was left as it was.`,
    {
      hint:
        code === "EACCES" || code === "EPERM"
          ? `Check the permissions of ${dirname(path)}: partner-token writes a temporary file there and renames it.`
          : undefined,
      cause: error,
    },
  );
}

/**
 * Writes `token` to `path` atomically, mode 0600, after checking it is a plausible token.
 *
 * @example
 * ```ts
 * await writeRefreshTokenFile("~/.pt/rt", result.refreshToken);
 * ```
 */
export async function writeRefreshTokenFile(
  path: string,
  token: string,
  description = `file:${path}`,
): Promise<void> {
  assertStorableToken(token, description);
  const target = await writeTarget(path, description);
  try {
    await writeFileAtomic(target, token + "\n");
  } catch (error) {
    throw fileError(description, "write", target, error);
  }
}

/**
 * The store for `file:PATH`.
 *
 * @example
 * ```ts
 * const store = openFileStore("/run/secrets/partner-rt");
 * const current = await store.read(); // { token, updatedAt } or null
 * ```
 */
export function openFileStore(path: string): RefreshTokenStore {
  const description = `file:${path}`;
  const full = resolve(expandHome(path));
  return {
    description,
    async read(): Promise<StoredRefreshToken | null> {
      let text: string;
      try {
        text = await readFile(full, "utf8");
      } catch (error) {
        if (codeOf(error) === "ENOENT") return null;
        throw fileError(description, "read", full, error);
      }
      const token = text.replace(/\r?\n$/, "");
      if (token === "") return null;
      const updatedAt = (await stat(full)).mtimeMs;
      return { token, updatedAt };
    },
    write: (token: string) => writeRefreshTokenFile(path, token, description),
  };
}
