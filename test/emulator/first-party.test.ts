/**
 * Microsoft's first-party public clients in the default seed, consented in every tenant: a device
 * code sign-in with each (no application registration of one's own), then the refresh token
 * redeemed for Partner Center's user_impersonation and for Graph in a customer tenant.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness } from "./harness.ts";

const FIRST_PARTY = {
  "Azure CLI": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  "Azure PowerShell": "1950a258-227b-4e31-a9cf-717495945fc2",
  "Exchange Online PowerShell": "a0c73c16-a7e3-4564-9a95-2bdf47383716",
};

let h: Harness;
before(async () => {
  h = await Harness.start();
});
after(() => h.close());

describe("first-party public clients", () => {
  for (const [name, clientId] of Object.entries(FIRST_PARTY))
    test(`${name}: device code, then Partner Center and a customer's Graph by refresh`, async () => {
      const start = await h.fetch("/organizations/oauth2/v2.0/devicecode", {
        form: {
          client_id: clientId,
          scope: "https://management.core.windows.net//.default offline_access openid profile",
        },
      });
      assert.equal(start.status, 200, start.text);
      h.emu.approveDeviceCode({ userCode: String(start.json["user_code"]) });
      const signedIn = await h.token("organizations", {
        client_id: clientId,
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: String(start.json["device_code"]),
      });
      assert.equal(signedIn.status, 200, signedIn.text);
      const arm = await h.verify(String(signedIn.json["access_token"]));
      assert.equal(arm["appid"], clientId);
      assert.equal(arm["aud"], "https://management.core.windows.net");

      const pc = await h.token("organizations", {
        client_id: clientId,
        grant_type: "refresh_token",
        refresh_token: String(signedIn.json["refresh_token"]),
        scope: "https://api.partnercenter.microsoft.com/user_impersonation offline_access",
      });
      assert.equal(pc.status, 200, pc.text);
      const pcClaims = await h.verify(String(pc.json["access_token"]));
      assert.equal(pcClaims["aud"], "https://api.partnercenter.microsoft.com");
      assert.equal(pcClaims["scp"], "user_impersonation");
      assert.equal(pcClaims["tid"], h.info.partnerTenant.id);

      const customer = h.info.customers[0]!;
      const graph = await h.token(customer.domain, {
        client_id: clientId,
        grant_type: "refresh_token",
        refresh_token: String(pc.json["refresh_token"]),
        scope: "https://graph.microsoft.com/.default",
      });
      assert.equal(graph.status, 200, graph.text);
      const graphClaims = await h.verify(String(graph.json["access_token"]), customer.id);
      assert.equal(graphClaims["tid"], customer.id);
      assert.equal(graphClaims["aud"], "https://graph.microsoft.com");
      assert.equal(graphClaims["appid"], clientId);
    });
});
