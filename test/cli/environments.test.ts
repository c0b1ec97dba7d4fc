/** `partner-token environments`: Get-PartnerEnvironment, with -o and --query. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "./helpers.ts";

describe("partner-token environments", () => {
  it("lists the five clouds and the emulator as JSON", async () => {
    const r = await runCli(["environments"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.map((e: { name: string }) => e.name),
      [
        "AzureCloud",
        "AzureChinaCloud",
        "AzureGermanCloud",
        "AzurePPE",
        "AzureUSGovernment",
        "Emulator",
      ],
    );
    const china = r.json[1];
    assert.equal(china.legacyName, "ChinaCloud");
    assert.equal(china.authorityHost, "https://login.chinacloudapi.cn");
    assert.equal(
      china.partnerCenterEndpoint,
      "https://partner.partnercenterapi.microsoftonline.cn",
    );
    assert.equal(china.graphEndpoint, "https://microsoftgraph.chinacloudapi.cn");
  });

  it("resolves one name in any case, legacy names too, with --query -o tsv", async () => {
    const r = await runCli([
      "environments",
      "usgovernment",
      "--query",
      "authorityHost",
      "-o",
      "tsv",
    ]);
    assert.equal(r.stdout, "https://login.microsoftonline.us\n");
    const legacy = await runCli(["environments", "GLOBALCLOUD", "--query", "name", "-o", "tsv"]);
    assert.equal(legacy.stdout, "AzureCloud\n");
  });

  it("prints a table", async () => {
    const r = await runCli([
      "environments",
      "-o",
      "table",
      "--query",
      "[].{Name: name, Login: authorityHost}",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^Name\s+Login$/);
    assert.match(lines[2]!, /^AzureCloud\s+https:\/\/login\.microsoftonline\.com$/);
    assert.equal(lines.length, 8);
  });

  it("fails with exit 2 on an unknown name or a bad option", async () => {
    const r = await runCli(["environments", "Mars"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown environment 'Mars'/);
    assert.equal((await runCli(["environments", "-o", "yaml"])).code, 2);
    const q = await runCli(["environments", "--query", "[?"]);
    assert.equal(q.code, 2);
    assert.match(q.stderr, /--query/);
  });
});
