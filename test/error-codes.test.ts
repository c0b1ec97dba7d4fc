/**
 * One error vocabulary: every `ERR_*` code the sources give an error is in the exported
 * `ErrorCode` union (`src/error-codes.ts`) and in docs/cli.md's table with its exit code.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ERROR_CODES, isErrorCode } from "../src/error-codes.ts";
import { readSource, ROOT, sourceFiles } from "./source-files.ts";

/** Codes of other libraries that the sources only compare with, never give. */
const FOREIGN = new Set(["ERR_JWKS_NO_MATCHING_KEY"]);
/** The codes that end in a server's value, as docs/cli.md names them. */
const TEMPLATES: Record<string, string> = {
  ERR_AADSTS: "ERR_AADSTSn",
  ERR_OAUTH_: "ERR_OAUTH_x",
  ERR_PARTNER_CENTER_: "ERR_PARTNER_CENTER_n",
};

/** `ERR_…` in string literals and at the start of template literals, outside the emulator. */
function codesInSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles("src").filter((f) => !f.startsWith("src/emulator/")))
    for (const m of readSource(file).matchAll(/["'`](ERR_[A-Z0-9_]*)(\$\{)?/g))
      if (!found.has(m[1]! + (m[2] ?? ""))) found.set(m[1]! + (m[2] ?? ""), file);
  return found;
}

const docs = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
const documented = new Set(
  [...docs.matchAll(/^\| `(ERR_[A-Za-z0-9_]+)` +\| ([^|]+)\|/gm)].map((m) => m[1]!),
);

describe("error codes", () => {
  test("every code the sources give is an ErrorCode", () => {
    const codes = codesInSources();
    assert.ok(codes.size > 30, `${codes.size} codes found`);
    const unknown = [...codes]
      .filter(([code]) => !FOREIGN.has(code))
      .filter(([code]) =>
        code.endsWith("${") ? !(code.slice(0, -2) in TEMPLATES) : !isErrorCode(code),
      )
      .map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(unknown, [], "add them to ERROR_CODES in src/error-codes.ts");
  });

  test("every ErrorCode is listed in docs/cli.md with its exit code", () => {
    const missing = [...ERROR_CODES, ...Object.values(TEMPLATES)].filter((c) => !documented.has(c));
    assert.deepEqual(missing, [], "add them to docs/cli.md's error code table");
    const stale = [...documented].filter(
      (c) =>
        !(ERROR_CODES as readonly string[]).includes(c) && !Object.values(TEMPLATES).includes(c),
    );
    assert.deepEqual(stale, [], "docs/cli.md lists codes the sources no longer have");
  });

  test("the union's checker takes a server's codes and refuses others", () => {
    assert.ok(isErrorCode("ERR_AADSTS50020"));
    assert.ok(isErrorCode("ERR_OAUTH_INVALID_GRANT"));
    assert.ok(isErrorCode("ERR_PARTNER_CENTER_403"));
    assert.ok(isErrorCode("ERR_NO_SESSION"));
    assert.ok(!isErrorCode("ERR_NO_SUCH_THING"));
    assert.ok(!isErrorCode("ERR_AADSTS"));
  });
});
