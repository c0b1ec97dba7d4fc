/**
 * The bulk job's JSON Lines file (`--out FILE`): private (0600), appended to as results arrive so
 * that a run stopped half-way leaves every finished tenant behind, and compacted at the end to
 * exactly one line per customer (the latest), replacing the file atomically. `--resume` reads it
 * back: the tenants already `ok` are skipped.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * The latest line of each tenant in a results file (keys: tenant ids in lower case), in the order
 * tenants first appear; a missing file is an empty map, a line cut short is skipped.
 *
 * @example
 * ```ts
 * const done = okTenants(await readResults("tokens.jsonl"));
 * const todo = customers.filter((c) => !done.has(c.tenantId.toLowerCase()));
 * ```
 */
export async function readResults(
  path: string,
): Promise<Map<string, { line: string; status: string }>> {
  const results = new Map<string, { line: string; status: string }>();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return results;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: { tenantId?: unknown; status?: unknown };
    try {
      parsed = JSON.parse(line);
    } catch {
      // A line cut short by a crash: that tenant is simply done again.
      continue;
    }
    if (typeof parsed.tenantId !== "string") continue;
    const key = parsed.tenantId.toLowerCase();
    results.delete(key);
    results.set(key, { line, status: String(parsed.status) });
  }
  return results;
}

/** Tenant ids (lower case) whose latest line says `ok`. */
export function okTenants(results: Map<string, { status: string }>): Set<string> {
  return new Set([...results].filter(([, r]) => r.status === "ok").map(([k]) => k));
}

/**
 * A results file open for appending (created 0600; truncated unless `resume`).
 *
 * @example
 * ```ts
 * const file = await ResultsFile.open("tokens.jsonl", { resume: true });
 * await file.append(JSON.stringify(result));
 * await file.close(); // compacts to one line per tenant
 * ```
 */
export class ResultsFile {
  readonly path: string;
  #handle: FileHandle | undefined;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  static async open(path: string, options: { resume: boolean }): Promise<ResultsFile> {
    const handle = await open(path, options.resume ? "a" : "w", 0o600);
    // An existing file keeps its mode on open: make it private whatever it was.
    await handle.chmod(0o600);
    return new ResultsFile(path, handle);
  }

  async append(line: string): Promise<void> {
    await this.#handle!.appendFile(line + "\n", "utf8");
  }

  /** Closes, then rewrites the file with the latest line of each tenant (atomically, 0600). */
  async close(): Promise<void> {
    const handle = this.#handle;
    if (!handle) return;
    this.#handle = undefined;
    await handle.sync();
    await handle.close();
    const results = await readResults(this.path);
    const temporary = join(
      dirname(this.path),
      `.${basename(this.path)}.${randomBytes(6).toString("hex")}.tmp`,
    );
    const out = await open(temporary, "wx", 0o600);
    try {
      let text = "";
      for (const { line } of results.values()) text += line + "\n";
      await out.writeFile(text, "utf8");
      await out.sync();
    } finally {
      await out.close();
    }
    try {
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
