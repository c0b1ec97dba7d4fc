/** Partner Center: /generatetoken, /v1/customers paging, /v1/profiles/organization, and their errors. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness } from "./harness.ts";
import { defaultSeed } from "../../src/emulator/index.ts";

const PC = "https://api.partnercenter.microsoft.com";
let h: Harness;

before(async () => {
  h = await Harness.start({
    autoApprove: true,
    seed: {
      ...defaultSeed,
      generatedCustomers: { partner: "contoso-partner.onmicrosoft.com", count: 247 },
    },
  });
});
after(() => h.close());

async function userToken(
  username: string,
  password: string,
  scope = `${PC}/user_impersonation`,
  tenant = "organizations",
) {
  const res = await h.token(tenant, {
    client_id: h.info.apps.public.clientId,
    grant_type: "password",
    username,
    password,
    scope,
  });
  assert.equal(res.status, 200, res.text);
  return String(res.json["access_token"]);
}

describe("Partner Center", () => {
  test("POST /generatetoken exchanges an Entra token for a Partner Center token", async () => {
    const entra = await userToken(h.info.user.username, h.info.user.password);
    const res = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: {
        authorization: `Bearer ${entra}`,
        accept: "application/json",
        "ms-correlationid": "11111111-2222-3333-4444-555555555555",
        "ms-requestid": "req-1",
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers["ms-correlationid"], "11111111-2222-3333-4444-555555555555");
    assert.equal(res.headers["ms-requestid"], "req-1");
    assert.equal(res.json["token_type"], "Bearer");
    const c = await h.verify(String(res.json["access_token"]));
    assert.equal(c.aud, PC);
    assert.equal(c["tid"], h.info.partnerTenant.id);
    assert.deepEqual(c["roles"], ["AdminAgent"]);
    // The Partner Center token is accepted by the API too.
    const profile = await h.fetch("/v1/profiles/organization", {
      headers: { authorization: `Bearer ${res.json["access_token"]}` },
    });
    assert.equal(profile.status, 200);
  });

  test("400 for a wrong grant_type, 401 without or with a foreign token, 403 without an agent role, 404 for a non-partner", async () => {
    const entra = await userToken(h.info.user.username, h.info.user.password);
    const bad = await h.fetch("/generatetoken", {
      form: { grant_type: "client_credentials" },
      headers: { authorization: `Bearer ${entra}` },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json["code"], 900400);
    assert.match(String(bad.json["description"]), /jwt_token/);

    const none = await h.fetch("/generatetoken", { form: { grant_type: "jwt_token" } });
    assert.equal(none.status, 401);
    const graph = await userToken(
      h.info.user.username,
      h.info.user.password,
      "https://graph.microsoft.com/User.Read",
    );
    const wrongAudience = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: { authorization: `Bearer ${graph}` },
    });
    assert.equal(wrongAudience.status, 401);
    assert.match(String(wrongAudience.json["description"]), /audience/);
    const tampered = entra.slice(0, -4) + (entra.endsWith("AAAA") ? "BBBB" : "AAAA");
    assert.equal(
      (
        await h.fetch("/generatetoken", {
          form: { grant_type: "jwt_token" },
          headers: { authorization: `Bearer ${tampered}` },
        })
      ).status,
      401,
    );

    const sales = await userToken(
      "sales@contoso-partner.onmicrosoft.com",
      "Emulator-Sales-Passw0rd!",
    );
    const forbidden = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: { authorization: `Bearer ${sales}` },
    });
    assert.equal(forbidden.status, 403);
    assert.match(String(forbidden.json["description"]), /Admin agent/);

    const customer = await userToken(
      "admin@fabrikam.onmicrosoft.com",
      "Emulator-Fabrikam-Passw0rd!",
    );
    const notPartner = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: { authorization: `Bearer ${customer}` },
    });
    assert.equal(notPartner.status, 404);
  });

  test("500 injected through the control API, with the Partner Center error shape", async () => {
    const entra = await userToken(h.info.user.username, h.info.user.password);
    h.emu.injectFault({ path: "/generatetoken", count: 1, status: 500 });
    const failed = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: { authorization: `Bearer ${entra}` },
    });
    assert.equal(failed.status, 500);
    const ok = await h.fetch("/generatetoken", {
      form: { grant_type: "jwt_token" },
      headers: { authorization: `Bearer ${entra}` },
    });
    assert.equal(ok.status, 200);
  });

  test("GET /v1/customers pages with MS-ContinuationToken until every customer was seen", async () => {
    const entra = await userToken(h.info.user.username, h.info.user.password);
    const seen = new Set<string>();
    let continuation: string | undefined;
    let pages = 0;
    do {
      const res = await h.fetch("/v1/customers?size=100", {
        headers: {
          authorization: `Bearer ${entra}`,
          ...(continuation ? { "ms-continuationtoken": continuation } : {}),
        },
      });
      assert.equal(res.status, 200, res.text);
      pages++;
      for (const item of res.json["items"]) {
        assert.equal(item.attributes.objectType, "Customer");
        seen.add(item.companyProfile.tenantId);
      }
      const next = res.json["links"]["next"];
      continuation = next?.headers.find(
        (x: { key: string }) => x.key === "MS-ContinuationToken",
      )?.value;
    } while (continuation);
    assert.equal(pages, 3);
    assert.equal(seen.size, 3 + 247);
    assert.ok(seen.has(h.info.customers[0]!.id));
    const bad = await h.fetch("/v1/customers?size=0", {
      headers: { authorization: `Bearer ${entra}` },
    });
    assert.equal(bad.status, 400);
  });

  test("GET /v1/profiles/organization", async () => {
    const entra = await userToken(h.info.user.username, h.info.user.password);
    const res = await h.fetch("/v1/profiles/organization", {
      headers: { authorization: `Bearer ${entra}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json["tenantId"], h.info.partnerTenant.id);
    assert.equal(res.json["companyName"], "Contoso Partner");
    assert.equal(res.json["attributes"]["objectType"], "OrganizationProfile");
  });
});
