/**
 * @azure/msal-node's PublicClientApplication, unmodified, through the device code flow: the
 * emulator (--auto-approve) answers authorization_pending to the first poll and approves the
 * code for the default user then; a 1-second interval keeps the test short.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PublicClientApplication, type DeviceCodeRequest } from "@azure/msal-node";
import { defaultSeed, type RunningEmulator } from "../../src/emulator/index.ts";
import {
  GRAPH,
  PARTNER_CENTER,
  msalAuthority,
  startTestEmulator,
  verifyAccessToken,
  verifyIdToken,
} from "./helpers.ts";

describe("msal-node device code", () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startTestEmulator({
      autoApprove: true,
      seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } },
    });
  });
  after(() => emu?.close());

  test("acquireTokenByDeviceCode polls until the code is approved", async () => {
    const clientId = emu.info.apps.public.clientId;
    const tid = emu.info.partnerTenant.id;
    const pca = new PublicClientApplication({ auth: { clientId, ...msalAuthority(emu) } });
    let shown: Parameters<DeviceCodeRequest["deviceCodeCallback"]>[0] | undefined;
    const result = await pca.acquireTokenByDeviceCode({
      scopes: [`${PARTNER_CENTER}/user_impersonation`],
      deviceCodeCallback: (response) => {
        shown = response;
      },
    });
    assert.ok(shown, "MSAL showed the device code");
    assert.equal(shown.verificationUri, `${emu.url}/devicelogin`);
    assert.match(shown.message, new RegExp(shown.userCode));
    assert.equal(shown.interval, 1);
    assert.ok(result, "a result");
    assert.equal(result.account?.username, emu.info.user.username);
    const claims = await verifyAccessToken(emu, result.accessToken, {
      aud: PARTNER_CENTER,
      tid,
      scp: ["user_impersonation"],
    });
    assert.equal(claims["appid"], clientId);
    assert.equal(claims["appidacr"], "0", "a public client");
    await verifyIdToken(emu, result.idToken, { clientId, tid, username: emu.info.user.username });

    const polls = emu
      .requests()
      .filter((r) => r.path.endsWith("/oauth2/v2.0/token") && r.note["grant_type"] !== undefined);
    assert.deepEqual(
      polls.map((r) => r.status),
      [400, 200],
      "one authorization_pending, then the tokens",
    );

    // The refresh token MSAL cached serves a silent call for Graph.
    const silent = await pca.acquireTokenSilent({
      account: result.account!,
      scopes: [`${GRAPH}/User.Read`],
    });
    await verifyAccessToken(emu, silent.accessToken, { aud: GRAPH, tid, scp: ["User.Read"] });
  });

  test("cancelling the flow stops the polling", async () => {
    const clientId = emu.info.apps.public.clientId;
    const pca = new PublicClientApplication({ auth: { clientId, ...msalAuthority(emu) } });
    const request = {
      scopes: [`${GRAPH}/User.Read`],
      cancel: false,
      deviceCodeCallback: () => {
        request.cancel = true;
      },
    };
    await assert.rejects(pca.acquireTokenByDeviceCode(request), (e: any) => {
      assert.equal(e.errorCode, "device_code_polling_cancelled");
      return true;
    });
  });
});
