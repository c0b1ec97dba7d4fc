/**
 * The rules of ARCHITECTURE.md, checked from the imports of every file under src/ and bench/
 * (static, type-only and dynamic imports alike). A failure names the file and the import.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { importsOf, sourceFiles, type Import } from "./source-files.ts";

const files = [...sourceFiles("src"), ...sourceFiles("bench")];
const under = (path: string | undefined, folder: string): boolean =>
  path !== undefined && (path === folder || path.startsWith(`${folder}/`));

/** Every import of `from` files that lands in `into`, as "file imports 'specifier'" lines. */
function violations(
  from: (file: string) => boolean,
  into: (target: string, file: string) => boolean,
): string[] {
  const found: string[] = [];
  for (const file of files.filter(from))
    for (const { specifier, target } of importsOf(file) as Import[])
      if (target !== undefined && into(target, file))
        found.push(`${file} imports '${specifier}' (${target})`);
  return found;
}

describe("architecture: who may import whom", () => {
  test("the import reader sees the imports (the rules below are not empty)", () => {
    assert.ok(files.length > 100, `${files.length} files under src/ and bench/`);
    const table = importsOf("src/cli/command-table.ts").map((i) => i.target);
    assert.ok(table.includes("src/cli/commands/token.ts"), "a dynamic import");
    const token = importsOf("src/cli/commands/token.ts").map((i) => i.target);
    assert.ok(token.includes("src/cli/command.ts"), "a type import");
    assert.ok(token.includes("src/cli/args.ts"), "a static import");
  });

  test("the emulator imports nothing of the client, sessions, stores, CLI, Partner Center client, bulk job, sidecar or Graph client", () => {
    const forbidden = [
      "src/client",
      "src/session",
      "src/stores",
      "src/cli",
      "src/partner-center",
      "src/customers",
      "src/sidecar",
      "src/graph",
    ];
    assert.deepEqual(
      violations(
        (file) => under(file, "src/emulator"),
        (target) => forbidden.some((folder) => under(target, folder)),
      ),
      [],
    );
  });

  test("nothing but the CLI (and bench/) imports the emulator", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src") && !under(file, "src/cli") && !under(file, "src/emulator"),
        (target) => under(target, "src/emulator"),
      ),
      [],
    );
  });

  test("client/ never imports session/", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src/client"),
        (target) => under(target, "src/session"),
      ),
      [],
    );
  });

  test("client/, the bottom layer, imports only client/ and error-codes.ts (no stores: their callers give readers)", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src/client"),
        (target) =>
          under(target, "src") && !under(target, "src/client") && target !== "src/error-codes.ts",
      ),
      [],
    );
  });

  test("only src/cli and bench/ import src/cli", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src") && !under(file, "src/cli"),
        (target) => under(target, "src/cli"),
      ),
      [],
    );
  });

  test("graph/ imports only client/ and session/types.ts", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src/graph"),
        (target) =>
          under(target, "src") &&
          !under(target, "src/graph") &&
          !under(target, "src/client") &&
          target !== "src/session/types.ts",
      ),
      [],
    );
  });

  test("app-setup/ imports only client/, graph/, session/ and stores/ (never cli/ or the emulator)", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src/app-setup"),
        (target) =>
          under(target, "src") &&
          !["src/app-setup", "src/client", "src/graph", "src/session", "src/stores"].some((d) =>
            under(target, d),
          ),
      ),
      [],
    );
  });

  test("no command imports another command", () => {
    assert.deepEqual(
      violations(
        (file) => under(file, "src/cli/commands"),
        (target, file) => under(target, "src/cli/commands") && target !== file,
      ),
      [],
    );
  });
});
