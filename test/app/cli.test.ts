/**
 * `partner-token app` as a separate process against the emulator: from a partner admin's session,
 * `app create` makes the app, keeps its secret and an App + User refresh token in the emulator's
 * Key Vault (read back with Microsoft's @azure/keyvault-secrets), and a job's `token` works from
 * them (`--credential keyvault:…`); run twice it changes nothing; `app rotate-secret` replaces the
 * secret (five workers renewing during a rotation: rotation-load.test.ts); a vault refusing the
 * write leaves the app as it was. No secret on any output.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { trustEmulatorCa } from "../interop/helpers.ts";
import {
  emuFlags,
  GRAPH,
  PARTNER_CENTER,
  runCli,
  startTestEmulator,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { control } from "../stores/helpers.ts";
import { adminVaultEnv } from "./helpers.ts";

describe("partner-token app", () => {
  let emu: Emulator;
  let vault: SecretClient;
  let env: Record<string, string>;
  let secretUri: string;
  let rtUri: string;
  let appId: string;
  const outputs: string[] = [];
  const app = async (...args: string[]): Promise<CliResult> => {
    const r = await runCli(["app", ...args, "-o", "json"], { env, timeoutMs: 120_000 });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const secretNow = async (name: string) => (await vault.getSecret(name)).value!;
  /** `new --service-principal` with the secret: exit code and stderr. */
  const withSecret = async (secret: string) => {
    const r = await runCli(
      [
        "new",
        "--service-principal",
        "--application-id",
        appId,
        "--credential",
        "env:S",
        "--tenant",
        emu.info.partnerTenant.id,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { env: { S: secret } },
    );
    return r;
  };

  before(async () => {
    emu = await startTestEmulator();
    await trustEmulatorCa(emu.info.caFile!);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    vault = new SecretClient(
      emu.info.url,
      new ClientSecretCredential(emu.info.partnerTenant.id, clientId, clientSecret, {
        authorityHost: emu.info.url,
        disableInstanceDiscovery: true,
      }),
      { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    );
    // The admin's session (the default app); the vault reached as the seed's automation app.
    env = await adminVaultEnv(emu);
    secretUri = `keyvault:${emu.info.url}/secrets/sam-secret`;
    rtUri = `keyvault:${emu.info.url}/secrets/sam-rt`;
  });
  after(() => emu?.close());

  it("app create: the app, its secret and a refresh token in Key Vault; a job's token works from them", async () => {
    const r = await app(
      "create",
      "--name",
      "Contoso partner-token",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      rtUri,
      "--use-device-authentication",
    );
    assert.equal(r.code, 0, r.stderr);
    appId = r.json.applicationId;
    assert.match(appId, /^[0-9a-f-]{36}$/);
    assert.match(r.json.objectId, /^[0-9a-f-]{36}$/);
    assert.match(r.json.servicePrincipalId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(r.json.redirectUris, ["http://localhost"]);
    assert.ok(
      r.json.permissions.includes("fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd/user_impersonation"),
    );
    assert.equal(r.json.secretStore, secretUri);
    assert.equal(r.json.refreshTokenStore, rtUri);
    assert.equal(r.json.changed, true);
    const secret = await secretNow("sam-secret");
    const rt = await secretNow("sam-rt");
    assert.equal(secret.length, 40);
    assert.ok(rt.length > 20);
    // A job: the refresh token and the secret from the vault, no session.
    const job = await runCli(
      [
        "token",
        "--refresh-token-store",
        rtUri,
        "--application-id",
        appId,
        "--credential",
        secretUri,
        "--scopes",
        PARTNER_CENTER,
        ...emuFlags(emu),
      ],
      { env },
    );
    outputs.push(job.stdout, job.stderr);
    assert.equal(job.code, 0, job.stderr);
    assert.ok(job.json.accessToken);
    assert.notEqual(await secretNow("sam-rt"), rt, "the job wrote the rotated refresh token back");
  });

  it("customers consent with the new app, then a token in the customer tenant from the vault", async () => {
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
    const before = await runCli(["token", ...source, "--tenant", customer, "--scopes", GRAPH], {
      env,
      timeoutMs: 120_000,
    });
    outputs.push(before.stdout, before.stderr);
    assert.notEqual(before.code, 0, "no consent in the customer yet");
    assert.match(before.stderr, /AADSTS65001/);
    const consent = await runCli(["customers", "consent", "--customer", customer, ...source], {
      env,
      timeoutMs: 120_000,
    });
    outputs.push(consent.stdout, consent.stderr);
    assert.equal(consent.code, 0, consent.stderr + consent.stdout);
    const job = await runCli(["token", ...source, "--tenant", customer, "--scopes", GRAPH], {
      env,
      timeoutMs: 120_000,
    });
    outputs.push(job.stdout, job.stderr);
    assert.equal(job.code, 0, job.stderr);
    assert.ok(job.json.accessToken);
  });

  it("app create run twice: the second run changes nothing", async () => {
    const before = await secretNow("sam-secret");
    const r = await app(
      "create",
      "--name",
      "Contoso partner-token",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      rtUri,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.applicationId, appId);
    assert.equal(r.json.changed, false, JSON.stringify(r.json.changes));
    assert.match(r.stderr, /Nothing to change/);
    assert.equal(await secretNow("sam-secret"), before);
  });

  it("app rotate-secret: the vault holds a new secret that works; the old one is refused", async () => {
    const old = await secretNow("sam-secret");
    const r = await app(
      "rotate-secret",
      "--application-id",
      appId,
      "--secret-store",
      secretUri,
      "--grace-seconds",
      "0",
      "--debug",
    );
    assert.match(r.stderr, /addPassword/, "the exchange is shown with --debug");
    assert.equal(r.code, 0, r.stderr);
    const fresh = await secretNow("sam-secret");
    assert.notEqual(fresh, old);
    assert.ok(!r.stderr.includes(fresh) && !r.stdout.includes(fresh), "--debug never shows it");
    assert.equal(r.json.hint, fresh.slice(0, 3));
    assert.equal(r.json.removed.length, 1);
    assert.equal((await withSecret(fresh)).code, 0);
    const refused = await withSecret(old);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AADSTS7000215/);
  });

  it("the vault refuses the write: the new secret is removed, the old one still works, exit 1 with the vault's reason", async () => {
    const old = await secretNow("sam-secret");
    await control(emu, "faults", {
      path: "/secrets/sam-secret",
      method: "PUT",
      status: 403,
      count: 5,
    });
    const r = await app("rotate-secret", "--application-id", appId, "--secret-store", secretUri);
    await control(emu, "faults", undefined, "DELETE");
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Key Vault refused writing keyvault:.*HTTP 403/);
    assert.match(r.stderr, /new secret was removed/);
    assert.equal(await secretNow("sam-secret"), old);
    assert.equal((await withSecret(old)).code, 0);
    // The app has one secret: the old one.
    const list = await app(
      "rotate-secret",
      "--application-id",
      "not-a-guid",
      "--secret-store",
      secretUri,
    );
    assert.equal(list.code, 2);
  });

  it("app credentials: the secrets with their expiry, the one in use marked; exit 3 within --warn-days", async () => {
    const secret = await secretNow("sam-secret");
    const r = await app("credentials", "--application-id", appId, "--secret-store", secretUri);
    assert.equal(r.code, 0, r.stderr);
    const used = r.json.credentials.filter((c: { inUse: boolean }) => c.inUse);
    assert.equal(used.length, 1);
    assert.equal(used[0].hint, secret.slice(0, 3));
    assert.ok(used[0].daysLeft >= 178 && used[0].daysLeft <= 180, String(used[0].daysLeft));
    assert.equal(r.json.expiring, false);
    const soon = await app(
      "credentials",
      "--application-id",
      appId,
      "--secret-store",
      secretUri,
      "--warn-days",
      "200",
    );
    assert.equal(soon.code, 3, soon.stderr);
    assert.match(soon.stderr, /expires in 1\d\d days: run 'partner-token app rotate-secret'/);
  });

  it("no secret or refresh token on any output", async () => {
    const secret = await secretNow("sam-secret");
    assert.ok(
      outputs.some((o) => o.includes("secretText")),
      "a --debug exchange was seen",
    );
    const rt = await secretNow("sam-rt");
    for (const text of outputs) {
      assert.ok(!text.includes(secret));
      assert.ok(!text.includes(rt));
    }
  });
});
