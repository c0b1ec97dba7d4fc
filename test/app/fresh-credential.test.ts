/**
 * A session made with its secret or certificate in Key Vault picks up a rotation on its next
 * renewal, with no reconnect: real processes against the emulator and its vault. `app create`
 * keeps the app's secret and an App + User refresh token in the vault; an App + User profile and a
 * service-principal profile are connected with `--credential keyvault:…`, a second
 * service-principal profile with `--certificate-path keyvault:…`; then `app rotate-secret` /
 * `app rotate-certificate` remove the old one, the emulator's clock (and the client's, under
 * faketime) passes the access tokens' life, and `token --profile …` renews with what the vault
 * holds now. The profile files keep the vault's URI, never the secret or the certificate.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { ProfileFile } from "../../src/session/profile-file.ts";
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
import {
  connectDevice,
  refreshGrants,
  runCliAt,
  sessionEnv,
  type SessionEnv,
} from "../session/helpers.ts";

describe("a rotated secret or certificate in the vault is used by sessions on their next renewal", () => {
  let emu: Emulator;
  let session: SessionEnv;
  let env: Record<string, string>;
  let secretUri: string;
  let certUri: string;
  let appId: string;
  /** Hours the emulator's clock (and the client's, under faketime) has been moved on. */
  let hours = 0;
  const outputs: string[] = [];
  const cli = async (...args: string[]): Promise<CliResult> => {
    const r =
      hours === 0
        ? await runCli(args, { env, timeoutMs: 120_000 })
        : await runCliAt(`+${hours}h`, args, env);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  /** Read with Microsoft's SDK; a client of its own each time, as the emulator's clock moves. */
  const secretNow = async (name: string) => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const vault = new SecretClient(
      emu.info.url,
      new ClientSecretCredential(emu.info.partnerTenant.id, clientId, clientSecret, {
        authorityHost: emu.info.url,
        disableInstanceDiscovery: true,
      }),
      { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    );
    return (await vault.getSecret(name)).value!;
  };
  /** Two hours pass, for the emulator and for the client: every cached access token has expired. */
  const twoHoursPass = () => {
    emu.advanceClock(2 * 3600);
    hours += 2;
  };
  const profileRecord = async (profile: string) => {
    process.env.PARTNER_TOKEN_KEY_DIR = session.PARTNER_TOKEN_KEY_DIR;
    process.env.PARTNER_TOKEN_KEYRING = "off";
    return new ProfileFile(session.PARTNER_TOKEN_CACHE_DIR, profile).read();
  };
  const tenant = () => emu.info.partnerTenant.id;

  before(async () => {
    emu = await startTestEmulator();
    await trustEmulatorCa(emu.info.caFile!);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    // The admin's session (the default app); the vault reached as the seed's automation app.
    session = await sessionEnv();
    await connectDevice(emu, session);
    env = {
      ...session,
      AZURE_AUTHORITY_HOST: emu.info.url,
      AZURE_TENANT_ID: emu.info.partnerTenant.id,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
      PARTNER_TOKEN_CA_FILE: emu.info.caFile!,
    };
    secretUri = `keyvault:${emu.info.url}/secrets/fresh-secret`;
    certUri = `keyvault:${emu.info.url}/secrets/fresh-cert`;
    const made = await cli(
      "app",
      "create",
      "--name",
      "Contoso fresh credentials",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      `keyvault:${emu.info.url}/secrets/fresh-rt`,
      "--use-device-authentication",
      "-o",
      "json",
    );
    assert.equal(made.code, 0, made.stderr);
    appId = made.json.applicationId;
  });
  after(() => emu?.close());

  it("--credential keyvault:…: App + User and service-principal profiles renew after app rotate-secret, with no reconnect", async () => {
    const rtUri = `keyvault:${emu.info.url}/secrets/fresh-rt`;
    const user = await cli(
      "connect",
      "--refresh-token",
      rtUri,
      "--application-id",
      appId,
      "--credential",
      secretUri,
      "--tenant",
      tenant(),
      "--profile",
      "app-user",
      ...emuFlags(emu),
    );
    assert.equal(user.code, 0, user.stderr);
    const sp = await cli(
      "connect",
      "--service-principal",
      "--application-id",
      appId,
      "--credential",
      secretUri,
      "--tenant",
      tenant(),
      "--scopes",
      GRAPH,
      "--profile",
      "app-only",
      ...emuFlags(emu),
    );
    assert.equal(sp.code, 0, sp.stderr);
    const old = await secretNow("fresh-secret");
    for (const profile of ["app-user", "app-only"]) {
      const kept = await profileRecord(profile);
      assert.equal(kept?.clientSecretStore, secretUri, profile);
      assert.equal(kept?.clientSecret, undefined, profile);
      assert.ok(!JSON.stringify(kept).includes(old), `${profile}: no secret in the profile`);
    }

    const rotated = await cli(
      "app",
      "rotate-secret",
      "--application-id",
      appId,
      "--secret-store",
      secretUri,
      "--grace-seconds",
      "0",
      "-o",
      "json",
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.json.removed.length, 1, "the old secret is gone from the app");
    const fresh = await secretNow("fresh-secret");
    assert.notEqual(fresh, old);

    twoHoursPass();
    const grants = refreshGrants(emu);
    const userToken = await cli("token", "--profile", "app-user", "--scopes", PARTNER_CENTER);
    assert.equal(userToken.code, 0, userToken.stderr);
    assert.equal(refreshGrants(emu), grants + 1, "a renewal, not a cached token");
    const spToken = await cli("token", "--profile", "app-only", "--scopes", GRAPH);
    assert.equal(spToken.code, 0, spToken.stderr);
    assert.ok(spToken.json.accessToken);

    // The old secret really is refused: the renewals above signed in with the new one.
    const withOld = await runCliAt(
      `+${hours}h`,
      [
        "new",
        "--service-principal",
        "--application-id",
        appId,
        "--credential",
        "env:S",
        "--tenant",
        tenant(),
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { S: old },
    );
    assert.equal(withOld.code, 1);
    assert.match(withOld.stderr, /AADSTS7000215/);
    const status = await cli("status", "--profile", "app-user", "-o", "json");
    assert.equal(status.json.state, "ok", status.stderr);
    for (const text of outputs) {
      assert.ok(!text.includes(old), "no old secret on any output");
      assert.ok(!text.includes(fresh), "no new secret on any output");
    }
  });

  it("--certificate-path keyvault:…: a service-principal profile renews after app rotate-certificate, with no reconnect", async () => {
    const first = await cli(
      "app",
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      certUri,
      "-o",
      "json",
    );
    assert.equal(first.code, 0, first.stderr);
    const connected = await cli(
      "connect",
      "--service-principal",
      "--application-id",
      appId,
      "--certificate-path",
      certUri,
      "--tenant",
      tenant(),
      "--scopes",
      GRAPH,
      "--profile",
      "app-cert",
      ...emuFlags(emu),
    );
    assert.equal(connected.code, 0, connected.stderr);
    const pfx = await secretNow("fresh-cert");
    const kept = await profileRecord("app-cert");
    assert.deepEqual(kept?.certificate, { path: certUri });
    assert.ok(!JSON.stringify(kept).includes(pfx.slice(0, 200)), "no certificate in the profile");

    const second = await cli(
      "app",
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      certUri,
      "-o",
      "json",
    );
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.json.removed, [first.json.keyId], "the old certificate is gone");
    assert.notEqual(await secretNow("fresh-cert"), pfx);

    twoHoursPass();
    const token = await cli("token", "--profile", "app-cert", "--scopes", GRAPH);
    assert.equal(token.code, 0, token.stderr);
    assert.ok(token.json.accessToken);
  });
});
