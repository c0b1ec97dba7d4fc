/**
 * `keyvault:`: the emulator's Key Vault, read back with Microsoft's own `@azure/keyvault-secrets`
 * (and `@azure/identity`), unmodified; partner-token writes through the same SDK with
 * `DefaultAzureCredential` pointed at the emulator by `AZURE_AUTHORITY_HOST`.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { ClientCertificateCredential, ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { trustEmulatorCa } from "../interop/helpers.ts";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  writePfx,
  type Emulator,
} from "../cli/helpers.ts";
import { cliEnv, control, proveStore, seedStore } from "./helpers.ts";

describe("keyvault: the emulator's vault and the store", () => {
  let emu: Emulator;
  let client: SecretClient;
  let env: Record<string, string>;
  before(async () => {
    emu = await startTestEmulator();
    await trustEmulatorCa(emu.info.caFile!);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const options = { authorityHost: emu.info.url, disableInstanceDiscovery: true };
    client = new SecretClient(
      emu.info.url,
      new ClientSecretCredential(emu.info.partnerTenant.id, clientId, clientSecret, options),
      { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    );
    env = {
      AZURE_AUTHORITY_HOST: emu.info.url,
      AZURE_TENANT_ID: emu.info.partnerTenant.id,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
    };
  });
  after(() => emu?.close());

  const versions = async (name: string): Promise<number> => {
    let n = 0;
    for await (const _ of client.listPropertiesOfSecretVersions(name)) n++;
    return n;
  };
  const latest = async (name: string): Promise<string | null> => {
    try {
      return (await client.getSecret(name)).value ?? null;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return null;
      throw error;
    }
  };

  it("answers an anonymous request with Key Vault's challenge", async () => {
    const ca = await readFile(emu.info.caFile!, "utf8");
    const res = await new Promise<{ status: number; header: string; body: any }>(
      (resolve, reject) =>
        request(`${emu.info.url}/secrets/x?api-version=2026-04-01`, { ca }, (r) => {
          let text = "";
          r.on("data", (d) => (text += d));
          r.on("end", () =>
            resolve({
              status: r.statusCode!,
              header: String(r.headers["www-authenticate"]),
              body: JSON.parse(text),
            }),
          );
        })
          .on("error", reject)
          .end(),
    );
    assert.equal(res.status, 401);
    assert.equal(
      res.header,
      `Bearer authorization="${emu.info.url}/${emu.info.partnerTenant.id}", resource="https://vault.azure.net"`,
    );
    assert.equal(res.body.error.code, "Unauthorized");
  });

  it("sets a new version each time, lists them, deletes and purges", async () => {
    const a = await client.setSecret("sdk-check", "first-value-0000000000");
    const b = await client.setSecret("sdk-check", "second-value-000000000");
    assert.notEqual(a.properties.version, b.properties.version);
    assert.equal(await latest("sdk-check"), "second-value-000000000");
    assert.equal(
      (await client.getSecret("sdk-check", { version: a.properties.version! })).value,
      "first-value-0000000000",
    );
    assert.equal(await versions("sdk-check"), 2);
    for (let i = 0; i < 30; i++) await client.setSecret("paged", `value-${i}-00000000000000`);
    assert.equal(await versions("paged"), 30, "versions are paged with nextLink");
    const deleted = await (await client.beginDeleteSecret("sdk-check")).pollUntilDone();
    assert.equal(deleted.recoveryId, `${emu.info.url}/deletedsecrets/sdk-check`);
    assert.equal(await latest("sdk-check"), null);
    await client.purgeDeletedSecret("sdk-check");
  });

  it("403 in Key Vault's shape for an app without access; 401 for a token of another audience", async () => {
    const app = emu.info.apps.certificate;
    const pem =
      (await readFile(app.certificateFile, "utf8")) + "\n" + (await readFile(app.keyFile, "utf8"));
    const outsider = new SecretClient(
      emu.info.url,
      new ClientCertificateCredential(
        emu.info.partnerTenant.id,
        app.clientId,
        { certificate: pem },
        { authorityHost: emu.info.url, disableInstanceDiscovery: true },
      ),
      { disableChallengeResourceVerification: true },
    );
    await assert.rejects(outsider.getSecret("anything"), (e: any) => {
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, "Forbidden");
      assert.match(
        e.message,
        /does not have secrets get permission on key vault 'contoso-partner-kv/,
      );
      return true;
    });
    const graph = await new ClientSecretCredential(
      emu.info.partnerTenant.id,
      emu.info.apps.confidential.clientId,
      emu.info.apps.confidential.clientSecret,
      { authorityHost: emu.info.url, disableInstanceDiscovery: true },
    ).getToken(`${GRAPH}`);
    const ca = await readFile(emu.info.caFile!, "utf8");
    const body = await new Promise<any>((resolve, reject) =>
      request(
        `${emu.info.url}/secrets/x?api-version=2026-04-01`,
        { ca, headers: { authorization: `Bearer ${graph!.token}` } },
        (r) => {
          let text = "";
          r.on("data", (d) => (text += d));
          r.on("end", () => resolve({ status: r.statusCode, ...JSON.parse(text) }));
        },
      )
        .on("error", reject)
        .end(),
    );
    assert.equal(body.status, 401);
    assert.match(body.error.message, /AKV10022: Invalid audience/);
  });

  it("a delegated token: the default user may read, a user without access gets 403", async () => {
    const ca = await readFile(emu.info.caFile!, "utf8");
    const post = (path: string, form: Record<string, string>) =>
      new Promise<any>((resolve, reject) =>
        request(
          `${emu.info.url}${path}`,
          {
            method: "POST",
            ca,
            headers: { "content-type": "application/x-www-form-urlencoded" },
          },
          (r) => {
            let text = "";
            r.on("data", (d) => (text += d));
            r.on("end", () => resolve(JSON.parse(text)));
          },
        )
          .on("error", reject)
          .end(new URLSearchParams(form).toString()),
      );
    const get = (token: string) =>
      new Promise<any>((resolve, reject) =>
        request(
          `${emu.info.url}/secrets/missing-one?api-version=2026-04-01`,
          { ca, headers: { authorization: `Bearer ${token}` } },
          (r) => {
            let text = "";
            r.on("data", (d) => (text += d));
            r.on("end", () => resolve({ status: r.statusCode, ...JSON.parse(text) }));
          },
        )
          .on("error", reject)
          .end(),
      );
    const userToken = async (username: string, password: string) =>
      (
        await post(`/${emu.info.partnerTenant.id}/oauth2/v2.0/token`, {
          client_id: emu.info.apps.public.clientId,
          grant_type: "password",
          username,
          password,
          scope: "https://vault.azure.net/user_impersonation",
        })
      ).access_token as string;
    const admin = await get(await userToken(emu.info.user.username, emu.info.user.password));
    assert.equal(admin.status, 404, "authorized: the secret is simply not there");
    assert.equal(admin.error.code, "SecretNotFound");
    const sales = await get(
      await userToken("sales@contoso-partner.onmicrosoft.com", "Emulator-Sales-Passw0rd!"),
    );
    assert.equal(sales.status, 403);
    assert.equal(sales.error.code, "Forbidden");
    assert.equal(sales.error.innererror.code, "AccessDenied");
  });

  it("sign-in writes, token rotates (a new version), a revoked token exits 4 and leaves it", async () => {
    const uri = `keyvault:${emu.info.url}/secrets/partner-rt`;
    await proveStore(emu, uri, () => latest("partner-rt"), { env });
    assert.equal(await versions("partner-rt"), 2, "one version per write");
  });

  it("--credential keyvault:… with --ca-file alone (no PARTNER_TOKEN_CA_FILE) reaches the vault over the emulator's CA", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    await client.setSecret("app-secret-ca", clientSecret);
    const r = await runCli(
      [
        "new",
        "--service-principal",
        "--application-id",
        clientId,
        "--credential",
        `keyvault:${emu.info.url}/secrets/app-secret-ca`,
        "--tenant",
        emu.info.partnerTenant.id,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
        "-o",
        "json",
      ],
      { env },
    );
    assert.ok(!("PARTNER_TOKEN_CA_FILE" in env));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json && typeof (r.json as { accessToken?: unknown }).accessToken === "string");
    assert.ok(!r.stdout.includes(clientSecret) && !r.stderr.includes(clientSecret));
  });

  it("--certificate-path keyvault:…: a PFX's base64 (as Key Vault keeps certificates) signs in; PEM text too; a wrong password is a clear error without the content", async () => {
    const { certificate } = emu.info.apps;
    const pfx = await readFile(await writePfx(emu, "pfx-pass"));
    await client.setSecret("app-cert-pfx", pfx.toString("base64"));
    const pem =
      (await readFile(certificate.certificateFile, "utf8")) +
      (await readFile(certificate.keyFile, "utf8"));
    await client.setSecret("app-cert-pem", pem);
    const run = (name: string, extra: string[] = [], more: Record<string, string> = {}) =>
      runCli(
        [
          "new",
          "--service-principal",
          "--application-id",
          certificate.clientId,
          "--certificate-path",
          `keyvault:${emu.info.url}/secrets/${name}`,
          ...extra,
          "--tenant",
          emu.info.partnerTenant.id,
          "--scopes",
          GRAPH,
          ...emuFlags(emu),
          "-o",
          "json",
        ],
        { env: { ...env, ...more } },
      );
    const withPfx = await run("app-cert-pfx", ["--certificate-password", "env:P"], {
      P: "pfx-pass",
    });
    assert.equal(withPfx.code, 0, withPfx.stderr);
    assert.equal(typeof (withPfx.json as { accessToken?: unknown }).accessToken, "string");
    const withPem = await run("app-cert-pem");
    assert.equal(withPem.code, 0, withPem.stderr);
    const wrong = await run("app-cert-pfx", ["--certificate-password", "env:P"], { P: "nope" });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /Cannot open the PFX in keyvault:.*app-cert-pfx: the password is wrong/,
    );
    assert.ok(!wrong.stderr.includes(pfx.toString("base64").slice(0, 40)));
  });

  describe("Key Vault failing", () => {
    const name = "faulty-rt";
    const tokenArgs = () => [
      "token",
      "--refresh-token-store",
      `keyvault:${emu.info.url}/secrets/${name}`,
      "--application-id",
      emu.info.apps.confidential.clientId,
      "--credential",
      "env:APP_SECRET",
      "--tenant",
      emu.info.customers[0]!.domain,
      "--scopes",
      GRAPH,
      "--force-refresh",
      ...emuFlags(emu),
    ];
    const run = async () =>
      runCli(tokenArgs(), {
        env: await cliEnv({ ...env, APP_SECRET: emu.info.apps.confidential.clientSecret }),
        timeoutMs: 90_000,
      });
    before(async () => {
      // A live refresh token in the vault to start from: an App + User sign-in.
      const seeded = await seedStore(emu, `keyvault:${emu.info.url}/secrets/${name}`, {
        scopes: GRAPH,
        env,
      });
      assert.equal(seeded.code, 0, seeded.stderr);
    });

    it("5xx twice: retried, then written", async () => {
      const before = await versions(name);
      await control(emu, "faults", {
        path: `/secrets/${name}`,
        method: "PUT",
        status: 503,
        count: 2,
      });
      const r = await run();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await versions(name), before + 1);
    });

    it("429 every time: retried, then a clear error and the secret untouched", async () => {
      const before = await versions(name);
      const value = await latest(name);
      await control(emu, "requests", undefined, "DELETE");
      await control(emu, "faults", {
        path: `/secrets/${name}`,
        method: "PUT",
        status: 429,
        retryAfter: 0,
        count: 10,
      });
      const r = await run();
      await control(emu, "faults", undefined, "DELETE");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Key Vault kept answering HTTP 429 while writing keyvault:/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const log = await control(emu, "requests");
      const puts = (log.requests ?? log).filter((e: any) => e.method === "PUT");
      assert.equal(puts.length, 4, "the first attempt and three retries");
      assert.equal(await versions(name), before);
      assert.equal(await latest(name), value);
    });

    it("403: not retried, a clear error naming the permission to grant, the secret untouched", async () => {
      const before = await versions(name);
      await control(emu, "requests", undefined, "DELETE");
      await control(emu, "faults", {
        path: `/secrets/${name}`,
        method: "PUT",
        status: 403,
        count: 5,
      });
      const r = await run();
      await control(emu, "faults", undefined, "DELETE");
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Key Vault refused writing keyvault:.*HTTP 403/);
      assert.match(r.stderr, /permissions get and set/);
      const log = await control(emu, "requests");
      assert.equal((log.requests ?? log).filter((e: any) => e.method === "PUT").length, 1);
      assert.equal(await versions(name), before);
    });
  });
});
