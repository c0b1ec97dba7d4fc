/**
 * `--environment Emulator` reaches an emulator started with default options — port 9443 and the
 * default data folder (here chosen through PARTNER_TOKEN_EMULATOR_DIR) — with no other flag: no
 * authority host, no CA file.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_PORT } from "../../src/emulator/index.ts";
import {
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  type Emulator,
} from "./helpers.ts";

describe("new --environment Emulator", () => {
  let emu: Emulator;
  let dataDir: string;
  before(async () => {
    dataDir = await tempDir("pt-emu-default-");
    emu = await startTestEmulator({ port: DEFAULT_PORT, dataDir });
  });
  after(() => emu?.close());

  /**
   * `new --environment <name>` as the confidential app, its secret from SECRET, the emulator's
   * data folder (where the CA is looked for) from PARTNER_TOKEN_EMULATOR_DIR.
   */
  const signInApp = (environment: string, tenant: string, emulatorDir: string) =>
    runCli(
      [
        "new",
        "--environment",
        environment,
        "-ApplicationId",
        emu.info.apps.confidential.clientId,
        "-Credential",
        "env:SECRET",
        "-ServicePrincipal",
        "-Tenant",
        tenant,
        "-Scopes",
        GRAPH,
      ],
      {
        env: {
          SECRET: emu.info.apps.confidential.clientSecret,
          PARTNER_TOKEN_EMULATOR_DIR: emulatorDir,
        },
      },
    );

  it("gets a token from the emulator on its default port, trusting its CA from its data folder", async () => {
    const app = emu.info.apps.confidential;
    const r = await signInApp("emulator", emu.info.partnerTenant.domain, dataDir);
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://graph.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      appId: app.clientId,
    });
    assert.equal(r.json.account, null);
  });

  it("without the emulator's CA (another data folder) the connection is refused, not trusted blindly", async () => {
    const app = emu.info.apps.confidential;
    const r = await signInApp(
      "Emulator",
      emu.info.partnerTenant.id,
      await tempDir("pt-emu-other-"),
    );
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /accessToken/);
    assert.doesNotMatch(r.stderr, new RegExp(app.clientSecret.replace(/[.~]/g, "\\$&")));
    assert.match(r.stderr, /ca\.pem/);
    assert.match(r.stderr, /start `partner-token emulator` first/);
  });
});
