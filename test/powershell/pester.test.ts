/**
 * The PowerShell module's proof: one real PowerShell 7 runs Pester 5 over
 * test/powershell/*.Tests.ps1 against one emulator started here (generated customers, some
 * without delegated access or consent; sign-ins auto-approved; device codes polled every second),
 * with the module imported from this checkout and the CLI of the current sources (MAIN of
 * test/cli/helpers.ts: their bundle, or src/cli/main.ts with PARTNER_TOKEN_TEST_CLI=sources). Pester writes
 * NUnit XML; this file asserts from it that tests ran and every one passed, and prints the
 * failures. pwsh and Pester come from scripts/install-powershell.sh: without them this test fails
 * and says so.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { defaultSeed, startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { MAIN } from "../cli/helpers.ts";
import { findPwsh, INSTALL, PESTER_MODULES, runPwsh } from "./pwsh.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";

let emulator: RunningEmulator;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pt-pester-"));
  emulator = await startEmulator({
    port: 0,
    dataDir: join(work, "emulator"),
    log: () => {},
    autoApprove: true,
    seed: {
      ...defaultSeed,
      settings: { deviceCodeIntervalSeconds: 1 },
      generatedCustomers: { partner: PARTNER, count: 24, withoutAccess: 2, withoutConsent: 2 },
    },
  });
});

after(async () => {
  await emulator?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// One Pester run of every *.Tests.ps1: minutes on a busy machine, so its own bound (the pwsh child
// is killed after 900 s) rather than the suite's per-test 120 s.
test(
  "the PowerShell module's Pester tests pass in PowerShell 7",
  { timeout: 900_000 },
  async (t) => {
    const pwsh = findPwsh();
    assert.ok(
      pwsh,
      `pwsh (PowerShell 7) was not found in ~/.dotnet/tools or on PATH: run ${INSTALL} first.`,
    );
    const home = join(work, "home");
    const cmdlines = join(work, "cmdlines");
    for (const dir of [
      home,
      cmdlines,
      join(work, "cache"),
      join(work, "keys"),
      join(work, "certs"),
    ])
      await mkdir(dir, { recursive: true, mode: 0o700 });
    const ready = join(work, "ready.json");
    await writeFile(ready, JSON.stringify(emulator.info));
    const results = join(work, "pester-results.xml");
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
      // A home of its own: the certificate the tests add to the CurrentUser store, pwsh's caches
      // and the CLI's folders stay in the temporary folder.
      HOME: home,
      PSModulePath: PESTER_MODULES,
      DOTNET_CLI_TELEMETRY_OPTOUT: "1",
      POWERSHELL_TELEMETRY_OPTOUT: "1",
      POWERSHELL_UPDATECHECK: "Off",
      TERM: "dumb",
      NO_COLOR: "1",
      ...(process.env.DOTNET_ROOT ? { DOTNET_ROOT: process.env.DOTNET_ROOT } : {}),
      PARTNER_TOKEN_CLI: MAIN,
      PARTNER_TOKEN_NODE: process.execPath,
      AZURE_AUTHORITY_HOST: emulator.url,
      PARTNER_TOKEN_CA_FILE: emulator.caFile ?? "",
      NODE_EXTRA_CA_CERTS: emulator.caFile ?? "",
      BROWSER: `"${process.execPath}" "${join(HERE, "browser.mjs")}"`,
      PARTNER_TOKEN_CACHE_DIR: join(work, "cache"),
      PARTNER_TOKEN_KEYRING: "off",
      PARTNER_TOKEN_KEY_DIR: join(work, "keys"),
      PARTNER_TOKEN_CERTIFICATE_DIR: join(work, "certs"),
      PT_TEST_READY: ready,
      PT_TEST_CMDLINES: cmdlines,
      PT_TEST_WORK: work,
      PT_TEST_PWSH: pwsh,
    };
    const script = `
$ErrorActionPreference = 'Stop'
$pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -eq 5 } | Sort-Object Version -Descending | Select-Object -First 1
if (-not $pester) { [Console]::Error.WriteLine('Pester 5 is not installed: run ${INSTALL} first.'); exit 3 }
Import-Module $pester.Path
$config = New-PesterConfiguration
$config.Run.Path = '${process.env.PT_PESTER_PATH ?? join(HERE, "*.Tests.ps1")}'
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = '${results}'
Invoke-Pester -Configuration $config
`;
    const ran = await runPwsh(pwsh, ["-NoProfile", "-NonInteractive", "-Command", script], env);
    assert.notEqual(ran.code, 3, `Pester 5 is not installed: run ${INSTALL} first.\n${ran.stderr}`);
    assert.ok(
      existsSync(results),
      `Pester wrote no results (exit ${ran.code}):\n${ran.stdout}\n${ran.stderr}`,
    );
    const xml = await readFile(results, "utf8");
    const summary = /<test-results\b([^>]*)>/.exec(xml)?.[1] ?? "";
    const count = (name: string): number =>
      Number(new RegExp(`\\b${name}="(\\d+)"`).exec(summary)?.[1] ?? NaN);
    const failed = [
      ...xml.matchAll(
        /<test-case\b[^>]*name="([^"]*)"[^>]*result="Failure"[^>]*>([\s\S]*?)<\/test-case>/g,
      ),
    ].map(
      (m) => `${m[1]}\n${(/<message>([\s\S]*?)<\/message>/.exec(m[2] ?? "")?.[1] ?? "").trim()}`,
    );
    const total = count("total");
    const problems = count("failures") + count("errors") + count("not-run") + count("invalid");
    const report = `${failed.join("\n\n")}\n--- pwsh output ---\n${ran.stdout.slice(-20_000)}\n${ran.stderr.slice(-5000)}`;
    assert.ok(total > 0, `no Pester test ran:\n${report}`);
    assert.equal(problems, 0, `Pester: ${problems} of ${total} did not pass:\n${report}`);
    assert.equal(count("skipped") + count("ignored") + count("inconclusive"), 0, report);
    t.diagnostic(
      `${total} Pester tests passed; ${/Tests completed in [^\n]*/.exec(ran.stdout)?.[0] ?? ""}`,
    );
  },
);
