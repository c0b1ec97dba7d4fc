/**
 * @azure/msal-node's PublicClientApplication, unmodified, signing a person in through a real
 * browser: acquireTokenInteractive starts MSAL's own loopback listener and asks for
 * response_mode=form_post; a scripted Chromium (trusting the emulator's CA through its NSS
 * database) fills the emulator's sign-in form (and the MFA code for a user who needs one), the
 * emulator's auto-posting page posts the code to MSAL's listener, MSAL redeems it with PKCE.
 * Also the device code flow finished by a person on the emulator's /devicelogin page.
 *
 * The emulator runs without --auto-approve here: the forms are the point.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PublicClientApplication } from "@azure/msal-node";
import type { Browser, Page } from "playwright-core";
import { defaultSeed, type RunningEmulator } from "../../src/emulator/index.ts";
import { browserUnavailable, homeTrusting, launchChromium } from "./browser.ts";
import {
  GRAPH,
  PARTNER_CENTER,
  msalAuthority,
  startTestEmulator,
  verifyAccessToken,
  verifyIdToken,
} from "./helpers.ts";

describe("msal-node with a person in a browser", () => {
  let emu: RunningEmulator;
  let browser: Browser;
  before(async () => {
    // The browser tests are part of the suite: a machine without Chromium fails them, loudly.
    const unavailable = await browserUnavailable();
    if (unavailable) throw new Error(`${unavailable}; run scripts/install-system-deps.sh`);
    emu = await startTestEmulator({
      seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } },
    });
    browser = await launchChromium(await homeTrusting(emu.caFile!));
  });
  after(async () => {
    await browser?.close();
    await emu?.close();
  });

  const SUCCESS = "<!doctype html><title>Signed in</title><p id=msal-done>Signed in.</p>";

  /** The person: password, then the one-time code when the emulator asks for it. */
  async function signIn(
    page: Page,
    who: { username: string; password: string; mfaCode?: string },
  ): Promise<void> {
    await page.locator("#username").fill(who.username);
    await page.locator("#password").fill(who.password);
    await page.locator("#idSIButton9").click();
    if (who.mfaCode !== undefined) {
      await page.locator("#otc").fill(who.mfaCode);
      await page.locator("#idSubmit_SAOTCC_Continue").click();
    }
  }

  /** acquireTokenInteractive with `openBrowser` handing the URL to a fresh browser page. */
  async function interactive(who: { username: string; password: string; mfaCode?: string }) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const posts: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST") posts.push(new URL(r.url()).origin);
      });
      const pca = new PublicClientApplication({
        auth: { clientId: emu.info.apps.public.clientId, ...msalAuthority(emu) },
      });
      let authUrl = "";
      const result = await pca.acquireTokenInteractive({
        scopes: [`${PARTNER_CENTER}/user_impersonation`],
        successTemplate: SUCCESS,
        openBrowser: async (url) => {
          authUrl = url;
          const response = await page.goto(url);
          assert.equal(response?.status(), 200, "the sign-in page, over trusted HTTPS");
          await signIn(page, who);
          // The auto-posting form lands on MSAL's loopback listener, which shows SUCCESS.
          await page.locator("#msal-done").waitFor({ timeout: 60_000 });
        },
      });
      assert.equal(new URL(authUrl).searchParams.get("response_mode"), "form_post");
      // The code reached MSAL's listener by a POST from the browser, as form_post does.
      assert.ok(
        posts.some((o) => /^http:\/\/localhost:\d+$/.test(o)),
        `a POST to the loopback listener among ${posts}`,
      );
      return result;
    } finally {
      await context.close();
    }
  }

  test("acquireTokenInteractive: sign-in form, form_post to MSAL's loopback", async () => {
    const tid = emu.info.partnerTenant.id;
    const result = await interactive(emu.info.user);
    assert.equal(result.account?.username, emu.info.user.username);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: PARTNER_CENTER,
      tid,
      scp: ["user_impersonation"],
    });
    assert.deepEqual(claims["amr"], ["pwd"]);
    assert.equal(claims["appidacr"], "0");
    await verifyIdToken(emu, result.idToken, {
      clientId: emu.info.apps.public.clientId,
      tid,
      username: emu.info.user.username,
    });
  });

  test("acquireTokenInteractive: a user who must use MFA enters the code", async () => {
    const mfa = emu.info.mfaUser;
    assert.ok(mfa, "the seed has an MFA user");
    const result = await interactive(mfa);
    assert.equal(result.account?.username, mfa.username);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: PARTNER_CENTER,
      tid: emu.info.partnerTenant.id,
      scp: ["user_impersonation"],
    });
    assert.deepEqual(claims["amr"], ["pwd", "mfa"]);
  });

  test("device code, approved by a person on /devicelogin", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const pca = new PublicClientApplication({
        auth: { clientId: emu.info.apps.public.clientId, ...msalAuthority(emu) },
      });
      let person: Promise<void> | undefined;
      let failed: unknown;
      const request = {
        scopes: [`${GRAPH}/User.Read`],
        cancel: false,
        deviceCodeCallback: (shown: { verificationUri: string; userCode: string }) => {
          person = (async () => {
            await page.goto(shown.verificationUri);
            await page.locator("#otc").fill(shown.userCode);
            await page.locator("#idSIButton9").click();
            await signIn(page, emu.info.user);
            await page.locator("#done").waitFor();
          })().catch((e: unknown) => {
            // Stop MSAL polling for a code nobody will approve; report the browser's error.
            failed = e;
            request.cancel = true;
          });
        },
      };
      const result = await pca.acquireTokenByDeviceCode(request).catch((e: unknown) => {
        throw failed ?? e;
      });
      await person;
      if (failed) throw failed;
      assert.ok(result);
      assert.equal(result.account?.username, emu.info.user.username);
      await verifyAccessToken(emu, result.accessToken, {
        aud: GRAPH,
        tid: emu.info.partnerTenant.id,
        scp: ["User.Read"],
      });
    } finally {
      await context.close();
    }
  });
});
