/**
 * Builds the standalone executable: Node's single executable application (SEA) with the whole
 * CLI inside, for machines that have no Node (scheduled jobs, containers, build agents).
 *
 *   node scripts/build-sea.ts [OUT_DIR]      (default dist-sea/; writes OUT_DIR/partner-token)
 *
 * Steps, the same on every OS (docs/install.md has the Windows and macOS commands):
 * 1. one CommonJS file with every dependency bundled (a SEA's `require` sees only Node's
 *    built-in modules, and its main script is CommonJS);
 * 2. `node --experimental-sea-config` turns it into a blob, with V8's code cache;
 * 3. a copy of the running `node` binary gets the blob injected with postject.
 * The executable is the Node binary that ran this script, so build with the Node version and on
 * the OS and architecture you ship for.
 */
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { common } from "./build.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The sentinel Node's binary carries for postject (the same in every Node release with SEA). */
const FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/**
 * Builds `outDir/partner-token` (`partner-token.exe` on Windows) and returns its path.
 *
 * @example
 * ```ts
 * const exe = await buildSea("/tmp/sea");
 * execFileSync(exe, ["--version"]);
 * ```
 */
export async function buildSea(outDir = join(ROOT, "dist-sea")): Promise<string> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const bundle = join(outDir, "partner-token.cjs");
  await build({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    outfile: bundle,
    format: "cjs",
    // Inside a SEA, import() cannot load anything: lazy commands become lazy require()s.
    supported: { "dynamic-import": false },
    // Everything is bundled but the native keyring addon, which a SEA cannot load; the
    // keyring store says so when asked for (every other store works).
    external: ["@napi-rs/keyring"],
    minify: true,
    // main.ts reads package.json through import.meta only when run from the sources; here the
    // version is defined at build time and that branch is never taken.
    logOverride: { "empty-import-meta": "silent" },
  });

  const blob = join(outDir, "sea-prep.blob");
  const config = join(outDir, "sea-config.json");
  await writeFile(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
    }),
  );
  await promisify(execFile)(process.execPath, ["--experimental-sea-config", config], {
    cwd: outDir,
  });

  const exe = join(outDir, process.platform === "win32" ? "partner-token.exe" : "partner-token");
  await copyFile(process.execPath, exe);
  await chmod(exe, 0o755);
  if (process.platform === "darwin") {
    // Node's binary is signed; the signature must go before the injection (Node's SEA docs).
    await promisify(execFile)("codesign", ["--remove-signature", exe]);
  }
  const { inject } = await import("postject");
  await inject(exe, "NODE_SEA_BLOB", await readFile(blob), {
    sentinelFuse: FUSE,
    ...(process.platform === "darwin" ? { machoSegmentName: "NODE_SEA" } : {}),
  });
  if (process.platform === "darwin") {
    // The injection invalidates the signature; macOS refuses to run an unsigned binary.
    await promisify(execFile)("codesign", ["--sign", "-", exe]);
  }
  await rm(blob);
  await rm(config);
  return exe;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const exe = await buildSea(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stderr.write(`built ${exe} in ${Math.round(performance.now() - started)} ms\n`);
}
