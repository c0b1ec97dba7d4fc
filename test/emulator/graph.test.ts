/**
 * Microsoft Graph in the emulator, the partner tenant's side: the token check (401 in Graph's
 * shape), permissions per call (403), organization, me, users, transitiveMemberOf, groups, GDAP
 * relationships with their access assignments, delegatedAdminCustomers; OData paging with an
 * absolute nextLink, $top, $select, $filter; AdminAgents' empty lists.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultSeed } from "../../src/emulator/index.ts";
import { advance, Harness } from "./harness.ts";
import {
  CLOUD_APP_ADMIN,
  GLOBAL_READER,
  GRAPH,
  PARTNER,
  PC,
  SALES,
  graph,
  graphError,
  userToken,
} from "./graph-helpers.ts";

let h: Harness;
let token: string;

before(async () => {
  h = await Harness.start({
    seed: {
      ...defaultSeed,
      generatedCustomers: { partner: PARTNER, count: 250, withoutAccess: 2 },
    },
  });
  token = await userToken(h);
});
after(() => h.close());

const REL = "/v1.0/tenantRelationships/delegatedAdminRelationships";

describe("Graph: the token", () => {
  test("no token, a foreign audience, a bad signature: 401 InvalidAuthenticationToken in Graph's shape", async () => {
    const none = await graph(h, undefined, "/v1.0/me");
    graphError(none, 401, "InvalidAuthenticationToken");
    assert.match(String(none.headers["www-authenticate"]), /^Bearer /);
    const pc = await userToken(h, { scope: `${PC}/user_impersonation` });
    const wrong = await graph(h, pc, "/v1.0/me");
    graphError(wrong, 401, "InvalidAuthenticationToken");
    assert.match(wrong.json.error.message, /Invalid audience/);
    const [head, body] = token.split(".");
    const forged = await graph(h, `${head}.${body}.${"A".repeat(342)}`, "/v1.0/me");
    graphError(forged, 401, "InvalidAuthenticationToken");
    const garbage = await graph(h, "not-a-jwt", "/v1.0/me");
    graphError(garbage, 401, "InvalidAuthenticationToken");
  });

  test("an expired token: 'Access token has expired or is not yet valid.'", async () => {
    const short = await userToken(h);
    const wait = await Harness.start({
      seed: { ...defaultSeed },
    });
    try {
      const t = await userToken(wait);
      advance(wait, 3600 + 400);
      const res = await graph(wait, t, "/v1.0/me");
      graphError(res, 401, "InvalidAuthenticationToken");
      assert.equal(res.json.error.message, "Access token has expired or is not yet valid.");
    } finally {
      await wait.close();
    }
    assert.equal((await graph(h, short, "/v1.0/me")).status, 200);
  });

  test("a token without the permission a call needs: 403 Authorization_RequestDenied", async () => {
    const narrow = await userToken(h, { scope: `${GRAPH}/User.Read` });
    assert.equal((await graph(h, narrow, "/v1.0/me")).status, 200);
    const res = await graph(h, narrow, REL);
    graphError(res, 403, "Authorization_RequestDenied");
    assert.equal(res.json.error.message, "Insufficient privileges to complete the operation.");
    graphError(
      await graph(h, narrow, "/v1.0/servicePrincipals"),
      403,
      "Authorization_RequestDenied",
    );
  });

  test("an app-only token: /me is refused, roles decide the rest", async () => {
    const res = await h.credentials(PARTNER);
    assert.equal(res.status, 200, res.text);
    const app = String(res.json["access_token"]);
    graphError(await graph(h, app, "/v1.0/me"), 400, "BadRequest");
    assert.equal((await graph(h, app, "/v1.0/organization")).status, 200);
    assert.equal((await graph(h, app, "/v1.0/servicePrincipals")).status, 200);
    graphError(await graph(h, app, REL), 403, "Authorization_RequestDenied");
  });

  test("an injected 429 or 503 on a Graph path answers in Graph's shape with Retry-After", async () => {
    h.emu.injectFault({ path: "/v1.0/tenantRelationships", status: 429, retryAfter: 2 });
    h.emu.injectFault({ path: "/v1.0/servicePrincipals", status: 503 });
    const throttled = await graph(h, token, REL);
    graphError(throttled, 429, "TooManyRequests");
    assert.equal(throttled.headers["retry-after"], "2");
    graphError(await graph(h, token, "/v1.0/servicePrincipals"), 503, "ServiceUnavailable");
    assert.equal((await graph(h, token, REL)).status, 200);
  });

  test("an unknown path or method answers in Graph's shape", async () => {
    graphError(await graph(h, token, "/v1.0/nosuchthing"), 400, "BadRequest");
    graphError(await graph(h, token, "/v1.0/organization", { method: "DELETE" }), 405);
    graphError(await graph(h, undefined, "/beta/organization"), 401, "InvalidAuthenticationToken");
  });
});

describe("Graph: the partner tenant's directory", () => {
  test("organization, me, users by id and by UPN", async () => {
    const org = await graph(h, token, "/v1.0/organization");
    assert.equal(org.status, 200, org.text);
    assert.match(org.json["@odata.context"], /\/v1\.0\/\$metadata#organization$/);
    assert.equal(org.json.value[0].id, PARTNER);
    assert.equal(org.json.value[0].verifiedDomains[0].name, "contoso-partner.onmicrosoft.com");
    assert.ok(org.headers["request-id"]);

    const me = await graph(h, token, "/v1.0/me");
    assert.equal(me.json.userPrincipalName, h.info.user.username);
    const byId = await graph(h, token, `/v1.0/users/${me.json.id}`);
    assert.equal(byId.json.displayName, me.json.displayName);
    const byUpn = await graph(h, token, `/v1.0/users/${encodeURIComponent(SALES.username)}`);
    assert.equal(byUpn.status, 200, byUpn.text);
    graphError(
      await graph(h, token, "/v1.0/users/admin@fabrikam.onmicrosoft.com"),
      404,
      "Request_ResourceNotFound",
    );
    const selected = await graph(h, token, "/v1.0/me?$select=id,displayName");
    assert.deepEqual(Object.keys(selected.json).sort(), ["@odata.context", "displayName", "id"]);
    graphError(await graph(h, token, "/v1.0/me?$select=nosuch"), 400, "BadRequest");
  });

  test("transitiveMemberOf and groups: AdminAgents and the GDAP group hold the admin", async () => {
    const groups = await graph(h, token, "/v1.0/me/transitiveMemberOf");
    assert.equal(groups.status, 200, groups.text);
    const names = groups.json.value.map((g: any) => g.displayName).sort();
    assert.deepEqual(names, ["AdminAgents", "GDAP Administrators"]);
    assert.equal(groups.json.value[0]["@odata.type"], "#microsoft.graph.group");
    const all = await graph(h, token, "/v1.0/groups");
    assert.equal(all.json.value.length, 5);
    const one = await graph(h, token, "/v1.0/groups?$filter=displayName eq 'AdminAgents'");
    assert.equal(one.json.value.length, 1);
    const sales = await graph(
      h,
      token,
      `/v1.0/users/${encodeURIComponent(SALES.username)}/transitiveMemberOf`,
    );
    assert.deepEqual(sales.json.value, []);
  });
});

describe("Graph: GDAP relationships", () => {
  test("every customer's relationship, paged by an absolute nextLink; $top up to 300", async () => {
    const seen: any[] = [];
    let url: string | undefined = `${REL}?$top=100`;
    let pages = 0;
    while (url) {
      const res = await graph(h, token, url);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.json.value);
      url = res.json["@odata.nextLink"];
      if (url) assert.ok(url.startsWith(`${h.emu.url}/v1.0/`), url);
      pages++;
    }
    // 3 named customers + 250 generated, 2 of them without any relationship.
    assert.equal(seen.length, 251);
    assert.equal(pages, 3);
    assert.equal(new Set(seen.map((r) => r.id)).size, 251);
    const r = seen[0];
    assert.equal(r.status, "active");
    assert.equal(r.duration, "P730D");
    assert.equal(r.autoExtendDuration, "P180D");
    assert.match(r.endDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(
      r.accessDetails.unifiedRoles.map((x: any) => x.roleDefinitionId).sort(),
      [GLOBAL_READER, CLOUD_APP_ADMIN, "fe930be7-5e62-47db-91af-98c3a49a38b1"].sort(),
    );
    graphError(await graph(h, token, `${REL}?$top=301`), 400, "Request_BadRequest");
    graphError(await graph(h, token, `${REL}?$top=0`), 400, "Request_BadRequest");
    graphError(await graph(h, token, `${REL}?$skiptoken=bogus`), 400, "Request_BadRequest");
    graphError(
      await graph(h, token, `${REL}?$orderby=displayName`),
      400,
      "Request_UnsupportedQuery",
    );
    const counted = await graph(h, token, `${REL}?$top=1&$count=true`);
    assert.equal(counted.json["@odata.count"], 251);
    graphError(await graph(h, token, `${REL}?$count=maybe`), 400, "Request_BadRequest");
    const big = await graph(h, token, `${REL}?$top=300`);
    assert.equal(big.json.value.length, 251);
    assert.equal(big.json["@odata.nextLink"], undefined);
  });

  test("filters: status, customer/tenantId; $select; a relationship and its access assignments", async () => {
    const fabrikam = h.info.customers.find((c) => c.domain === "fabrikam.onmicrosoft.com")!;
    const q = `$filter=${encodeURIComponent(`status eq 'active' and customer/tenantId eq '${fabrikam.id}'`)}`;
    const res = await graph(h, token, `${REL}?${q}&$select=id,customer,status`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.value.length, 1);
    const rel = res.json.value[0];
    assert.deepEqual(Object.keys(rel).sort(), ["@odata.type", "customer", "id", "status"]);
    assert.equal(rel.customer.displayName, "Fabrikam");
    const one = await graph(h, token, `${REL}/${rel.id}`);
    assert.equal(one.json.customer.tenantId, fabrikam.id);
    const assignments = await graph(h, token, `${REL}/${rel.id}/accessAssignments`);
    assert.equal(assignments.status, 200, assignments.text);
    const a = assignments.json.value[0];
    assert.equal(a.status, "active");
    assert.equal(a.accessContainer.accessContainerType, "securityGroup");
    const group = await graph(h, token, `/v1.0/groups/${a.accessContainer.accessContainerId}`);
    assert.equal(group.json.displayName, "GDAP Administrators");
    const single = await graph(h, token, `${REL}/${rel.id}/accessAssignments/${a.id}`);
    assert.equal(single.json.id, a.id);
    graphError(
      await graph(h, token, `${REL}/00000000-0000-0000-0000-000000000000`),
      404,
      "Request_ResourceNotFound",
    );
    graphError(
      await graph(h, token, `${REL}?$filter=duration eq 'P730D'`),
      400,
      "Request_UnsupportedQuery",
    );
    graphError(await graph(h, token, `${REL}?$filter=status ne 'active'`), 400, "BadRequest");
  });

  test("delegatedAdminCustomers lists each customer with a relationship", async () => {
    const res = await graph(h, token, "/v1.0/tenantRelationships/delegatedAdminCustomers?$top=300");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.value.length, 251);
    const first = res.json.value[0];
    assert.equal(first.id, first.tenantId);
    const one = await graph(
      h,
      token,
      `/v1.0/tenantRelationships/delegatedAdminCustomers/${first.id}`,
    );
    assert.equal(one.json.displayName, first.displayName);
  });

  test("a user outside AdminAgents gets 200 and an empty value, not 403; back inside, the list returns", async () => {
    const sales = await userToken(h, SALES);
    const res = await graph(h, sales, REL);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.value, []);
    const customers = await graph(h, sales, "/v1.0/tenantRelationships/delegatedAdminCustomers");
    assert.deepEqual(customers.json.value, []);

    h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: false });
    try {
      const out = await graph(h, token, REL);
      assert.equal(out.status, 200);
      assert.deepEqual(out.json.value, []);
    } finally {
      h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: true });
    }
    assert.equal((await graph(h, token, `${REL}?$top=5`)).json.value.length, 5);
  });
});
