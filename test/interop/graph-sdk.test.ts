/**
 * Microsoft's Graph SDK for JavaScript (`@microsoft/microsoft-graph-client`), unmodified, reads
 * the emulator's Graph with tokens that partner-token's library obtained from the emulator's
 * token endpoint: its PageIterator follows the absolute `@odata.nextLink` through every GDAP
 * relationship, it reads access assignments, service principals and grants, and its GraphError
 * carries Graph's code, status and request id.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Client, GraphError, PageIterator } from "@microsoft/microsoft-graph-client";
import { acquireTokenByRefreshToken } from "../../src/client/refresh-token.ts";
import { defaultSeed, type RunningEmulator } from "../../src/emulator/index.ts";
import { GRAPH, startTestEmulator } from "./helpers.ts";

const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";
const AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const GRAPH_APP = "00000003-0000-0000-c000-000000000000";

let emu: RunningEmulator;
let refreshToken: string;

before(async () => {
  emu = await startTestEmulator({
    seed: {
      ...defaultSeed,
      generatedCustomers: { partner: PARTNER, count: 120, withoutAccess: 3 },
    },
  });
  // The first refresh token from a password sign-in; partner-token's library does the rest.
  const res = await fetch(`${emu.url}/${PARTNER}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      client_id: AZURE_CLI,
      grant_type: "password",
      username: emu.info.user.username,
      password: emu.info.user.password,
      scope: `${GRAPH}/.default offline_access`,
    }),
  });
  assert.equal(res.status, 200);
  refreshToken = ((await res.json()) as { refresh_token: string }).refresh_token;
});
after(() => emu.close());

/** A Graph token in `tenant` through partner-token's refresh-token flow. */
async function tokenFor(tenant: string): Promise<string> {
  const result = await acquireTokenByRefreshToken({
    clientId: AZURE_CLI,
    refreshToken,
    scopes: [`${GRAPH}/.default`],
    tenant,
    authorityHost: emu.url,
    caFile: emu.caFile!,
  });
  if (result.refreshToken) refreshToken = result.refreshToken;
  return result.accessToken;
}

/** Microsoft's client, pointed at the emulator as at a national cloud's Graph. */
function client(token: string): Client {
  return Client.init({
    baseUrl: `${emu.url}/`,
    defaultVersion: "v1.0",
    customHosts: new Set([new URL(emu.url).hostname]),
    authProvider: (done) => done(null, token),
  });
}

test("PageIterator pages through every GDAP relationship; access assignments name the group", async () => {
  const graph = client(await tokenFor(PARTNER));
  const first = await graph.api("/tenantRelationships/delegatedAdminRelationships").top(50).get();
  const seen: any[] = [];
  const iterator = new PageIterator(graph, first, (r) => {
    seen.push(r);
    return true;
  });
  await iterator.iterate();
  // 3 named customers + 120 generated, 3 of those without a relationship.
  assert.equal(seen.length, 120);
  assert.equal(new Set(seen.map((r) => r.id)).size, 120);
  assert.ok(seen.every((r) => r.status === "active" && r.customer.tenantId));

  const filtered = await graph
    .api("/tenantRelationships/delegatedAdminRelationships")
    .filter(`customer/tenantId eq '${seen[7].customer.tenantId}'`)
    .select(["id", "status", "customer"])
    .get();
  assert.equal(filtered.value.length, 1);
  const assignments = await graph
    .api(
      `/tenantRelationships/delegatedAdminRelationships/${filtered.value[0].id}/accessAssignments`,
    )
    .get();
  const container = assignments.value[0].accessContainer;
  assert.equal(container.accessContainerType, "securityGroup");
  const group = await graph.api(`/groups/${container.accessContainerId}`).get();
  assert.equal(group.displayName, "GDAP Administrators");
  const memberOf = await graph.api("/me/transitiveMemberOf").get();
  assert.ok(memberOf.value.some((g: any) => g.id === container.accessContainerId));
});

test("in a customer tenant: service principals (paged, filtered) and the app's grants", async () => {
  const customer = emu.info.customers.find((c) => c.domain === "fabrikam.onmicrosoft.com")!;
  const graph = client(await tokenFor(customer.id));
  const first = await graph.api("/servicePrincipals").top(3).get();
  const all: any[] = [];
  await new PageIterator(graph, first, (sp) => {
    all.push(sp);
    return true;
  }).iterate();
  assert.ok(all.length > 3, "more than one page");
  assert.ok(all.some((sp) => sp.appId === GRAPH_APP));
  const app = emu.info.apps.confidential.clientId;
  const sp = await graph.api(`/servicePrincipals(appId='${app}')`).get();
  const grants = await graph.api(`/servicePrincipals/${sp.id}/oauth2PermissionGrants`).get();
  assert.ok(grants.value.length >= 1);
  assert.ok(
    grants.value.every((g: any) => g.clientId === sp.id && g.consentType === "AllPrincipals"),
  );
  const byFilter = await graph
    .api("/oauth2PermissionGrants")
    .filter(`clientId eq '${sp.id}'`)
    .get();
  assert.deepEqual(
    byFilter.value.map((g: any) => g.id).sort(),
    grants.value.map((g: any) => g.id).sort(),
  );
});

test("Graph's errors reach the SDK as GraphError with code, status and request id", async () => {
  const graph = client(await tokenFor(PARTNER));
  await assert.rejects(
    graph.api("/servicePrincipals/00000000-0000-0000-0000-000000000000").get(),
    (e: unknown) =>
      e instanceof GraphError &&
      e.statusCode === 404 &&
      e.code === "Request_ResourceNotFound" &&
      typeof e.requestId === "string" &&
      e.requestId.length > 0,
  );
  const expired = client("eyJhbGciOiJSUzI1NiJ9.e30.AAAA");
  await assert.rejects(
    expired.api("/me").get(),
    (e: unknown) =>
      e instanceof GraphError && e.statusCode === 401 && e.code === "InvalidAuthenticationToken",
  );
});
