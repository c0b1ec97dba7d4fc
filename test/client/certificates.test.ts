import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import forge from "node-forge";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByClientCredentials,
  certificateDirectory,
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
      /Cannot open the PFX file 'the test's vault'/,
    );
    await fails(
      { read: async () => pfx, path: join(pfxDir, "app.pfx") },
      "ERR_INVALID_ARGUMENT",
      /from a file path or by a reader, not both/,
    );
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
