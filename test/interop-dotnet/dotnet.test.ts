/**
 * Microsoft's .NET clients, unmodified, against the emulator and the sidecar: MSAL.NET
 * (Microsoft.Identity.Client), Azure.Identity, Azure.Security.KeyVault.Secrets and Microsoft.Graph
 * (GraphServiceClient), in the xunit project of this folder. This test builds it once (`dotnet
 * build`, which restores from NuGet), then runs it with ONE `dotnet test` inside a private
 * namespace (see in-namespace.ts) and reads its TRX result: each .NET test below must have run and
 * passed. Without `dotnet` (the .NET SDK 10) or `unshare`, the test fails saying what to install.
 *
 * Working on one flow: INTEROP_DOTNET_FILTER='FullyQualifiedName~DeviceCode' passes a `--filter`
 * to dotnet test (the tests of flows it left out then fail as "did not run").
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HERE = new URL(".", import.meta.url).pathname;
const PROJECT = join(HERE, "PartnerToken.Interop.csproj");
const UNSHARE = ["--net", "--mount", "--pid", "--fork", "--mount-proc"];

/** Every test of the .NET project, by class and method: each must be in the TRX and pass. */
const EXPECTED = [
  "MsalTests.ConfidentialClient_Secret_ThenFromCache",
  "MsalTests.ConfidentialClient_CertificateBySha1Thumbprint_InstanceDiscoveryOff",
  "MsalTests.ConfidentialClient_CertificateBySha256Thumbprint_WithSendX5C",
  "MsalTests.ConfidentialClient_Certificate_OidcAuthority",
  "MsalTests.AuthorizationCode_WithSecret_ThenSilent_ThenForcedRefresh",
  "MsalTests.ConfidentialClient_AcquireTokenByRefreshToken_ThenSilent",
  "MsalTests.PublicClient_DeviceCode_ThenSilent_ThenRefreshTokenFromCache",
  "MsalTests.PublicClient_InteractiveWithCustomWebUi_OnLoopback8400To8999",
  "ErrorTests.WrongSecret_ErrorBodyParsed",
  "ErrorTests.Throttled429_RetryAfterHonoured_ThenServed",
  "ErrorTests.ServiceUnavailable503_RetriedOnce",
  "AzureIdentityTests.ClientSecretCredential",
  "AzureIdentityTests.ClientCertificateCredential",
  "AzureIdentityTests.DeviceCodeCredential",
  'SidecarTests.Exec_Customer_AzureIdentity(kind: "managed")',
  'SidecarTests.Exec_Customer_AzureIdentity(kind: "default")',
  "SidecarTests.Exec_SecretClient_WritesAndReadsTheVault",
  "SidecarTests.Serve_IdentityVariablesByHand_ManagedIdentityCredential",
  "ImpersonateTests.Msal_AzurePublicCloud_ClientSecret",
  "ImpersonateTests.Msal_AzurePublicCloud_DeviceCode_ThenSilent",
  "ImpersonateTests.AzureIdentity_NothingSet_ClientSecretCredential",
  "ImpersonateTests.AzureIdentity_NothingSet_DeviceCodeCredential",
  "GraphSdkTests.Impersonated_NothingSet_GdapRelationshipsPaged_AccessAssignmentsNameTheGroup",
  "GraphSdkTests.Impersonated_CustomerTenant_ServicePrincipalsPaged_AppGrants",
  "GraphSdkTests.EmulatorUrl_AsBaseUrl_Me_AndErrorsAsODataError",
  "GraphSdkTests.PartnerTokenCli_CustomerTenant_CustomAuthenticationProvider",
];

interface Result {
  outcome: string;
  message: string;
}
let results: Map<string, Result>;
let counters: Record<string, number>;
let run: { code: number | null; output: string; requests: string[] };

/** Runs a command to its end, its output collected; fails the test with it when it fails. */
function runToEnd(command: string, args: string[], cwd: string, timeoutMs: number) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The results of a TRX file by "Class.Method", and its counters. */
function parseTrx(xml: string) {
  const byName = new Map<string, Result>();
  const decode = (s: string) =>
    s
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&");
  for (const m of xml.matchAll(/<UnitTestResult\b([^>]*?)(\/>|>([\s\S]*?)<\/UnitTestResult>)/g)) {
    const attrs = m[1]!;
    const name = decode(/testName="([^"]*)"/.exec(attrs)?.[1] ?? "");
    const outcome = /outcome="([^"]*)"/.exec(attrs)?.[1] ?? "";
    const body = m[3] ?? "";
    const message = decode(
      [/<Message>([\s\S]*?)<\/Message>/, /<StackTrace>([\s\S]*?)<\/StackTrace>/]
        .map((re) => re.exec(body)?.[1] ?? "")
        .join("\n"),
    );
    byName.set(name.replace(/^PartnerToken\.Interop\./, ""), { outcome, message });
  }
  const c = /<Counters\b([^>]*)\/>/.exec(xml)?.[1] ?? "";
  const counts: Record<string, number> = {};
  for (const m of c.matchAll(/(\w+)="(\d+)"/g)) counts[m[1]!] = Number(m[2]);
  return { byName, counts };
}

before(
  async () => {
    const version = spawnSync("dotnet", ["--version"], { encoding: "utf8" });
    if (version.status !== 0)
      throw new Error(
        "these tests need the .NET SDK 10 ('dotnet' on PATH), which was not found " +
          `(${version.error?.message ?? version.stderr.trim()}): install it (CI's machines have it) and run them again.`,
      );
    const probe = spawnSync("unshare", [...UNSHARE, "true"], { encoding: "utf8" });
    if (probe.status !== 0)
      throw new Error(
        `these tests need 'unshare ${UNSHARE.join(" ")}' (a private network and mount namespace for ` +
          `the --impersonate emulator's hosts file), which is not permitted here: ${probe.error?.message ?? probe.stderr.trim()}. ` +
          "Run them as root (CI does) or with CAP_SYS_ADMIN.",
      );
    // Restore (NuGet) and build once, outside the namespace, which has no network.
    const build = await runToEnd("dotnet", ["build", PROJECT, "-c", "Release"], HERE, 480_000);
    assert.equal(build.code, 0, `dotnet build failed:\n${build.output.slice(-5000)}`);

    const dir = await mkdtemp(join(tmpdir(), "interop-dotnet-"));
    const trx = join(dir, "results.trx");
    const inside = join(HERE, "in-namespace.ts");
    run = await new Promise((resolve, reject) => {
      const child = spawn("unshare", [...UNSHARE, process.execPath, inside], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("close", (code) => {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`the namespace run ended with ${code}: ${err.slice(-5000)}`));
        }
      });
      child.stdin.end(JSON.stringify({ dir, project: PROJECT, trx }));
    });
    let xml: string;
    try {
      xml = await readFile(trx, "utf8");
    } catch {
      throw new Error(`dotnet test wrote no TRX (exit ${run.code}):\n${run.output}`);
    }
    ({ byName: results, counts: counters } = parseTrx(xml));
  },
  { timeout: 900_000 },
);

describe("Microsoft's .NET clients against the emulator (dotnet test)", () => {
  test("dotnet test ran every test of the project and all passed", () => {
    const failed = [...results].filter(([, r]) => r.outcome !== "Passed");
    assert.ok((counters["total"] ?? 0) > 0, `no test ran:\n${run.output}`);
    assert.deepEqual(
      failed.map(([name, r]) => `${name}: ${r.outcome}\n${r.message}`),
      [],
      "failed .NET tests",
    );
    assert.equal(counters["passed"], counters["total"]);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual([...results.keys()].sort(), [...EXPECTED].sort());
  });

  test("under --impersonate, MSAL.NET ran instance discovery against login.microsoftonline.com itself", () => {
    assert.ok(
      run.requests.some((l) =>
        /^200 GET \/common\/discovery\/instance login\.microsoftonline\.com$/.test(l),
      ),
      run.requests.join("\n"),
    );
  });

  test("under --impersonate, Microsoft's Graph SDK read GDAP relationships at graph.microsoft.com itself", () => {
    assert.ok(
      run.requests.some((l) =>
        /^200 GET \/v1\.0\/tenantRelationships\/delegatedAdminRelationships\S* graph\.microsoft\.com$/.test(
          l,
        ),
      ),
      run.requests.join("\n"),
    );
  });

  for (const name of EXPECTED)
    test(name, () => {
      const r = results.get(name);
      assert.ok(r, `${name} did not run:\n${run.output.slice(-3000)}`);
      assert.equal(r.outcome, "Passed", r.message);
    });
});
