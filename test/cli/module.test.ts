/** ByModule set: -Module ExchangeOnline, device code with the Exchange Online PowerShell app. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  runCli,
  startTestEmulator,
  verifyEmulatorToken,
  type Emulator,
} from "./helpers.ts";

const EXO_APP = "a0c73c16-a7e3-4564-9a95-2bdf47383716";

describe("new --module ExchangeOnline", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  it("device code with the Exchange app and scope, then the refresh grant with -RefreshToken", async () => {
    const r = await runCli(["new", "-Module", "exchangeonline", ...emuFlags(emu)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /devicelogin/);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://outlook.office365.com",
      tenantId: emu.info.partnerTenant.id,
      appId: EXO_APP,
    });
    assert.ok(r.json.refreshToken);

    const again = await runCli(
      ["new", "--module-name", "ExchangeOnline", "--refresh-token", "env:RT", ...emuFlags(emu)],
      {
        env: { RT: r.json.refreshToken },
      },
    );
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!again.stderr.includes("devicelogin"), "no device code with a refresh token");
    await verifyEmulatorToken(emu, again.json.accessToken, {
      audience: "https://outlook.office365.com",
      appId: EXO_APP,
    });
    assert.notEqual(again.json.refreshToken, r.json.refreshToken);
  });

  it("an unknown module is a usage error", async () => {
    const r = await runCli(["new", "--module", "Teams", ...emuFlags(emu)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ExchangeOnline/);
  });
});
