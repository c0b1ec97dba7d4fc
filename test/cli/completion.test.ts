/**
 * `partner-token completion`: the bash script is sourced into a real bash and driven the way
 * bash's programmable completion drives it (COMP_WORDS, COMP_CWORD, then COMPREPLY is read).
 * The other shells' scripts are checked for what they offer; their shells are not installed in
 * CI.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { FlagSpec } from "../../src/cli/args.ts";
import { runCli } from "./helpers.ts";

const exec = promisify(execFile);

let dir: string;
let script: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pt-completion-"));
  const result = await runCli(["completion", "bash"]);
  assert.equal(result.code, 0, result.stderr);
  script = join(dir, "partner-token.bash");
  await writeFile(script, result.stdout);
});
after(() => rm(dir, { recursive: true, force: true }));

/** What bash would offer for `words`, the last one being the word under the cursor. */
async function complete(...words: string[]): Promise<string[]> {
  const driver = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_partner_token
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec("bash", ["-c", driver, "bash", script, ...words]);
  return stdout.split("\n").filter((line) => line !== "");
}

/** The command names listed by `partner-token --help`. */
async function listedCommands(): Promise<string[]> {
  const { stderr } = await runCli(["--help"]);
  const start = stderr.indexOf("\nCommands:\n");
  const section = stderr.slice(start, stderr.indexOf("\n\n", start + 1));
  return [...section.matchAll(/^ {2}([a-z][a-z0-9-]*) {2,}/gm)].map((m) => m[1]!);
}

const ENVIRONMENTS = [
  "AzureCloud",
  "GlobalCloud",
  "AzureChinaCloud",
  "ChinaCloud",
  "AzureGermanCloud",
  "GermanCloud",
  "AzurePPE",
  "PPE",
  "AzureUSGovernment",
  "USGovernment",
  "Emulator",
];

describe("bash", () => {
  test("the first word completes to every command of --help", async () => {
    const offered = await complete("partner-token", "");
    const listed = await listedCommands();
    assert.ok(listed.length >= 5, `commands parsed from --help: ${listed}`);
    for (const name of [...listed, "new-access-token"]) assert.ok(offered.includes(name), name);
    assert.deepEqual(await complete("partner-token", "env"), ["environments"]);
    assert.deepEqual(await complete("partner-token", "--ver"), ["--version"]);
  });

  test("every flag each command exports completes, kebab and PowerShell spellings", async () => {
    for (const name of await listedCommands()) {
      const module = (await import(`../../src/cli/commands/${name}.ts`)) as {
        flags?: FlagSpec[];
        subcommands?: Record<string, FlagSpec[]>;
      };
      assert.ok(module.flags, `src/cli/commands/${name}.ts exports its flags`);
      const contexts = module.subcommands
        ? Object.entries(module.subcommands).map(([sub, specs]) => [[name, sub], specs] as const)
        : [[[name], module.flags] as const];
      for (const [words, specs] of contexts) {
        const kebab = await complete("partner-token", ...words, "--");
        const powershell = await complete("partner-token", ...words, "-");
        for (const flag of specs.filter((f) => !f.hidden)) {
          assert.ok(kebab.includes(`--${flag.name}`), `${words.join(" ")} --${flag.name}`);
          const pascal = flag.name.replace(/(^|-)(.)/g, (_, __, c: string) => c.toUpperCase());
          assert.ok(powershell.includes(`-${pascal}`), `${words.join(" ")} -${pascal}`);
        }
      }
    }
  });

  test("subcommands, then each one's own flags", async () => {
    assert.deepEqual(await complete("partner-token", "customers", ""), ["list", "tokens"]);
    assert.deepEqual(await complete("partner-token", "partner-center", ""), ["token"]);
    const tokens = await complete("partner-token", "customers", "tokens", "--");
    const list = await complete("partner-token", "customers", "list", "--");
    assert.ok(tokens.includes("--concurrency") && !list.includes("--concurrency"));
    assert.deepEqual(
      await complete("partner-token", "customers", "list", "--profile", "p", "-o", "ts"),
      ["tsv"],
    );
  });

  test("flags by prefix, in both spellings, aliases included", async () => {
    assert.deepEqual(await complete("partner-token", "new", "--app"), ["--application-id"]);
    assert.deepEqual(await complete("partner-token", "new", "-App"), ["-ApplicationId"]);
    assert.deepEqual((await complete("partner-token", "new", "-Dev")).sort(), [
      "-Device",
      "-DeviceAuth",
      "-DeviceCode",
    ]);
    assert.deepEqual(await complete("partner-token", "new-access-token", "--client-s"), [
      "--client-secret",
    ]);
  });

  test("enumerated values: environments, output formats, modules, shells", async () => {
    assert.deepEqual(await complete("partner-token", "new", "--environment", ""), ENVIRONMENTS);
    assert.deepEqual(await complete("partner-token", "new", "-EnvironmentName", "AzureU"), [
      "AzureUSGovernment",
    ]);
    // PowerShell names are case-insensitive, so is the flag before the cursor.
    assert.deepEqual(await complete("partner-token", "new", "-environment", "Azure"), [
      "AzureCloud",
      "AzureChinaCloud",
      "AzureGermanCloud",
      "AzurePPE",
      "AzureUSGovernment",
    ]);
    assert.deepEqual(await complete("partner-token", "new", "-o", "t"), ["table", "tsv"]);
    assert.deepEqual(await complete("partner-token", "environments", "--output", ""), [
      "json",
      "table",
      "tsv",
      "none",
    ]);
    assert.deepEqual(await complete("partner-token", "new", "--module", ""), ["ExchangeOnline"]);
    assert.deepEqual(await complete("partner-token", "environments", "PP"), ["PPE"]);
    assert.deepEqual(await complete("partner-token", "completion", ""), [
      "bash",
      "zsh",
      "fish",
      "powershell",
    ]);
  });

  test("--flag=value, and free values offer no flags", async () => {
    // bash splits `--environment=Az` at '=' into three words.
    assert.deepEqual(await complete("partner-token", "new", "--environment", "=", "AzureC"), [
      "AzureCloud",
      "AzureChinaCloud",
    ]);
    assert.deepEqual(await complete("partner-token", "new", "--application-id", ""), []);
    assert.deepEqual(await complete("partner-token", "new", "--tenant", "-"), []);
  });

  test("paths complete as files", async () => {
    await writeFile(join(dir, "ca-one.pem"), "");
    await writeFile(join(dir, "ca-two.pem"), "");
    const offered = await complete("partner-token", "new", "--ca-file", join(dir, "ca-"));
    assert.deepEqual(offered.sort(), [join(dir, "ca-one.pem"), join(dir, "ca-two.pem")]);
  });
});

describe("the other shells", () => {
  test("zsh, fish and PowerShell offer the same commands, spellings and values", async () => {
    for (const shell of ["zsh", "fish", "powershell"]) {
      const { code, stdout, stderr } = await runCli(["completion", shell]);
      assert.equal(code, 0, stderr);
      for (const text of ["connect", "--application-id", "ApplicationId", "AzureUSGovernment"])
        assert.ok(stdout.includes(text), `${shell}: ${text}`);
      assert.match(stdout, /json.*table.*tsv.*none/);
      assert.ok(stdout.includes("ExchangeOnline"), `${shell}: ExchangeOnline`);
    }
    assert.match((await runCli(["completion", "fish"])).stdout, / -o ApplicationId -x /);
    assert.match((await runCli(["completion", "zsh"])).stdout, /compdef _partner_token/);
    assert.match(
      (await runCli(["completion", "pwsh"])).stdout,
      /Register-ArgumentCompleter -Native -CommandName 'partner-token'/,
    );
  });

  test("an unknown shell is a usage error naming the choices", async () => {
    const result = await runCli(["completion", "tcsh"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no completion for 'tcsh': choose bash, zsh, fish, powershell/);
    assert.equal(result.stdout, "");
    assert.equal((await runCli(["completion"])).code, 2);
  });
});
