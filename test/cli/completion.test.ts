/**
 * `partner-token completion`: the bash script is sourced into a real bash and driven the way
 * bash's programmable completion drives it (COMP_WORDS, COMP_CWORD, then COMPREPLY is read).
 * fish answers `complete -C` itself; zsh's script runs with stand-ins for its completion
 * builtins (both need Debian's zsh and fish). PowerShell's script is checked for what it holds.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { CommandModule } from "../../src/cli/command.ts";
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
/** The commands of the table (the ones the usage text lists, aliases aside). */
async function listedCommands(): Promise<string[]> {
  const { commands } = await import("../../src/cli/command-table.ts");
  return Object.keys(commands).filter((name) => !commands[name]!.aliasOf);
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
    const { stdout } = await exec("bash", [
      "-c",
      'source "$1"; complete -p partner-token',
      "bash",
      script,
    ]);
    assert.equal(stdout.trim(), "complete -o default -F _partner_token partner-token");
  });

  test("every flag each command exports completes, kebab and PowerShell spellings", async () => {
    for (const name of await listedCommands()) {
      const module = (await import(`../../src/cli/commands/${name}.ts`)) as CommandModule;
      assert.ok(module.spec.flags, `src/cli/commands/${name}.ts exports its spec`);
      const contexts =
        module.body === undefined
          ? Object.entries(module.spec.subcommands).map(
              ([sub, command]) => [[name, sub], command.spec.flags] as const,
            )
          : [[[name], module.spec.flags] as const];
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

/** The shell's path, or undefined when it is not installed. */
function which(shell: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":"))
    if (dir && existsSync(join(dir, shell))) return join(dir, shell);
  return undefined;
}
const missing = (shell: string): string | false =>
  which(shell) ? false : `${shell} is not installed (scripts/install-system-deps.sh installs it)`;

/**
 * zsh offers through compadd, _describe, _files and _message, which exist only inside its
 * completion system: these stand-ins print what would be offered, filtered by the prefix
 * typed, and the script's function runs with `words` and `CURRENT` set as zsh sets them.
 */
const ZSH_DRIVER = `
compadd() { while [[ $1 == -* ]]; do if [[ $1 == -- ]]; then shift; break; fi; shift; done
  local w; for w in "$@"; do [[ $w == \${PREFIX}* ]] && print -r -- "$w"; done; }
_describe() { local name=$4 e n; for e in "\${(@P)name}"; do n=\${e%%:*}; [[ $n == \${PREFIX}* ]] && print -r -- "$n"; done; }
_files() { print -r -- "<files>"; }
_message() { print -r -- "<message>"; }
compdef() { :; }
source "$1"; shift
words=("$@"); CURRENT=$#words; PREFIX=\${words[CURRENT]}
_partner_token
exit 0 # the status of the last test inside, not an error`;

describe("zsh and fish, in the real shells", () => {
  test(
    "zsh: commands, flags in both spellings, values, subcommands",
    { skip: missing("zsh") },
    async () => {
      const script = join(dir, "partner-token.zsh");
      await writeFile(script, (await runCli(["completion", "zsh"])).stdout);
      const driver = join(dir, "driver.zsh");
      await writeFile(driver, ZSH_DRIVER);
      const zsh = async (...words: string[]) =>
        (await exec("zsh", ["-f", driver, script, "partner-token", ...words])).stdout
          .split("\n")
          .filter((l) => l !== "");
      await exec("zsh", ["-n", script]);
      assert.deepEqual(await zsh("env"), ["environments"]);
      assert.deepEqual(await zsh("new", "-App"), ["-ApplicationId"]);
      assert.deepEqual(await zsh("new", "--env"), ["--environment", "--environment-name"]);
      assert.deepEqual(await zsh("new", "-environment", "AzureU"), ["AzureUSGovernment"]);
      assert.deepEqual(await zsh("new", "-o", "t"), ["table", "tsv"]);
      assert.deepEqual(await zsh("new", "--ca-file", "x"), ["<files>"]);
      assert.deepEqual(await zsh("customers", ""), ["list", "tokens"]);
      assert.deepEqual(await zsh("customers", "tokens", "--conc"), ["--concurrency"]);
    },
  );

  test(
    "fish: commands, flags in both spellings, values, subcommands",
    { skip: missing("fish") },
    async () => {
      const script = join(dir, "partner-token.fish");
      await writeFile(script, (await runCli(["completion", "fish"])).stdout);
      await exec("fish", ["-n", script]);
      const fish = async (line: string) =>
        (
          await exec("fish", [
            "--no-config",
            "-c",
            `source $argv[1]; complete -C $argv[2]`,
            script,
            line,
          ])
        ).stdout
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => l.split("\t")[0]!);
      assert.deepEqual(await fish("partner-token env"), ["environments"]);
      assert.deepEqual(await fish("partner-token new -App"), ["-ApplicationId"]);
      assert.deepEqual(await fish("partner-token new --environment AzureU"), ["AzureUSGovernment"]);
      assert.deepEqual(await fish("partner-token new -o t"), ["table", "tsv"]);
      assert.deepEqual(await fish("partner-token customers "), ["list", "tokens"]);
      assert.deepEqual(await fish("partner-token customers tokens --conc"), ["--concurrency"]);
    },
  );
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
