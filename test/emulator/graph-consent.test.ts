/**
 * Consent in a customer tenant through Graph (servicePrincipals, oauth2PermissionGrants,
 * appRoleAssignments) and through Partner Center's applicationconsents; the token endpoint reads
 * the same model. Partner Center's MFA rule.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultSeed } from "../../src/emulator/index.ts";
import { aadsts, Harness } from "./harness.ts";
import {
  GLOBAL_READER,
  GRAPH,
  PARTNER,
  PC,
  SALES,
  customerToken,
  graph,
  graphError,
  refreshToken,
  userToken,
} from "./graph-helpers.ts";

const GRAPH_APP = "00000003-0000-0000-c000-000000000000";
let h: Harness;
let rt: string;
let samRt: string;
let fabrikam: string;
let noConsent: string[];

before(async () => {
  h = await Harness.start({
    seed: {
      ...defaultSeed,
      generatedCustomers: { partner: PARTNER, count: 6, withoutConsent: 3 },
    },
  });
  rt = await refreshToken(h);
  const sam = await h.token(PARTNER, {
    ...h.confidential(),
    grant_type: "password",
    username: h.info.user.username,
    password: h.info.user.password,
    scope: `${GRAPH}/.default offline_access`,
  });
  assert.equal(sam.status, 200, sam.text);
  samRt = String(sam.json.refresh_token);
  fabrikam = h.info.customers.find((c) => c.domain === "fabrikam.onmicrosoft.com")!.id;
  noConsent = h.emu
    .customers()
    .filter((c) => c.kind === "withoutConsent")
    .map((c) => c.id);
});
after(() => h.close());

/** A Graph token of the admin in a customer tenant (Azure CLI's app, consented everywhere but withoutConsent). */
async function graphIn(tenant: string): Promise<string> {
  const res = await customerToken(h, tenant, rt);
  assert.equal(res.status, 200, res.text);
  return String(res.json.access_token);
}

/** The SAM app's delegated grant at `tenant`: "ok" or the AADSTS code. */
async function samOutcome(tenant: string): Promise<string> {
  const res = await h.token(tenant, {
    ...h.confidential(),
    grant_type: "refresh_token",
    refresh_token: samRt,
    scope: `${GRAPH}/.default`,
  });
  return res.status === 200 ? "ok" : `AADSTS${aadsts(res.json)}`;
}

describe("Graph: service principals and grants in a customer tenant", () => {
  test("servicePrincipals: list, $filter appId, (appId='…'), by id; resources expose scopes", async () => {
    const token = await graphIn(fabrikam);
    const app = h.info.apps.confidential.clientId;
    const list = await graph(h, token, "/v1.0/servicePrincipals?$top=2");
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.value.length, 2);
    assert.ok(list.json["@odata.nextLink"]);
    const filtered = await graph(h, token, `/v1.0/servicePrincipals?$filter=appId eq '${app}'`);
    assert.equal(filtered.json.value.length, 1);
    const sp = filtered.json.value[0];
    assert.equal(sp.appOwnerOrganizationId, PARTNER);
    const byAppId = await graph(h, token, `/v1.0/servicePrincipals(appId='${app}')`);
    assert.equal(byAppId.json.id, sp.id);
    const byId = await graph(h, token, `/v1.0/servicePrincipals/${sp.id}?$select=appId`);
    assert.deepEqual(Object.keys(byId.json).sort(), ["@odata.context", "appId"]);
    const graphSp = await graph(h, token, `/v1.0/servicePrincipals(appId='${GRAPH_APP}')`);
    assert.ok(graphSp.json.oauth2PermissionScopes.some((s: any) => s.value === "User.Read"));
    graphError(
      await graph(h, token, `/v1.0/servicePrincipals(appId='${crypto.randomUUID()}')`),
      404,
      "Request_ResourceNotFound",
    );
  });

  test("the SAM app's grant: AllPrincipals, resourceId Graph's service principal, space-separated scope; app role assignments", async () => {
    const token = await graphIn(fabrikam);
    const app = h.info.apps.confidential.clientId;
    const sp = (await graph(h, token, `/v1.0/servicePrincipals(appId='${app}')`)).json;
    const graphSp = (await graph(h, token, `/v1.0/servicePrincipals(appId='${GRAPH_APP}')`)).json;
    const grants = await graph(h, token, `/v1.0/servicePrincipals/${sp.id}/oauth2PermissionGrants`);
    assert.equal(grants.status, 200, grants.text);
    const toGraph = grants.json.value.find((g: any) => g.resourceId === graphSp.id);
    assert.equal(toGraph.consentType, "AllPrincipals");
    assert.equal(toGraph.principalId, null);
    assert.equal(toGraph.clientId, sp.id);
    assert.equal(toGraph.scope, "User.Read Directory.Read.All Directory.AccessAsUser.All");
    const filtered = await graph(
      h,
      token,
      `/v1.0/oauth2PermissionGrants?$filter=${encodeURIComponent(`clientId eq '${sp.id}' and resourceId eq '${graphSp.id}'`)}`,
    );
    assert.deepEqual(filtered.json.value, [toGraph]);
    const roles = await graph(h, token, `/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`);
    assert.ok(
      roles.json.value.some(
        (a: any) => a.resourceId === graphSp.id && a.principalType === "ServicePrincipal",
      ),
    );
  });

  test("delete the grant → AADSTS65001; create it again (201), a duplicate (409), narrow it by PATCH", async () => {
    const token = await graphIn(fabrikam);
    const app = h.info.apps.confidential.clientId;
    assert.equal(await samOutcome(fabrikam), "ok");
    const sp = (await graph(h, token, `/v1.0/servicePrincipals(appId='${app}')`)).json;
    const graphSp = (await graph(h, token, `/v1.0/servicePrincipals(appId='${GRAPH_APP}')`)).json;
    const grant = (
      await graph(h, token, `/v1.0/oauth2PermissionGrants?$filter=clientId eq '${sp.id}'`)
    ).json.value.find((g: any) => g.resourceId === graphSp.id);
    const del = await graph(h, token, `/v1.0/oauth2PermissionGrants/${grant.id}`, {
      method: "DELETE",
    });
    assert.equal(del.status, 204, del.text);
    assert.equal(await samOutcome(fabrikam), "AADSTS65001");
    graphError(
      await graph(h, token, `/v1.0/oauth2PermissionGrants/${grant.id}`),
      404,
      "Request_ResourceNotFound",
    );

    const body = {
      clientId: sp.id,
      consentType: "AllPrincipals",
      resourceId: graphSp.id,
      scope: "User.Read Directory.Read.All",
    };
    const created = await graph(h, token, "/v1.0/oauth2PermissionGrants", { json: body });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.scope, "User.Read Directory.Read.All");
    assert.equal(await samOutcome(fabrikam), "ok");
    const dup = await graph(h, token, "/v1.0/oauth2PermissionGrants", { json: body });
    graphError(dup, 409, "Request_MultipleObjectsWithSameKeyValue");
    assert.equal(dup.json.error.message, "Permission entry already exists.");

    const patched = await graph(h, token, `/v1.0/oauth2PermissionGrants/${created.json.id}`, {
      method: "PATCH",
      json: { scope: "User.Read" },
    });
    assert.equal(patched.status, 204, patched.text);
    const narrowed = await h.token(fabrikam, {
      ...h.confidential(),
      grant_type: "refresh_token",
      refresh_token: samRt,
      scope: `${GRAPH}/.default`,
    });
    assert.equal((await h.verify(narrowed.json.access_token, fabrikam))["scp"], "User.Read");
    const beyond = await h.token(fabrikam, {
      ...h.confidential(),
      grant_type: "refresh_token",
      refresh_token: samRt,
      scope: `${GRAPH}/Directory.Read.All`,
    });
    assert.equal(aadsts(beyond.json), 65001);

    graphError(
      await graph(h, token, "/v1.0/oauth2PermissionGrants", {
        json: { ...body, scope: "No.Such.Scope" },
      }),
      400,
    );
    graphError(
      await graph(h, token, "/v1.0/oauth2PermissionGrants", { json: { ...body, bogus: 1 } }),
      400,
      "BadRequest",
    );
    graphError(
      await graph(h, token, "/v1.0/oauth2PermissionGrants", {
        json: { ...body, clientId: crypto.randomUUID() },
      }),
      404,
      "Request_ResourceNotFound",
    );
  });

  test("POST servicePrincipals: a multi-tenant app's service principal, then its grant, then tokens", async () => {
    const tenant = h.emu
      .customers()
      .find((c) => c.kind === "normal" && c.domain.startsWith("customer"))!.id;
    const token = await graphIn(tenant);
    const publicApp = h.info.apps.public.clientId;
    const publicRt = (
      await h.token(PARTNER, {
        client_id: publicApp,
        grant_type: "password",
        username: h.info.user.username,
        password: h.info.user.password,
        scope: `${GRAPH}/.default offline_access`,
      })
    ).json.refresh_token as string;
    const viaPublic = () => customerToken(h, tenant, publicRt, {}, publicApp);
    assert.equal(aadsts((await viaPublic()).json), 65001);
    graphError(
      await graph(h, token, `/v1.0/servicePrincipals(appId='${publicApp}')`),
      404,
      "Request_ResourceNotFound",
    );
    const created = await graph(h, token, "/v1.0/servicePrincipals", {
      json: { appId: publicApp },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.appId, publicApp);
    const dup = await graph(h, token, "/v1.0/servicePrincipals", { json: { appId: publicApp } });
    graphError(dup, 409, "Request_MultipleObjectsWithSameKeyValue");
    graphError(
      await graph(h, token, "/v1.0/servicePrincipals", { json: { appId: crypto.randomUUID() } }),
      400,
      "Request_BadRequest",
    );
    graphError(await graph(h, token, "/v1.0/servicePrincipals", { json: { appId: 5 } }), 400);
    // A service principal without a grant is still no consent.
    assert.equal(aadsts((await viaPublic()).json), 65001);
    const graphSp = (await graph(h, token, `/v1.0/servicePrincipals(appId='${GRAPH_APP}')`)).json;
    const grant = await graph(h, token, "/v1.0/oauth2PermissionGrants", {
      json: {
        clientId: created.json.id,
        consentType: "AllPrincipals",
        principalId: null,
        resourceId: graphSp.id,
        scope: "User.Read",
      },
    });
    assert.equal(grant.status, 201, grant.text);
    const ok = await viaPublic();
    assert.equal(ok.status, 200, ok.text);
    // Deleting the service principal takes its grant with it.
    const removed = await graph(h, token, `/v1.0/servicePrincipals/${created.json.id}`, {
      method: "DELETE",
    });
    assert.equal(removed.status, 204, removed.text);
    assert.equal(aadsts((await viaPublic()).json), 65001);
    const left = await graph(
      h,
      token,
      `/v1.0/oauth2PermissionGrants?$filter=clientId eq '${created.json.id}'`,
    );
    assert.deepEqual(left.json.value, []);
    graphError(
      await graph(h, token, `/v1.0/servicePrincipals/${graphSp.id}`, { method: "DELETE" }),
      400,
      "Request_BadRequest",
    );
  });

  test("a Graph write needs a role that may consent: Global Reader alone gets 403", async () => {
    const tenant = h.info.customers.find((c) => c.domain === "northwind.onmicrosoft.com")!.id;
    h.emu.setRelationship({
      customer: tenant,
      group: "GDAP Administrators",
      roles: [GLOBAL_READER],
    });
    try {
      const token = await graphIn(tenant);
      const sps = await graph(h, token, "/v1.0/servicePrincipals");
      assert.equal(sps.status, 200);
      const res = await graph(h, token, "/v1.0/servicePrincipals", {
        json: { appId: h.info.apps.public.clientId },
      });
      graphError(res, 403, "Authorization_RequestDenied");
    } finally {
      h.emu.setRelationship({ customer: tenant, group: "GDAP Administrators" });
    }
  });
});

describe("Partner Center: applicationconsents", () => {
  async function pcToken(user = h.info.user): Promise<string> {
    return userToken(h, {
      scope: `${PC}/user_impersonation`,
      username: user.username,
      password: user.password,
    });
  }
  const consent = (token: string, customer: string, body: unknown) =>
    h.fetch(`/v1/customers/${customer}/applicationconsents`, {
      json: body,
      headers: { authorization: `Bearer ${token}`, "ms-correlationid": crypto.randomUUID() },
    });

  test("POST creates the service principal and grant (keys in either case, comma-separated scopes); a second POST: 'Permission entry already exists.'; DELETE removes them", async () => {
    const tenant = noConsent[1]!;
    const app = h.info.apps.confidential.clientId;
    assert.equal(await samOutcome(tenant), "AADSTS65001");
    const token = await pcToken();
    const body = {
      ApplicationId: app,
      DisplayName: "Contoso Partner Automation",
      ApplicationGrants: [
        { EnterpriseApplicationId: GRAPH_APP, Scope: "User.Read, Directory.Read.All" },
      ],
    };
    const res = await consent(token, tenant, body);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.applicationId, app);
    assert.equal(res.json.applicationGrants[0].scope, "User.Read,Directory.Read.All");
    assert.ok(res.headers["ms-correlationid"]);
    assert.equal(await samOutcome(tenant), "ok");
    const issued = await h.token(tenant, {
      ...h.confidential(),
      grant_type: "refresh_token",
      refresh_token: samRt,
      scope: `${GRAPH}/.default`,
    });
    assert.equal(
      (await h.verify(issued.json.access_token, tenant))["scp"],
      "User.Read Directory.Read.All",
    );

    const again = await consent(token, tenant, {
      applicationId: app,
      applicationGrants: [{ enterpriseApplicationId: GRAPH_APP, scope: "User.Read" }],
    });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json.description, "Permission entry already exists.");
    assert.equal(again.json.source, "PartnerFD");

    const del = await h.fetch(`/v1/customers/${tenant}/applicationconsents/${app}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(del.status, 204, del.text);
    assert.equal(await samOutcome(tenant), "AADSTS65001");
    const gone = await h.fetch(`/v1/customers/${tenant}/applicationconsents/${app}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(gone.status, 404);
  });

  test("bad bodies answer 400 naming what is wrong; nothing is half-done", async () => {
    const tenant = noConsent[2]!;
    const token = await pcToken();
    const app = h.info.apps.confidential.clientId;
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ applicationId: "x", applicationGrants: [] }, /applicationId/],
      [{ applicationId: app, applicationGrants: [] }, /applicationGrants/],
      [
        {
          applicationId: app,
          applicationGrants: [{ enterpriseApplicationId: GRAPH_APP, scope: "" }],
        },
        /scope/,
      ],
      [
        {
          applicationId: app,
          applicationGrants: [{ enterpriseApplicationId: GRAPH_APP, scope: "User.Read,Nope.All" }],
        },
        /'Nope\.All' is not a delegated permission/,
      ],
      [
        {
          applicationId: app,
          applicationGrants: [
            { enterpriseApplicationId: GRAPH_APP, scope: "User.Read" },
            { enterpriseApplicationId: crypto.randomUUID(), scope: "x" },
          ],
        },
        /has no service principal/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await consent(token, tenant, body);
      assert.equal(res.status, 400, res.text);
      assert.match(res.json.description, message);
    }
    assert.equal(await samOutcome(tenant), "AADSTS65001", "no half-made consent");
    const unknownApp = await consent(token, tenant, {
      applicationId: crypto.randomUUID(),
      applicationGrants: [{ enterpriseApplicationId: GRAPH_APP, scope: "User.Read" }],
    });
    assert.equal(unknownApp.status, 404);
    const unknownCustomer = await consent(token, crypto.randomUUID(), {});
    assert.equal(unknownCustomer.status, 404);
  });

  test("403 outside AdminAgents, and without a GDAP role that may consent", async () => {
    const tenant = noConsent[2]!;
    const body = {
      applicationId: h.info.apps.confidential.clientId,
      applicationGrants: [{ enterpriseApplicationId: GRAPH_APP, scope: "User.Read" }],
    };
    const token = await pcToken();
    h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: false });
    try {
      const res = await consent(token, tenant, body);
      assert.equal(res.status, 403, res.text);
      assert.match(res.json.description, /not in the AdminAgents group/);
    } finally {
      h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: true });
    }
    h.emu.setRelationship({
      customer: tenant,
      group: "GDAP Administrators",
      roles: [GLOBAL_READER],
    });
    try {
      const res = await consent(token, tenant, body);
      assert.equal(res.status, 403, res.text);
      assert.match(res.json.description, /Cloud Application Administrator/);
    } finally {
      h.emu.setRelationship({ customer: tenant, group: "GDAP Administrators" });
    }
    // The sales user has no Partner Center agent role at all.
    const sales = await pcToken({ ...SALES });
    assert.equal((await consent(sales, tenant, body)).status, 403);
  });

  test("the MFA rule: on, a token without mfa in amr is refused (401); a sign-in with MFA passes", async () => {
    const token = await pcToken();
    h.emu.setPartnerCenter({ requireMfa: true });
    try {
      const res = await h.fetch("/v1/customers?size=1", {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 401, res.text);
      assert.match(res.json.description, /mfa/i);
      // A device-code sign-in of a user who requires MFA carries it in amr.
      h.emu.setUser({ username: h.info.user.username, mfaRequired: true });
      const dc = await h.fetch(`/${PARTNER}/oauth2/v2.0/devicecode`, {
        form: { client_id: h.info.apps.public.clientId, scope: `${PC}/user_impersonation` },
      });
      h.emu.approveDeviceCode({ userCode: dc.json.user_code });
      const mfa = await h.token(PARTNER, {
        client_id: h.info.apps.public.clientId,
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: dc.json.device_code,
      });
      assert.equal(mfa.status, 200, mfa.text);
      const ok = await h.fetch("/v1/customers?size=1", {
        headers: { authorization: `Bearer ${mfa.json.access_token}` },
      });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      h.emu.setPartnerCenter({ requireMfa: false });
      h.emu.setUser({ username: h.info.user.username, mfaRequired: false });
    }
    const off = await h.fetch("/v1/customers?size=1", {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(off.status, 200);
  });
});
