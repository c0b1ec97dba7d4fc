/**
 * Every `--help` starts with examples, the way `gh` shows them: the title line, then
 * "Examples:" with runnable command lines, then the usage and the options.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "./helpers.ts";

/** The command names listed by `partner-token --help`. */
async function listedCommands(): Promise<string[]> {
  const { stderr } = await runCli(["--help"]);
  const start = stderr.indexOf("\nCommands:\n");
  const section = stderr.slice(start, stderr.indexOf("\n\n", start + 1));
  return [...section.matchAll(/^ {2}([a-z][a-z0-9-]*) {2,}/gm)].map((m) => m[1]!);
}

function assertExamplesFirst(text: string, command: string): void {
  const lines = text.split("\n");
  assert.match(lines[0]!, new RegExp(`^partner-token${command ? ` ${command}` : ""}( |$)`));
  assert.equal(lines[1], "", `${command || "partner-token"}: a blank line after the title`);
  assert.equal(
    lines[2],
    "Examples:",
    `${command || "partner-token"}: examples right after the title`,
  );
  const firstExample = lines.slice(3).find((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  assert.ok((firstExample ?? "").includes(`partner-token ${command}`), `${command}: an example`);
  assert.ok(
    text.indexOf("Examples:") < text.indexOf("Usage:"),
    `${command}: examples before the usage`,
  );
}

test("partner-token --help: examples first", async () => {
  const { code, stderr } = await runCli(["--help"]);
  assert.equal(code, 0);
  assertExamplesFirst(stderr, "");
});

test("every command's --help: examples first", async () => {
  const commands = await listedCommands();
  assert.ok(commands.length >= 5);
  for (const command of commands) {
    const { code, stdout, stderr } = await runCli([command, "--help"]);
    assert.equal(code, 0, `${command} --help: ${stderr}`);
    assertExamplesFirst(stdout || stderr, command);
  }
});
