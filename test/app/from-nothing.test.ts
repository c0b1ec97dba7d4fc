/**
 * The partner's setup from nothing, as separate processes against an emulator whose seed holds
 * only a partner tenant, its admin, customers and a vault (no application of the partner's own):
 * `app create --secret-store keyvault:… --refresh-token-store keyvault:…` (with no session yet: it
 * signs the partner admin in first and keeps the session) → `customers consent` →
 * `token --credential keyvault:… --refresh-token-store keyvault:… --tenant <customer>` works. The
 * secret and the refresh token are read back with Microsoft's @azure/keyvault-secrets, signed in as
 * the admin; neither is on any output.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UsernamePasswordCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { defaultSeed, type SeedInput } from "../../src/emulator/index.ts";
import { trustEmulatorCa } from "../interop/helpers.ts";
import { emuFlags, GRAPH, runCli, startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { sessionEnv } from "../session/helpers.ts";

const AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ADMIN = "admin@contoso-partner.onmicrosoft.com";

/** The embedded seed without the partner's own applications; the vault is the admin's alone. */
function nothingSeed(): SeedInput {
  const own = new Set([
    "af692826-33ec-40b1-8655-1bee077c3a4d",
    "29e52b0f-1e48-45d8-a5bb-242983d6a47b",
    "8041dc5f-49f9-4351-a3dd-dbc24f56f68e",
  ]);
  const seed = structuredClone(defaultSeed) as SeedInput & Record<string, unknown>;
  seed.applications = (seed.applications ?? []).filter((a) => !own.has(a.clientId));
  seed.vaults = [
    {
      name: "contoso-partner-kv",
      tenant: "contoso-partner.onmicrosoft.com",
      access: [{ principal: ADMIN, permissions: ["get", "list", "set"] }],
    },
  ];
  seed.defaults = { user: ADMIN, mfaUser: "mfa.admin@contoso-partner.onmicrosoft.com" };
  return seed;
}

describe("from nothing: a partner tenant, its admin and customers → an unattended job", () => {
  let emu: Emulator;
  let vault: SecretClient;
  let env: Record<string, string>;
  const outputs: string[] = [];

  before(async () => {
    emu = await startTestEmulator({ seed: nothingSeed() });
    await trustEmulatorCa(emu.info.caFile!);
    const password = "Emulator-Passw0rd!";
    const options = { authorityHost: emu.info.url, disableInstanceDiscovery: true };
    vault = new SecretClient(
      emu.info.url,
      new UsernamePasswordCredential(
        emu.info.partnerTenant.id,
        AZURE_CLI,
        ADMIN,
        password,
        options,
      ),
      { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    );
    // No `connect`: app create signs the admin in itself.
    const session = await sessionEnv();
    // Key Vault reached as the admin (the Azure SDK's environment credential, Azure CLI's client).
    env = {
      ...session,
      AZURE_AUTHORITY_HOST: emu.info.url,
      AZURE_TENANT_ID: emu.info.partnerTenant.id,
      AZURE_CLIENT_ID: AZURE_CLI,
      AZURE_USERNAME: ADMIN,
      AZURE_PASSWORD: password,
      PARTNER_TOKEN_CA_FILE: emu.info.caFile!,
    };
  });
  after(() => emu?.close());

  it("app create → customers consent → token in a customer, every secret from the vault", async () => {
    const secretUri = `keyvault:${emu.info.url}/secrets/sam-secret`;
    const rtUri = `keyvault:${emu.info.url}/secrets/sam-rt`;
    const run = async (args: string[]) => {
      const r = await runCli(args, { env, timeoutMs: 120_000 });
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    const made = await run([
      "app",
      "create",
      "--name",
      "Contoso partner-token",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      rtUri,
      "--use-device-authentication",
      "-o",
      "json",
    ]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /No session in profile 'default': sign in as a partner admin/);
    assert.match(made.stderr, new RegExp(`Signed in as ${ADMIN}`));
    const admin = await run(["status", "-o", "json", "--offline"]);
    assert.equal(admin.code, 0, admin.stderr);
    assert.equal(admin.json.account, ADMIN, "the admin's session is kept for the next run");
    const appId = (made.json as { applicationId: string }).applicationId;
    assert.match(appId, /^[0-9a-f-]{36}$/);
    const secret = (await vault.getSecret("sam-secret")).value!;
    const rt = (await vault.getSecret("sam-rt")).value!;
    assert.equal(secret.length, 40);
    assert.ok(rt.length > 20);

    const customer = emu.info.customers[0]!.id;
    const source = [
      "--refresh-token-store",
      rtUri,
      "--application-id",
      appId,
      "--credential",
      secretUri,
      ...emuFlags(emu),
    ];
    const consent = await run(["customers", "consent", "--customer", customer, ...source]);
    assert.equal(consent.code, 0, consent.stderr + consent.stdout);
    const job = await run([
      "token",
      ...source,
      "--tenant",
      customer,
      "--scopes",
      GRAPH,
      "-o",
      "json",
    ]);
    assert.equal(job.code, 0, job.stderr);
    const claims = JSON.parse(
      Buffer.from(
        (job.json as { accessToken: string }).accessToken.split(".")[1]!,
        "base64url",
      ).toString(),
    );
    assert.equal(claims.tid, customer, "a token of the customer's tenant");
    assert.equal(claims.appid ?? claims.azp, appId, "issued to the new app");

    const rtNow = (await vault.getSecret("sam-rt")).value!;
    for (const text of outputs)
      for (const s of [secret, rt, rtNow]) assert.ok(!text.includes(s), "no secret on any output");
  });
});
