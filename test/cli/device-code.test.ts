/** User set with -UseDeviceAuthentication: the device code on stderr, tokens on stdout. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  PARTNER_CENTER,
  runCli,
  startTestEmulator,
  verifyEmulatorToken,
  type Emulator,
} from "./helpers.ts";

describe("new --use-device-authentication", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  for (const spelling of [
    "--use-device-authentication",
    "--device-code",
    "--device-auth",
    "--device",
    "-DeviceCode",
    "-UseDeviceAuthentication",
  ]) {
    it(`${spelling}: a public client gets an access token, an id token and a refresh token`, async () => {
      const r = await runCli([
        "new",
        spelling,
        "--application-id",
        emu.info.apps.public.clientId,
        "--scopes",
        PARTNER_CENTER,
        ...emuFlags(emu),
      ]);
      assert.equal(r.code, 0, r.stderr);
      // The message (URL + code) is for the person: stderr only.
      assert.match(r.stderr, /devicelogin/);
      assert.match(r.stderr, /code/i);
      assert.ok(!r.stdout.includes("devicelogin"));
      const claims = await verifyEmulatorToken(emu, r.json.accessToken, {
        audience: "https://api.partnercenter.microsoft.com",
        tenantId: emu.info.partnerTenant.id,
        scp: "user_impersonation",
      });
      assert.equal(claims.upn, emu.info.user.username);
      assert.ok(r.json.refreshToken, "a refresh token");
      assert.ok(r.json.idToken, "an id token");
      assert.equal(r.json.account.username, emu.info.user.username);
      assert.equal(r.json.tenantId, emu.info.partnerTenant.id);
    });
  }

  it("Ctrl-C while waiting for the code exits 130", async () => {
    const slow = await startTestEmulator({ autoApprove: false });
    try {
      let sent = false;
      const r = await runCli(
        [
          "new",
          "--device",
          "--application-id",
          slow.info.apps.public.clientId,
          "--scopes",
          PARTNER_CENTER,
          ...emuFlags(slow),
        ],
        {
          onStderr: (text, child) => {
            if (!sent && /devicelogin/.test(text)) {
              sent = true;
              child.kill("SIGINT");
            }
          },
        },
      );
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /cancelled/);
      assert.equal(r.stdout, "");
    } finally {
      await slow.close();
    }
  });
});
