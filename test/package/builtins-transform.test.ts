/** scripts/build.ts: the bundle takes Node's built-ins from `process.getBuiltinModule`. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { builtinsThroughProcess } from "../../scripts/build.ts";

const from = (name: string): string => `process.getBuiltinModule("${name}")`;

it("named, renamed, type-only, namespace and default imports of a built-in", () => {
  const source = [
    'import { readFile, writeFile as write } from "node:fs/promises";',
    'import {\n  createHash,\n  type KeyObject,\n  randomUUID,\n} from "node:crypto";',
    'import * as tls from "node:tls";',
    'import path, { join } from "node:path";',
    'import type { IncomingMessage } from "node:http";',
    'import { type Socket } from "node:net";',
    'import { local } from "./local.ts";',
    'const { rm } = await import("node:fs/promises");',
    'import { homedir } from "node:os"; // after',
  ].join("\n");
  assert.equal(
    builtinsThroughProcess(source),
    [
      `const readFile = (...args) => ${from("node:fs/promises")}.readFile(...args);` +
        ` const write = (...args) => ${from("node:fs/promises")}.writeFile(...args);`,
      `const { createHash, randomUUID } = ${from("node:crypto")};`,
      `const tls = ${from("node:tls")};`,
      `const path = ${from("node:path")}; const { join } = ${from("node:path")};`,
      'import type { IncomingMessage } from "node:http";',
      "",
      'import { local } from "./local.ts";',
      `const { rm } = await ${from("node:fs/promises")};`,
      `const { homedir } = ${from("node:os")}; // after`,
    ].join("\n"),
  );
});

it("fs/promises is loaded on a function's first call, not with the module", async () => {
  const code = builtinsThroughProcess(
    'import { readFile } from "node:fs/promises";\nreturn readFile;',
  );
  let loaded = 0;
  const original = process.getBuiltinModule;
  const counting = ((id: string) => (loaded++, original(id))) as typeof original;
  process.getBuiltinModule = counting;
  try {
    const readFile = new Function(code)() as (path: string, enc: string) => Promise<string>;
    assert.equal(loaded, 0);
    assert.match(await readFile(new URL(import.meta.url).pathname, "utf8"), /first call/);
    assert.equal(loaded, 1);
  } finally {
    process.getBuiltinModule = original;
  }
});

it("what it writes runs: the same functions as the imports", async () => {
  const code = builtinsThroughProcess(
    'import { join as j } from "node:path";\nimport * as os from "node:os";\nreturn [j("a", "b"), os.EOL];',
  );
  const { join } = await import("node:path");
  const { EOL } = await import("node:os");
  assert.deepEqual(new Function(code)(), [join("a", "b"), EOL]);
});
