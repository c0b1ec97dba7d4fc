/**
 * A client secret or certificate kept in a store is read from it at each renewal, in the library:
 * `openStoreSession({ readClientSecret })` and `TokenBroker.appCredential()` call the reader each
 * time (counted); a profile connected with `clientSecretStore` / `certificateStore` keeps the
 * store's URI, never the value, and reads the store through `openStore` at each renewal; a store
 * that cannot be read is an error naming it, not a sign-in-required state; a profile that kept
 * the secret's value (as before) still renews.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  connectSession,
  MemoryTokenCache,
  openRefreshTokenStore,
  openSession,
  openStoreSession,
  sessionStatus,
  type SessionOptions,
} from "../../src/index.ts";
import { ProfileFile } from "../../src/session/profile-file.ts";
import {
  GRAPH,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  type Emulator,
} from "../cli/helpers.ts";
import { seedStore } from "../stores/helpers.ts";
import { refreshGrants, sessionEnv } from "./helpers.ts";

describe("a secret or certificate read from its store at each renewal (library)", () => {
  let emu: Emulator;
  let cacheDir: string;
  let dir: string;
  /** Session options whose openStore counts what it opens. */
  const counted = (profile: string, opened: string[]): SessionOptions => ({
    cacheDir,
    profile,
    clientOptions: { log: () => {} },
    openStore: async (uri, o) => {
      opened.push(uri);
      return openRefreshTokenStore(uri, o?.caFile ? { caFile: o.caFile } : {});
    },
  });
  const record = (profile: string) => new ProfileFile(cacheDir, profile).read();

  before(async () => {
    emu = await startTestEmulator();
    const env = await sessionEnv();
    cacheDir = env.PARTNER_TOKEN_CACHE_DIR;
    process.env.PARTNER_TOKEN_KEY_DIR = env.PARTNER_TOKEN_KEY_DIR;
    process.env.PARTNER_TOKEN_KEYRING = "off";
    dir = await tempDir("pt-fresh-");
  });
  after(() => emu?.close());

  it("openStoreSession: readClientSecret is called at each renewal, not on a cache hit; appCredential() reads it now", async () => {
    const rt = join(dir, "rt");
    const seeded = await seedStore(emu, `file:${rt}`);
    assert.equal(seeded.code, 0, seeded.stderr);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    let reads = 0;
    let secret = clientSecret;
    const session = await openStoreSession({
      store: await openRefreshTokenStore(`file:${rt}`),
      applicationId: clientId,
      readClientSecret: async () => {
        reads++;
        return secret;
      },
      authorityHost: emu.info.url,
      caFile: emu.info.caFile!,
      cache: new MemoryTokenCache(),
    });
    try {
      const customer = emu.info.customers[0]!;
      const first = await session.getToken({ scopes: [GRAPH], tenant: customer.id });
      await verifyEmulatorToken(emu, first.accessToken, { tenantId: customer.id });
      assert.equal(reads, 1, "the first renewal read the secret");
      await session.getToken({ scopes: [GRAPH], tenant: customer.id });
      assert.equal(reads, 1, "a cached token needs no secret");
      await session.getToken({ scopes: [GRAPH], tenant: customer.id, forceRefresh: true });
      assert.equal(reads, 2, "the next renewal read it again");

      assert.deepEqual(await session.appCredential(), { clientSecret });
      assert.equal(reads, 3);
      secret = "rotated-secret-value";
      assert.deepEqual(
        await session.appCredential(),
        { clientSecret: "rotated-secret-value" },
        "what the next renewal would use",
      );
      // …and the next renewal does use it: the emulator refuses a secret it does not know.
      await assert.rejects(
        session.getToken({ scopes: [GRAPH], tenant: customer.id, forceRefresh: true }),
        /AADSTS7000215/,
      );
    } finally {
      await session.close();
    }
  });

  it("a service principal connected with clientSecretStore keeps the URI, not the secret, and reads the store at each renewal", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const secretFile = join(dir, "secret");
    await writeFile(secretFile, clientSecret, { mode: 0o600 });
    const uri = `file:${secretFile}`;
    const opened: string[] = [];
    await connectSession(
      {
        servicePrincipal: true,
        applicationId: clientId,
        clientSecretStore: uri,
        tenant: emu.info.partnerTenant.id,
        scopes: [GRAPH],
        authorityHost: emu.info.url,
        caFile: emu.info.caFile!,
      },
      counted("sp-store", opened),
    );
    assert.deepEqual(opened, [uri], "the sign-in read the secret from the store");
    const kept = await record("sp-store");
    assert.equal(kept?.clientSecretStore, uri);
    assert.equal(kept?.clientSecret, undefined);
    assert.ok(!JSON.stringify(kept).includes(clientSecret), "the secret's value is not kept");

    const session = await openSession(counted("sp-store", opened));
    const token = await session.getToken({ scopes: [GRAPH], forceRefresh: true });
    await verifyEmulatorToken(emu, token.accessToken, { tenantId: emu.info.partnerTenant.id });
    assert.deepEqual(opened, [uri, uri], "the renewal read the store again");
    assert.deepEqual(await session.appCredential(), { clientSecret });

    // The store cannot be read (a folder where the file was): an error naming it, exit 1.
    await rm(secretFile);
    await mkdir(secretFile);
    await assert.rejects(
      session.getToken({ scopes: [GRAPH], forceRefresh: true }),
      (e: Error & { code?: string; exitCode?: number }) => {
        assert.equal(e.code, "ERR_STORE_UNAVAILABLE");
        assert.equal(e.exitCode, 1);
        assert.ok(e.message.includes(`The client secret could not be read from ${uri}`), e.message);
        return true;
      },
    );
    // Emptied: says so, naming it.
    await rm(secretFile, { recursive: true });
    await writeFile(secretFile, "", { mode: 0o600 });
    await assert.rejects(session.getToken({ scopes: [GRAPH], forceRefresh: true }), (e: Error) => {
      assert.equal((e as { code?: string }).code, "ERR_STORE_EMPTY_VALUE");
      assert.ok(e.message.includes(`${uri} holds no client secret`), e.message);
      return true;
    });
    const status = await sessionStatus(counted("sp-store", []));
    assert.equal(status.state, "ok", "the session itself is fine");
  });

  it("App + User with clientSecretStore: the refresh is signed with the store's secret each time; the refresh token stays fine when the store fails", async () => {
    const rt = join(dir, "rt-user");
    const seeded = await seedStore(emu, `file:${rt}`);
    assert.equal(seeded.code, 0, seeded.stderr);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const secretFile = join(dir, "secret-user");
    await writeFile(secretFile, clientSecret, { mode: 0o600 });
    const uri = `file:${secretFile}`;
    const opened: string[] = [];
    await connectSession(
      {
        refreshToken: (await readFile(rt, "utf8")).trim(),
        applicationId: clientId,
        credential: { userName: clientId, password: clientSecret },
        clientSecretStore: uri,
        tenant: emu.info.partnerTenant.id,
        authorityHost: emu.info.url,
        caFile: emu.info.caFile!,
      },
      counted("user-store", opened),
    );
    assert.deepEqual(opened, [], "the sign-in used the secret it was given");
    const kept = await record("user-store");
    assert.equal(kept?.kind, "user");
    assert.equal(kept?.clientSecretStore, uri);
    assert.equal(kept?.clientSecret, undefined);

    const session = await openSession(counted("user-store", opened));
    const grants = refreshGrants(emu);
    await session.getToken({ scopes: [GRAPH], forceRefresh: true });
    assert.equal(refreshGrants(emu), grants + 1);
    assert.deepEqual(opened, [uri]);

    await rm(secretFile);
    await mkdir(secretFile);
    await assert.rejects(session.getToken({ scopes: [GRAPH], forceRefresh: true }), (e: Error) => {
      assert.equal((e as { code?: string }).code, "ERR_STORE_UNAVAILABLE");
      assert.ok(e.message.includes(uri), e.message);
      return true;
    });
    assert.equal((await record("user-store"))?.signInRequired, undefined);
    assert.equal((await sessionStatus(counted("user-store", []))).state, "ok");
  });

  it("a certificate in a store (certificateStore): the URI kept, the store read at each renewal; a store holding no certificate says so", async () => {
    const { certificate } = emu.info.apps;
    const certFile = join(dir, "cert");
    const pem =
      (await readFile(certificate.certificateFile, "utf8")) +
      (await readFile(certificate.keyFile, "utf8"));
    await writeFile(certFile, pem, { mode: 0o600 });
    const uri = `file:${certFile}`;
    const opened: string[] = [];
    await connectSession(
      {
        servicePrincipal: true,
        applicationId: certificate.clientId,
        certificateStore: uri,
        tenant: emu.info.partnerTenant.id,
        scopes: [GRAPH],
        authorityHost: emu.info.url,
        caFile: emu.info.caFile!,
      },
      counted("cert-store", opened),
    );
    assert.deepEqual(opened, [uri]);
    const kept = await record("cert-store");
    assert.deepEqual(kept?.certificate, { path: uri });
    assert.ok(!JSON.stringify(kept).includes("PRIVATE KEY"));

    const session = await openSession(counted("cert-store", opened));
    const token = await session.getToken({ scopes: [GRAPH], forceRefresh: true });
    await verifyEmulatorToken(emu, token.accessToken, { tenantId: emu.info.partnerTenant.id });
    assert.deepEqual(opened, [uri, uri]);

    await writeFile(certFile, "", { mode: 0o600 });
    await assert.rejects(session.getToken({ scopes: [GRAPH], forceRefresh: true }), (e: Error) => {
      assert.equal((e as { code?: string }).code, "ERR_CERTIFICATE_NOT_FOUND");
      assert.equal(e.message, `${uri} holds no certificate.`);
      return true;
    });
  });

  it("a profile that kept the secret's value (before clientSecretStore) still renews with it", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    await connectSession(
      {
        servicePrincipal: true,
        credential: { userName: clientId, password: clientSecret },
        tenant: emu.info.partnerTenant.id,
        scopes: [GRAPH],
        authorityHost: emu.info.url,
        caFile: emu.info.caFile!,
      },
      { cacheDir, profile: "sp-value", clientOptions: { log: () => {} } },
    );
    const kept = await record("sp-value");
    assert.equal(kept?.clientSecret, clientSecret);
    assert.equal(kept?.clientSecretStore, undefined);
    const session = await openSession({ cacheDir, profile: "sp-value" });
    const token = await session.getToken({ scopes: [GRAPH], forceRefresh: true });
    assert.ok(token.accessToken);
    assert.deepEqual(await session.appCredential(), { clientSecret });
  });

  it("the library opens no store itself: a store URI as a certificate path is refused with what to do", async () => {
    const { loadCertificate } = await import("../../src/index.ts");
    await assert.rejects(
      loadCertificate({ path: "keyvault:https://kv.vault.azure.net/secrets/app-cert" }),
      (e: Error) => {
        assert.equal((e as { code?: string }).code, "ERR_INVALID_ARGUMENT");
        assert.match(
          e.message,
          /names a store, which the token library does not open: give the certificate's 'read'/,
        );
        return true;
      },
    );
  });
});
