/**
 * ServicePrincipal set: client credentials with a secret (the cmdlet's -Credential), in every
 * spelling and from the Azure SDK variables.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  runCli,
  secretFile,
  servicePrincipalArgs,
  startTestEmulator,
  verifyEmulatorToken,
  type Emulator,
} from "./helpers.ts";

describe("new --service-principal (client secret)", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  async function expectAppToken(stdoutJson: any): Promise<void> {
    const { confidential } = emu.info.apps;
    await verifyEmulatorToken(emu, stdoutJson.accessToken, {
      audience: "https://graph.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      appId: confidential.clientId,
    });
    assert.equal(stdoutJson.refreshToken, null, "no refresh token for client credentials");
    assert.equal(stdoutJson.account, null);
    assert.equal(stdoutJson.tokenType, "Bearer");
    assert.ok(Date.parse(stdoutJson.expiresOn) > Date.now());
  }

  it("kebab-case flags, secret from env:NAME", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli(servicePrincipalArgs(emu, ["--credential", "env:MY_SECRET"]), {
      env: { MY_SECRET: confidential.clientSecret },
    });
    assert.equal(r.code, 0, r.stderr);
    await expectAppToken(r.json);
  });

  it("PowerShell spelling, copied from a script: -ApplicationId … -ServicePrincipal:$true -TenantId", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli([
      "new",
      "-ApplicationId",
      confidential.clientId,
      "-Credential",
      await secretFile(confidential.clientSecret),
      "-Scopes",
      GRAPH,
      "-ServicePrincipal:$true",
      "-TenantId",
      emu.info.partnerTenant.domain,
      "-AuthorityHost",
      emu.info.url,
      "-CaFile",
      emu.info.caFile!,
    ]);
    assert.equal(r.code, 0, r.stderr);
    await expectAppToken(r.json);
  });

  it("the Azure SDK variables alone: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli(["new", "--service-principal", "--scopes", GRAPH], {
      env: {
        AZURE_CLIENT_ID: confidential.clientId,
        AZURE_TENANT_ID: emu.info.partnerTenant.id,
        AZURE_CLIENT_SECRET: confidential.clientSecret,
        AZURE_AUTHORITY_HOST: emu.info.url,
        PARTNER_TOKEN_CA_FILE: emu.info.caFile!,
      },
    });
    assert.equal(r.code, 0, r.stderr);
    await expectAppToken(r.json);
  });

  it("--client-secret - reads stdin; NODE_EXTRA_CA_CERTS is trusted too", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli(
      [
        "new",
        "--service-principal",
        "--client-id",
        confidential.clientId,
        "--client-secret",
        "-",
        "--domain",
        emu.info.partnerTenant.domain,
        "--scopes",
        GRAPH,
        "--authority-host",
        emu.info.url,
      ],
      { input: confidential.clientSecret + "\n", env: { NODE_EXTRA_CA_CERTS: emu.info.caFile! } },
    );
    assert.equal(r.code, 0, r.stderr);
    await expectAppToken(r.json);
  });

  it("--resource (module 1.5.x) asks for <resource>/.default", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli(
      [
        "new",
        "--service-principal",
        "--application-id",
        confidential.clientId,
        "--tenant",
        emu.info.partnerTenant.id,
        "--resource",
        "https://graph.microsoft.com",
        ...emuFlags(emu),
      ],
      { env: { AZURE_CLIENT_SECRET: confidential.clientSecret } },
    );
    assert.equal(r.code, 0, r.stderr);
    await expectAppToken(r.json);
  });

  it("a wrong secret: AADSTS7000215 with the next step, exit 1, the secret never shown", async () => {
    const { confidential } = emu.info.apps;
    const wrong = "wrong-secret-" + "x".repeat(20);
    const r = await runCli(servicePrincipalArgs(emu, ["--credential", "env:S"], "--debug"), {
      env: { S: wrong },
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /AADSTS7000215/);
    assert.match(r.stderr, /trace id: /i);
    assert.ok(!r.stderr.includes(wrong));
  });
});
