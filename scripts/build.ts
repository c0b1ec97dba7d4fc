/**
 * Builds `dist/` for the npm package: one bundled file per entry point, with code splitting so
 * that each command, flow and store stays a chunk of its own, loaded only when used.
 *
 *   node scripts/build.ts            (run by `npm pack` / `npm publish` through "prepack")
 *
 * Entry points: the CLI (`dist/cli/main.js`, what `bin/partner-token.cjs` loads), the library
 * (`dist/index.js`) and the emulator (`dist/emulator/index.js`). Pure-JavaScript dependencies
 * are bundled: resolving and reading jose's fifty files on every run costs more than the token
 * request itself. Packages with native code or heavy optional SDKs stay external and are
 * resolved from `node_modules` when a command needs them. Type declarations for the library
 * come from `tsc --emitDeclarationOnly`.
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/**
 * Left to `node_modules`: native addons cannot be bundled, and the Azure SDKs and ioredis are
 * large, optional and loaded only by the stores that use them.
 */
export const EXTERNAL = [
  "@napi-rs/keyring",
  "@azure/identity",
  "@azure/keyvault-secrets",
  "@azure/core-auth",
  "@azure/core-rest-pipeline",
  "ioredis",
];

/**
 * Bundled CommonJS dependencies (node-forge) call require() for Node's built-ins, which an ES
 * module has not: the chunk that holds esbuild's `__require` gets one, made on first use.
 */
const REQUIRE_BANNER =
  'let __ptRequire; const require = (id) => (__ptRequire ??= process.getBuiltinModule("node:module").createRequire(import.meta.url))(id);';

/** The banner goes to every chunk; it stays only where `require` is used (one import less per file). */
function withoutUnusedBanner(text: string): string {
  const rest = text.replace(REQUIRE_BANNER, "");
  return /\brequire\b/.test(rest) ? text : rest.replace(/^(#!.*\n)?\n/, "$1");
}

/**
 * Node's built-in modules through `process.getBuiltinModule` rather than ES-module imports: each
 * `import … from "node:fs"` costs the ES loader a resolution and a module record on every run,
 * where `getBuiltinModule` hands back the module Node has loaded (or loads it, as `require`
 * would). Our sources keep ordinary imports (typechecked, run as they are by `node src/…`); the
 * bundle gets `const { readFileSync } = process.getBuiltinModule("node:fs");` in their place,
 * in the same chunk, so a built-in is still loaded only where a chunk that uses it is (fs/promises
 * only where one of its functions is called).
 * npm run bench:cli measures it.
 */
/**
 * Loaded on a function's first call rather than with the chunk: fs/promises brings readline, the
 * REPL's history and the file watchers with it, which a cached `token` through the bundle never
 * calls for. Every name our sources import from it is a function.
 */
const LAZY = new Set(["node:fs/promises"]);
const BUILTIN = (name: string): string => `process.getBuiltinModule(${JSON.stringify(name)})`;
const STATIC_BUILTIN_IMPORT = /^import\s+(?!type\s)([^;]*?)\s+from\s+"(node:[^"]+)";/gm;

/** One `import` clause (`* as x`, `x`, `{ a, b as c, type T }`, or a default and braces). */
function builtinConstants(clause: string, name: string): string {
  const out: string[] = [];
  const braces = /\{([^}]*)\}/.exec(clause);
  const before = (braces ? clause.slice(0, braces.index) : clause).replace(/,\s*$/, "").trim();
  if (before.startsWith("*"))
    out.push(`const ${before.replace(/^\*\s+as\s+/, "")} = ${BUILTIN(name)};`);
  else if (before !== "") out.push(`const ${before} = ${BUILTIN(name)};`);
  if (braces) {
    const names = braces[1]!
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "" && !s.startsWith("type "))
      .map((s) => s.replace(/\s+as\s+/, ": "));
    if (LAZY.has(name))
      for (const n of names) {
        const [imported, local = imported] = n.split(": ");
        out.push(`const ${local} = (...args) => ${BUILTIN(name)}.${imported}(...args);`);
      }
    else if (names.length > 0) out.push(`const { ${names.join(", ")} } = ${BUILTIN(name)};`);
  }
  return out.join(" ");
}

/** Exported for tests. */
export function builtinsThroughProcess(source: string): string {
  return source
    .replace(STATIC_BUILTIN_IMPORT, (_, clause: string, name: string) =>
      builtinConstants(clause, name),
    )
    .replace(/\bawait import\("(node:[^"]+)"\)/g, (_, name: string) => `await ${BUILTIN(name)}`);
}

const builtinsFromProcess: Plugin = {
  name: "builtins-from-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => ({
      contents: builtinsThroughProcess(readFileSync(args.path, "utf8")),
      loader: "ts",
    }));
  },
};

/** What both the npm build and the standalone executable's build share. */
export const common: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: "node",
  target: "node22.12",
  external: EXTERNAL,
  // `--version` prints this instead of reading package.json: no file to find in a single
  // executable, one read less everywhere.
  define: { PARTNER_TOKEN_VERSION: JSON.stringify(pkg.version) },
  legalComments: "none",
  logLevel: "warning",
};

/** The package's entry points: where each is bundled from and to, relative to `dist/`. */
const ENTRIES = {
  cli: { source: "src/cli/main.ts", out: "cli/main" },
  lib: { source: "src/index.ts", out: "index" },
  emulator: { source: "src/emulator/index.ts", out: "emulator/index" },
} as const;

/**
 * Bundles the named entry points into `outdir` (its old content removed), as the package ships
 * them. The tests run the CLI from `bundle(outdir, ["cli"])` (test/cli/bundle.ts).
 */
export async function bundle(
  outdir: string,
  names: readonly (keyof typeof ENTRIES)[] = ["cli", "lib", "emulator"],
): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  // One build per entry point: built together, the library's index (which imports every flow)
  // would cut the CLI's modules into many small shared chunks, and each is a file to load.
  const results = await Promise.all(
    names.map((name) =>
      build({
        ...common,
        entryPoints: { [ENTRIES[name].out]: ENTRIES[name].source },
        outdir,
        format: "esm",
        splitting: true,
        chunkNames: `chunks/${name}/[name]-[hash]`,
        banner: { js: REQUIRE_BANNER },
        plugins: [builtinsFromProcess],
        write: false,
      }),
    ),
  );
  for (const file of results.flatMap((r) => r.outputFiles)) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, withoutUnusedBanner(file.text), { mode: 0o644 });
  }
}

/** Builds the package's `dist/`. */
export async function buildPackage(outdir = join(ROOT, "dist")): Promise<void> {
  await bundle(outdir);
  await promisify(execFile)(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      join(ROOT, "tsconfig.build.json"),
      "--emitDeclarationOnly",
      // Declarations only: the typecheck is `npm run typecheck`'s job, not the packaging's.
      "--noCheck",
      "--outDir",
      join(outdir, "types"),
    ],
    { cwd: ROOT },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  await buildPackage();
  process.stderr.write(`built dist/ in ${Math.round(performance.now() - started)} ms\n`);
}
