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
import { build, transform, type BuildOptions, type Plugin } from "esbuild";
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

/**
 * The modules of the everyday flows: `new` with client credentials or a refresh token, with the
 * command shell, flags, secret sources and output every command shares. With plain splitting,
 * esbuild cuts them into one chunk per set of entry points reaching them (each lazily imported
 * module is one) — fifteen files for one `new`, each a resolution, a read, a compile-cache lookup
 * and a module record for the ES loader, in four rounds of dynamic imports. Here they make one
 * chunk, loaded by main.js: a virtual module uses every one of them, and every entry point
 * imports it, so that all their code is reached by the same entry points. Their static imports
 * are in the group too (the closure, from a first pass's metafile).
 * npm run bench:cli measures it.
 */
export const COMMON_FLOW_ROOTS = [
  "src/cli/commands/new.ts",
  "src/client/new-partner-access-token.ts",
  "src/client/client-credentials.ts",
  "src/client/refresh-token.ts",
];
const GROUP = "partner-token:common-flows";

type Inputs = Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;

/**
 * The group (the static-import closure of `roots` in a metafile's inputs) and the modules that
 * import the group's module: every entry point, which is every module outside the group (the
 * entry's own module or one it imports) and every module of the group that is imported lazily.
 * Paths are relative to ROOT, as the metafile gives them.
 */
export function commonFlowGroup(
  inputs: Inputs,
  roots: string[],
): { members: string[]; lazy: string[] } {
  const members = new Set<string>();
  const visit = (path: string): void => {
    if (members.has(path) || !(path in inputs)) return;
    members.add(path);
    for (const i of inputs[path]!.imports)
      if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  roots.forEach(visit);
  const lazy = new Set(
    Object.values(inputs).flatMap((input) =>
      input.imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path),
    ),
  );
  return {
    members: [...members].sort(),
    lazy: [...members].filter((m) => lazy.has(m)).sort(),
  };
}

/** The plugin that makes the group one chunk (the CLI's build only). */
function oneChunk({ members, lazy }: { members: string[]; lazy: string[] }): Plugin {
  const withoutImport = new Set(members.filter((m) => !lazy.includes(m)).map((m) => join(ROOT, m)));
  const ns = members.map((_, i) => `m${i}`);
  // A use of every module's namespace that esbuild cannot drop, and that costs nothing at run
  // time: the branch is never taken (the symbol is this build's and never set).
  const contents =
    members
      .map((m, i) => `import * as ${ns[i]} from ${JSON.stringify(join(ROOT, m))};`)
      .join("\n") +
    `\nconst use = globalThis[Symbol.for(${JSON.stringify(GROUP)})];\nif (use) use(${ns.join(", ")});\n`;
  return {
    name: "one-chunk",
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${GROUP}$`) }, () => ({ path: GROUP, namespace: GROUP }));
      b.onLoad({ filter: /.*/, namespace: GROUP }, () => ({
        contents,
        resolveDir: ROOT,
        loader: "js",
      }));
      b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
        const source = builtinsThroughProcess(readFileSync(args.path, "utf8"));
        return {
          // After a hashbang line, which must stay first.
          contents: withoutImport.has(args.path)
            ? source
            : source.replace(/^(#!.*\n)?/, (hashbang) => `${hashbang}import "${GROUP}";\n`),
          loader: "ts",
        };
      });
    },
  };
}

/**
 * The output in ASCII. esbuild writes strings, templates, regular expressions and names in ASCII
 * (its default `charset`), but keeps some comments (those inside object literals) as written:
 * one `…` there makes V8 hold the whole file as a two-byte string, and Node's compile cache
 * encode it back to UTF-8 for its checksum on every run (about 1.5% of a `new`'s instructions for
 * the common-flows chunk). The characters left are escaped, and a minified comparison proves the
 * code unchanged (an escape means the same character in a comment, a string or a name, not in a
 * regular expression without the u flag).
 */
export async function asciiOnly(text: string): Promise<string> {
  const escaped = text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  if (escaped === text) return text;
  const code = async (source: string) =>
    (
      await transform(source, {
        minifyWhitespace: true,
        legalComments: "none",
        format: "esm",
        loader: "js",
      })
    ).code;
  if ((await code(escaped)) !== (await code(text)))
    throw new Error(
      "scripts/build.ts: escaping the bundle's non-ASCII characters changes the code",
    );
  return escaped;
}

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
  const options = (name: keyof typeof ENTRIES, plugin: Plugin): BuildOptions => ({
    ...common,
    entryPoints: { [ENTRIES[name].out]: ENTRIES[name].source },
    outdir,
    format: "esm",
    splitting: true,
    chunkNames: `chunks/${name}/[name]-[hash]`,
    banner: { js: REQUIRE_BANNER },
    plugins: [plugin],
    write: false,
  });
  // The CLI in two passes: the first finds the common flows' modules, the second makes them one chunk.
  const one = async (name: keyof typeof ENTRIES) => {
    if (name !== "cli") return build(options(name, builtinsFromProcess));
    const first = await build({ ...options("cli", builtinsFromProcess), metafile: true });
    return build(
      options("cli", oneChunk(commonFlowGroup(first.metafile!.inputs, COMMON_FLOW_ROOTS))),
    );
  };
  const results = await Promise.all(names.map(one));
  for (const file of results.flatMap((r) => r.outputFiles ?? [])) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, await asciiOnly(withoutUnusedBanner(file.text)), { mode: 0o644 });
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
