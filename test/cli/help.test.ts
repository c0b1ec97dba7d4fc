/**
 * What `runCommand` gives every command, checked over the command table (so a new command is
 * checked as soon as it is in the table): `--help` on stdout with exit 0, examples first, the way
 * `gh` shows them (the title line, then "Examples:" with runnable command lines, then the usage
 * and the options); a bare `partner-token` prints the usage on stdout; `--debug` makes a failure
 * print its stack on stderr.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { commands } from "../../src/cli/command-table.ts";
import { runCli } from "./helpers.ts";

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

/** Every command line of the table: each command, and each subcommand of a group. */
async function commandLines(): Promise<string[][]> {
  const lines: string[][] = [];
  for (const [name, entry] of Object.entries(commands)) {
    const module = await entry.load();
    if (module.body === undefined)
      for (const sub of Object.keys(module.spec.subcommands)) lines.push([name, sub]);
    else lines.push([name]);
  }
  return lines;
}

test("partner-token --help and a bare partner-token: the usage on stdout, examples first", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.equal(help.stderr, "");
  assertExamplesFirst(help.stdout, "");
  for (const [name, entry] of Object.entries(commands))
    if (!entry.aliasOf)
      assert.ok(help.stdout.includes(`\n  ${name.padEnd(16)}${entry.summary}`), `${name} listed`);
  const bare = await runCli([]);
  assert.equal(bare.code, 2, "no command is a usage error");
  assert.equal(bare.stdout, help.stdout);
  assert.equal(bare.stderr, "");
});

test("every command's --help: on stdout, exit 0, examples first", async () => {
  const lines = await commandLines();
  assert.ok(lines.length >= Object.keys(commands).length);
  for (const words of lines) {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await runCli([...words, flag]);
      assert.equal(code, 0, `${words.join(" ")} ${flag}: ${stderr}`);
      assert.equal(stderr, "", `${words.join(" ")} ${flag}: nothing on stderr`);
      // A group's help is its own (partner-token customers …), shown by each subcommand too.
      assertExamplesFirst(stdout, words[0] === "new-access-token" ? "new" : words[0]!);
    }
  }
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pt-debug-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A failure of each command line, offline. */
function failing(words: string[]): string[] {
  const badProfile = ["--profile", "no such profile!", "--cache-dir", dir];
  switch (words.join(" ")) {
    case "new":
    case "new-access-token":
      return ["--access-token", "env:PT_NOT_A_JWT", "--application-id", "a", "--scopes", "s"];
    case "connect":
      return ["--access-token", "env:PT_NOT_A_JWT", ...badProfile];
    case "decode":
      return ["env:PT_NOT_A_JWT"];
    case "environments":
      return ["NoSuchCloud"];
    case "completion":
      return ["no-such-shell"];
    case "emulator":
      return ["--port", "0", "--data-dir", dir, "--seed", join(dir, "no-such-seed.json")];
    case "exec":
      return [...badProfile, "--", process.execPath, "-e", ""];
    case "customers tokens":
      return ["--scopes", "s", ...badProfile];
    default:
      return badProfile;
  }
}

test("every command's --debug: a failure prints its stack on stderr", async () => {
  for (const words of await commandLines()) {
    const args = [...words, ...failing(words)];
    const plain = await runCli(args, { env: { PT_NOT_A_JWT: "not-a-jwt" } });
    assert.notEqual(plain.code, 0, `${args.join(" ")} fails`);
    assert.doesNotMatch(plain.stderr, /\n\s+at /, `${args.join(" ")}: no stack without --debug`);
    const debug = await runCli([...words, "--debug", ...args.slice(words.length)], {
      env: { PT_NOT_A_JWT: "not-a-jwt" },
    });
    assert.equal(debug.code, plain.code, `${args.join(" ")} --debug: the same exit code`);
    assert.match(debug.stderr, /^partner-token: /, `${args.join(" ")} --debug: the message first`);
    assert.match(
      debug.stderr,
      /\n\s+at .+:\d+:\d+/,
      `${args.join(" ")} --debug: a stack\n${debug.stderr}`,
    );
  }
});
