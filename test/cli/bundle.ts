/**
 * The CLI as the tests run it: the bundle that scripts/build.ts makes of the CURRENT sources
 * (what the npm package ships), rather than src/cli/main.ts. A process started from the sources
 * makes Node read and strip the types of every module it imports, on every one of the suite's
 * hundreds of CLI runs; from the bundle it loads a few files it has compiled before.
 *
 * The bundle lives in node_modules/.cache/partner-token-test-cli/<hash>/, named by a hash of
 * everything it is made from (src/, scripts/build.ts, package.json, package-lock.json,
 * tsconfig.json): a change to any source gives a new hash, and the first test process that
 * needs it builds it (esbuild, the CLI's entry point only, about a second), so a test never runs
 * a stale CLI. `npm test` builds it once before the runner starts (`node test/cli/bundle.ts`).
 *
 * PARTNER_TOKEN_TEST_CLI=sources runs src/cli/main.ts instead (to debug with the sources' line
 * numbers, or to check that the sources run as they are). If the bundle cannot be built, the
 * tests run the sources and say so on stderr.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SOURCE_MAIN = join(ROOT, "src", "cli", "main.ts");
const CACHE = join(ROOT, "node_modules", ".cache", "partner-token-test-cli");
/** What the bundle is made from, besides every file under src/. */
const INPUTS = ["scripts/build.ts", "package.json", "package-lock.json", "tsconfig.json"];
/** Bundles of older sources are removed once this old (a checkout switched back reuses one). */
const KEEP_MS = 24 * 3600_000;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A hash of the sources and of how they are built. */
export function sourceHash(): string {
  const hash = createHash("sha256");
  const files = [
    ...filesUnder(join(ROOT, "src")),
    ...INPUTS.map((f) => join(ROOT, f)).filter((f) => existsSync(f)),
  ].sort();
  for (const file of files) {
    hash.update(relative(ROOT, file)).update("\0");
    hash.update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 20);
}

/** Removes what is left of other sources' bundles (and of builds cut short) after a day. */
async function pruneOld(keep: string): Promise<void> {
  for (const name of await readdir(CACHE).catch(() => [] as string[])) {
    if (name === keep) continue;
    const path = join(CACHE, name);
    const info = await stat(path).catch(() => null);
    if (info && Date.now() - info.mtimeMs > KEEP_MS)
      await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * The path of the bundled CLI for the current sources, built first if it is not there yet.
 * Several test processes may build at once: each builds into a folder of its own and renames it
 * into place; the first rename wins and the others' copies (identical) are removed.
 */
export async function builtCli(): Promise<string> {
  const hash = sourceHash();
  const dir = join(CACHE, hash);
  const entry = join(dir, "cli", "main.js");
  if (existsSync(join(dir, "complete"))) return entry;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(CACHE, { recursive: true });
  try {
    const { bundle } = await import("../../scripts/build.ts");
    await bundle(tmp, ["cli"]);
    await writeFile(join(tmp, "complete"), `${hash}\n`);
    try {
      await rename(tmp, dir);
    } catch (error) {
      if (!existsSync(join(dir, "complete"))) throw error;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await pruneOld(hash);
  return entry;
}

/** The script a test gives `node` to run the CLI: the bundle, or the sources (see above). */
export async function cliEntry(): Promise<string> {
  if (process.env.PARTNER_TOKEN_TEST_CLI === "sources") return SOURCE_MAIN;
  try {
    return await builtCli();
  } catch (error) {
    process.stderr.write(
      `test/cli/bundle.ts: the CLI could not be bundled, so the tests run src/cli/main.ts ` +
        `(slower): ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return SOURCE_MAIN;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `npm test`'s first step: the bundle built once, before the runner starts its processes.
  const started = performance.now();
  const entry = await cliEntry();
  process.stderr.write(
    `The tests run the CLI from ${relative(ROOT, entry)} (${Math.round(performance.now() - started)} ms)\n`,
  );
}
