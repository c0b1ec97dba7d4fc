/**
 * scripts/build.ts: the CLI's common flows are one chunk that main.js loads, and the bundle is
 * ASCII (one non-ASCII character makes V8 keep a whole file as a two-byte string).
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, it } from "node:test";
import { asciiOnly, buildPackage, commonFlowGroup } from "../../scripts/build.ts";

it("the group is the static-import closure of its roots; lazily imported members are named", () => {
  const inputs = {
    "src/main.ts": {
      imports: [
        { path: "src/shell.ts", kind: "import-statement" },
        { path: "src/new.ts", kind: "dynamic-import" },
      ],
    },
    "src/shell.ts": { imports: [{ path: "node:fs", kind: "import-statement", external: true }] },
    "src/new.ts": {
      imports: [
        { path: "src/shell.ts", kind: "import-statement" },
        { path: "src/flow.ts", kind: "dynamic-import" },
      ],
    },
    "src/flow.ts": { imports: [{ path: "node_modules/oauth/index.js", kind: "import-statement" }] },
    "node_modules/oauth/index.js": { imports: [] },
    "src/other.ts": { imports: [{ path: "src/shell.ts", kind: "import-statement" }] },
  };
  assert.deepEqual(commonFlowGroup(inputs, ["src/new.ts", "src/flow.ts"]), {
    members: ["node_modules/oauth/index.js", "src/flow.ts", "src/new.ts", "src/shell.ts"],
    lazy: ["src/flow.ts", "src/new.ts"],
  });
});

it("non-ASCII characters are escaped where the escape means the same; elsewhere the build stops", async () => {
  assert.equal(await asciiOnly("const a = 1; // plain\n"), "const a = 1; // plain\n");
  assert.equal(
    await asciiOnly("const a = {\n  /** `… | head` */\n  b: 1\n};\n"),
    "const a = {\n  /** `\\u{2026} | head` */\n  b: 1\n};\n",
  );
  // In a string the escape means the same character: accepted. In a regular expression without
  // the u flag it would not: refused.
  assert.equal(await asciiOnly('const a = "…";\n'), 'const a = "\\u{2026}";\n');
  await assert.rejects(asciiOnly("const r = /…/;\n"), /changes the code/);
});

let dist: string;
before(async () => {
  dist = join(await mkdtemp(join(tmpdir(), "pt-build-")), "dist");
  await buildPackage(dist);
});
after(() => rm(dirname(dist), { recursive: true, force: true }));

/** The files an ES module loads before it runs: its static imports, transitively. */
async function staticClosure(file: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = await readFile(file, "utf8");
  for (const [, spec] of text.matchAll(/^(?:import|export)\s[^;]*?["'](\.{1,2}\/[^"']+)["'];?$/gm))
    await staticClosure(resolve(dirname(file), spec!), seen);
  return seen;
}

it("main.js loads the common flows with itself: client credentials and oauth4webapi in one chunk", async () => {
  const files = await staticClosure(join(dist, "cli/main.js"));
  const texts = await Promise.all([...files].map((f) => readFile(f, "utf8")));
  const group = texts.filter((t) => t.includes("// src/client/flow-context.ts"));
  assert.equal(group.length, 1, "flow-context.ts is in one chunk that main.js imports");
  for (const module of [
    "src/cli/command.ts",
    "src/cli/commands/new.ts",
    "src/cli/sign-in-flags.ts",
    "src/client/new-partner-access-token.ts",
    "src/client/client-credentials.ts",
    "src/client/refresh-token.ts",
    "src/client/ca-trust.ts",
    "node_modules/oauth4webapi/",
  ])
    assert.ok(group[0]!.includes(`// ${module}`), `${module} is in the common-flows chunk`);
  // main.js, the group and at most esbuild's runtime helpers: not one chunk per set of importers.
  assert.ok(files.size <= 3, `main.js loads ${files.size} files: ${[...files].join(", ")}`);
});

it("every file of dist/ is ASCII", async () => {
  const js = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith(".js"));
  assert.ok(js.length > 10);
  for (const file of js)
    assert.doesNotMatch(await readFile(join(dist, file), "utf8"), /[^\x00-\x7f]/, file);
});
