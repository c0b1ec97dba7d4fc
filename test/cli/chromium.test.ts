/**
 * The interactive sign-in driven by a real browser: Debian's chromium (headless, through
 * playwright-core) fills the emulator's sign-in form and lands on the CLI's loopback page.
 * Chromium trusts the emulator's CA as a person's browser would: imported into the NSS database
 * of a throwaway home folder (test/interop/browser.ts). No certificate check is disabled.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { browserUnavailable, homeTrusting, launchChromium } from "../interop/browser.ts";
import {
  emuFlags,
  PARTNER_CENTER,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  type Emulator,
} from "./helpers.ts";

describe("new, interactive, with chromium", () => {
  let emu: Emulator;
  let browser: Browser;
  before(async () => {
    emu = await startTestEmulator({ autoApprove: false });
    // The browser tests are part of the suite: a machine without Chromium fails them, loudly.
    const unavailable = await browserUnavailable();
    if (unavailable) throw new Error(`${unavailable}; run scripts/install-system-deps.sh`);
    browser = await launchChromium(await homeTrusting(emu.info.caFile!));
  });
  after(async () => {
    await browser?.close();
    await emu?.close();
  });

  it("signs in through the emulator's form and shows 'Authentication complete' on the loopback page", async () => {
    const page = await browser.newPage();
    let driving: Promise<string> | undefined;
    const r = await runCli(
      [
        "new",
        "--no-browser",
        "--application-id",
        emu.info.apps.public.clientId,
        "--scopes",
        PARTNER_CENTER,
        ...emuFlags(emu),
      ],
      {
        onStderr: (text) => {
          const url = /(https:\/\/\S+\/oauth2\/v2\.0\/authorize\S+)/.exec(text)?.[1];
          if (!url || driving) return;
          driving = (async () => {
            await page.goto(url);
            await page.fill("#username", emu.info.user.username);
            await page.fill("#password", emu.info.user.password);
            await Promise.all([
              page.waitForURL(/^http:\/\/localhost:\d+\//),
              page.click("#idSIButton9"),
            ]);
            return (await page.textContent("body")) ?? "";
          })();
        },
        timeoutMs: 60_000,
      },
    );
    assert.ok(driving, `the sign-in address was printed: ${r.stderr}`);
    const body = await driving;
    assert.match(
      body,
      /Authentication complete\. You can return to the application\. Feel free to close this browser tab\./,
    );
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://api.partnercenter.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      scp: "user_impersonation",
    });
    assert.ok(r.json.refreshToken);
    assert.equal(r.json.account.username, emu.info.user.username);
  });
});
