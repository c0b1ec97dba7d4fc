/**
 * ServicePrincipalCertificate set: client credentials with a signed client assertion, the
 * certificate found by SHA-1 thumbprint in the certificate folder, or given as a PEM or PFX file.
 */
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  writePemWithKey,
  writePfx,
  type Emulator,
} from "./helpers.ts";

describe("new with a certificate (client assertion)", () => {
  let emu: Emulator;
  let certDir: string;
  let pemWithKey: string;
  let pfx: string;
  const pfxPassword = "pfx-password-123456";

  before(async () => {
    emu = await startTestEmulator();
    pemWithKey = await writePemWithKey(emu);
    certDir = dirname(pemWithKey);
    pfx = await writePfx(emu, pfxPassword);
  });
  after(() => emu?.close());

  const base = () => [
    "new",
    "--application-id",
    emu.info.apps.certificate.clientId,
    "--tenant",
    emu.info.partnerTenant.id,
    "--scopes",
    GRAPH,
    ...emuFlags(emu),
  ];
  const check = async (r: { code: number | null; stderr: string; json: any }) => {
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://graph.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      appId: emu.info.apps.certificate.clientId,
    });
    assert.equal(r.json.refreshToken, null);
  };

  it("-CertificateThumbprint from the certificate folder (PARTNER_TOKEN_CERTIFICATE_DIR)", async () => {
    const r = await runCli(
      [...base(), "--certificate-thumbprint", emu.info.apps.certificate.thumbprint],
      { env: { PARTNER_TOKEN_CERTIFICATE_DIR: certDir } },
    );
    await check(r);
  });

  it("the same with -ServicePrincipal and the thumbprint in lower case", async () => {
    const r = await runCli(
      [
        ...base(),
        "-ServicePrincipal",
        "-CertificateThumbprint",
        emu.info.apps.certificate.thumbprint.toLowerCase(),
      ],
      { env: { PARTNER_TOKEN_CERTIFICATE_DIR: certDir } },
    );
    await check(r);
  });

  it("--certificate-path to a PEM with its key", async () => {
    await check(await runCli([...base(), "--service-principal", "--certificate-path", pemWithKey]));
  });

  it("--certificate-path to a PFX, password from env:NAME", async () => {
    const r = await runCli(
      [
        ...base(),
        "--service-principal",
        "--certificate-path",
        pfx,
        "--certificate-password",
        "env:PFX_PW",
      ],
      { env: { PFX_PW: pfxPassword } },
    );
    await check(r);
  });

  it("AZURE_CLIENT_CERTIFICATE_PATH (+ AZURE_CLIENT_CERTIFICATE_PASSWORD) with --service-principal", async () => {
    const copy = join(await tempDir(), "sdk.pfx");
    await copyFile(pfx, copy);
    const r = await runCli([...base(), "--service-principal"], {
      env: { AZURE_CLIENT_CERTIFICATE_PATH: copy, AZURE_CLIENT_CERTIFICATE_PASSWORD: pfxPassword },
    });
    await check(r);
  });

  it("an unknown thumbprint: a clear error naming the folder, exit 1", async () => {
    const r = await runCli([...base(), "--certificate-thumbprint", "00".repeat(20)], {
      env: { PARTNER_TOKEN_CERTIFICATE_DIR: certDir },
    });
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(certDir), r.stderr);
  });
});
