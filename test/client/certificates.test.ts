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
