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
      `const { readFile, writeFile: write } = ${from("node:fs/promises")};`,
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

it("what it writes runs: the same functions as the imports", async () => {
  const code = builtinsThroughProcess(
    'import { join as j } from "node:path";\nimport * as os from "node:os";\nreturn [j("a", "b"), os.EOL];',
  );
  const { join } = await import("node:path");
  const { EOL } = await import("node:os");
  assert.deepEqual(new Function(code)(), [join("a", "b"), EOL]);
});
