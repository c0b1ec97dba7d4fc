import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import forge from "node-forge";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByClientCredentials,
  certificateDirectory,
  dotnetCertificateStoreDirectory,
  loadCertificate,
  PartnerTokenError,
} from "../../src/index.ts";
import { GRAPH, startTestEmulator, verifyAccessToken } from "./helpers.ts";

describe("certificates", () => {
  let emu: RunningEmulator;
  let pfxDir: string;
  before(async () => {
    emu = await startTestEmulator();
    const { certificateFile, keyFile } = emu.info.apps.certificate;
    const cert = forge.pki.certificateFromPem(await readFile(certificateFile, "utf8"));
    const key = forge.pki.privateKeyFromPem(await readFile(keyFile, "utf8"));
    const p12 = forge.pkcs12.toPkcs12Asn1(key, [cert], "pfx-pass", { algorithm: "3des" });
    pfxDir = await mkdtemp(join(tmpdir(), "partner-token-pfx-"));
    await writeFile(
      join(pfxDir, "app.pfx"),
      Buffer.from(forge.asn1.toDer(p12).getBytes(), "binary"),
    );
  });
  after(() => emu.close());

  test("a PFX file by path (with its password) and by thumbprint in the folder; the token verifies", async () => {
    const { clientId, thumbprint } = emu.info.apps.certificate;
    const loaded = await loadCertificate({ path: join(pfxDir, "app.pfx"), password: "pfx-pass" });
    assert.equal(loaded.thumbprint, thumbprint);
    const tenant = emu.info.partnerTenant.id;
    const result = await acquireTokenByClientCredentials({
      authorityHost: emu.url,
      caFile: emu.caFile!,
      clientId,
      tenant,
      scopes: [GRAPH],
      certificate: { thumbprint, directory: pfxDir, password: "pfx-pass" },
    });
    assert.equal((await verifyAccessToken(emu, result.accessToken, tenant)).appid, clientId);
  });

  test("a wrong PFX password and an unknown thumbprint fail with clear codes", async () => {
    await assert.rejects(
      loadCertificate({ path: join(pfxDir, "app.pfx"), password: "nope" }),
      (e: PartnerTokenError) => e.code === "ERR_CERTIFICATE_INVALID",
    );
    await assert.rejects(
      loadCertificate({ thumbprint: "00".repeat(20), directory: pfxDir }),
      (e: PartnerTokenError) =>
        e.code === "ERR_CERTIFICATE_NOT_FOUND" &&
        e.message.includes(pfxDir) &&
        /PARTNER_TOKEN_CERTIFICATE_DIR/.test(e.hint ?? ""),
    );
  });

  test("a certificate from the caller's reader: a PFX's base64 (read at each use) signs in; PEM text too; the reader's failures and bounds are clear", async () => {
    const { clientId, thumbprint, certificateFile, keyFile } = emu.info.apps.certificate;
    const pfx = (await readFile(join(pfxDir, "app.pfx"))).toString("base64");
    let reads = 0;
    const fromVault = {
      read: async () => {
        reads++;
        return pfx;
      },
      description: "the test's vault",
      password: "pfx-pass",
    };
    const tenant = emu.info.partnerTenant.id;
    const result = await acquireTokenByClientCredentials({
      authorityHost: emu.url,
      caFile: emu.caFile!,
      clientId,
      tenant,
      scopes: [GRAPH],
      certificate: fromVault,
    });
    assert.equal((await verifyAccessToken(emu, result.accessToken, tenant)).appid, clientId);
    assert.equal(reads, 1);
    assert.equal((await loadCertificate(fromVault)).thumbprint, thumbprint);
    assert.equal(reads, 2, "read again at each use");

    const pem = (await readFile(certificateFile, "utf8")) + (await readFile(keyFile, "utf8"));
    const fromPem = await loadCertificate({ read: async () => pem, description: "a PEM store" });
    assert.equal(fromPem.thumbprint, thumbprint);
    assert.equal(fromPem.file, "a PEM store");

    const fails = (source: Parameters<typeof loadCertificate>[0], code: string, text: RegExp) =>
      assert.rejects(loadCertificate(source), (e: PartnerTokenError) => {
        assert.equal(e.code, code);
        assert.match(e.message, text);
        return true;
      });
    await fails(
      { read: async () => "", description: "keyring:app-cert" },
      "ERR_CERTIFICATE_NOT_FOUND",
      /^keyring:app-cert holds no certificate\.$/,
    );
    await fails(
      {
        read: async () => {
          throw new Error("connection refused");
        },
        description: "the test's vault",
      },
      "ERR_CERTIFICATE_NOT_FOUND",
      /Cannot read the certificate from the test's vault: connection refused/,
    );
    await fails(
      { read: async () => "A".repeat(64 * 1024 + 1), description: "a big store" },
      "ERR_CERTIFICATE_INVALID",
      /a big store holds 65537 characters: too much for a certificate/,
    );
    await fails(
      { read: async () => pfx, description: "the test's vault", password: "nope" },
      "ERR_CERTIFICATE_INVALID",
      /^Cannot open the PFX in the test's vault: the password is wrong\.$/,
    );
    await fails(
      { read: async () => pfx, path: join(pfxDir, "app.pfx") },
      "ERR_INVALID_ARGUMENT",
      /from a file path or by a reader, not both/,
    );
  });

  test("a wrong password, a missing one and a file that is no PFX are told apart; a reader's PFX is not called a file", async () => {
    const file = join(pfxDir, "app.pfx");
    const fails = (source: Parameters<typeof loadCertificate>[0], message: RegExp) =>
      assert.rejects(loadCertificate(source), (e: PartnerTokenError) => {
        assert.equal(e.code, "ERR_CERTIFICATE_INVALID");
        assert.match(e.message, message);
        return true;
      });
    await fails({ path: file, password: "nope" }, /app\.pfx': the password is wrong\.$/);
    await fails({ path: file }, /protected by a password, and none was given/);
    const notPfx = join(pfxDir, "notes.pfx");
    await writeFile(notPfx, "not a certificate at all");
    await fails({ path: notPfx, password: "x" }, /notes\.pfx': it is not a PFX/);
    const base64 = (await readFile(file)).toString("base64");
    await fails(
      {
        read: async () => base64,
        description: "keyvault:https://v.vault.azure.net/secrets/c",
        password: "nope",
      },
      /^Cannot open the PFX in keyvault:https:\/\/v\.vault\.azure\.net\/secrets\/c: the password is wrong\.$/,
    );
  });

  describe(".NET's certificate store My of CurrentUser, as PowerShell's X509Store keeps it on Linux", () => {
    // A file .NET wrote (X509Store.Add under a scratch HOME): `<SHA-1>.pfx`, no password at all,
    // PBES2/AES-256 with a SHA-256 MAC keyed with the empty password.
    const home = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "dotnet-home");
    const THUMBPRINT = "5FF1F31A9BF6BE75F3315F8550ED6CDFED398442";
    const storeFile = join(
      home,
      ".dotnet",
      "corefx",
      "cryptography",
      "x509stores",
      "my",
      `${THUMBPRINT}.pfx`,
    );
    const saved = { HOME: process.env.HOME, DIR: process.env.PARTNER_TOKEN_CERTIFICATE_DIR };
    before(() => {
      process.env.HOME = home;
      process.env.PARTNER_TOKEN_CERTIFICATE_DIR = pfxDir;
    });
    after(() => {
      for (const [name, value] of [
        ["HOME", saved.HOME],
        ["PARTNER_TOKEN_CERTIFICATE_DIR", saved.DIR],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
    });

    test("the folder: under HOME on Linux; none on Windows and macOS (their stores are the system's)", () => {
      assert.equal(
        dotnetCertificateStoreDirectory({ HOME: "/h" }, "linux"),
        join("/h", ".dotnet", "corefx", "cryptography", "x509stores", "my"),
      );
      assert.equal(dotnetCertificateStoreDirectory({ HOME: "/h" }, "win32"), undefined);
      assert.equal(dotnetCertificateStoreDirectory({ HOME: "/h" }, "darwin"), undefined);
    });

    test("by thumbprint, after the certificate folder (whose PFX password does not apply to it); by path with no password", async () => {
      const found = await loadCertificate({
        thumbprint: THUMBPRINT.toLowerCase(),
        password: "pfx-pass",
      });
      assert.equal(found.thumbprint, THUMBPRINT);
      assert.equal(found.file, storeFile);
      assert.ok(found.certificate.checkPrivateKey(found.privateKey));
      // The certificate folder still comes first.
      const { thumbprint } = emu.info.apps.certificate;
      assert.equal(
        (await loadCertificate({ thumbprint, password: "pfx-pass" })).file,
        join(pfxDir, "app.pfx"),
      );
      const byPath = await loadCertificate({ path: storeFile });
      assert.equal(byPath.thumbprint, THUMBPRINT);
      // By its SHA-256 thumbprint too: the files are then opened one by one.
      assert.equal(
        (await loadCertificate({ thumbprint: found.thumbprintSha256 })).thumbprint,
        THUMBPRINT,
      );
    });

    test("the older form of a PFX with no password (3DES, SHA-1 MAC), as .NET exports it for older readers, reads too", async () => {
      // ExportPkcs12(Pkcs12ExportPbeParameters.Pkcs12TripleDesSha1, null), by .NET 10.
      const file = join(home, "..", "dotnet-3des-no-password.pfx");
      const loaded = await loadCertificate({ path: file });
      assert.equal(loaded.thumbprint, "F3626B673DE2477FD5633E92C9610EF60BB4FFCA");
      assert.ok(loaded.certificate.checkPrivateKey(loaded.privateKey));
      const base64 = (await readFile(file)).toString("base64");
      const read = await loadCertificate({ read: async () => base64, description: "a vault" });
      assert.equal(read.thumbprint, loaded.thumbprint);
    });

    test("a PFX with no password whose MAC does not check out is refused, and a password is refused", async () => {
      const bytes = await readFile(storeFile);
      const tampered = Buffer.from(bytes);
      tampered[tampered.length - 40]! ^= 0x01; // inside the MAC's digest or salt
      const copy = join(pfxDir, "tampered.p12");
      await writeFile(copy, tampered);
      await assert.rejects(
        loadCertificate({ path: copy }),
        (e: PartnerTokenError) => e.code === "ERR_CERTIFICATE_INVALID",
      );
      await assert.rejects(
        loadCertificate({ path: storeFile, password: "a-password" }),
        (e: PartnerTokenError) =>
          e.code === "ERR_CERTIFICATE_INVALID" && /the password is wrong/.test(e.message),
      );
    });

    test("not found: both folders named, and the store in the hint; a folder given by the caller is the only one searched", async () => {
      await assert.rejects(
        loadCertificate({ thumbprint: "00".repeat(20) }),
        (e: PartnerTokenError) => {
          assert.equal(e.code, "ERR_CERTIFICATE_NOT_FOUND");
          assert.ok(e.message.includes(`${pfxDir} or ${dirname(storeFile)}`), e.message);
          assert.match(e.hint ?? "", /certificate store My of CurrentUser/);
          return true;
        },
      );
      await assert.rejects(
        loadCertificate({ thumbprint: THUMBPRINT, directory: pfxDir }),
        (e: PartnerTokenError) =>
          e.code === "ERR_CERTIFICATE_NOT_FOUND" && !e.message.includes(".dotnet"),
      );
    });
  });

  test("the certificate folder: env override, then the per-OS default", () => {
    assert.equal(certificateDirectory({ PARTNER_TOKEN_CERTIFICATE_DIR: "/c" }, "linux"), "/c");
    assert.equal(
      certificateDirectory({ XDG_CONFIG_HOME: "/x" }, "linux"),
      join("/x", "partner-token", "certificates"),
    );
    assert.equal(
      certificateDirectory({ APPDATA: "C:\\R" }, "win32"),
      join("C:\\R", "partner-token", "certificates"),
    );
  });
});
