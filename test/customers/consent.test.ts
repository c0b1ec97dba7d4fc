/**
 * consentCustomers over HTTP: Partner Center's application consent (a local server in its shapes,
 * with the directory of test/graph/fake-directory.ts behind it) creates the consent where it is
 * missing, counts "Permission entry already exists." as done, proves each with a fresh token,
 * explains a 403, retries a 429, and changes nothing when run again.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  consentCustomers,
  defaultGrants,
  parseGrant,
  DEFAULT_CONSENT_GRANTS,
  type CustomerConsent,
} from "../../src/customers/consent.ts";
import { GraphClient } from "../../src/graph/client.ts";
import { PartnerCenterClient } from "../../src/partner-center/client.ts";
import { APP, GRAPH_APP, startFakeGraph, type FakeGraph } from "../graph/fake-directory.ts";

describe("consentCustomers", () => {
  let g: FakeGraph;
  before(
    async () =>
      (g = await startFakeGraph({
        userGroups: [],
        relationships: [],
        consent: new Map([["c-ok", ["User.Read"]]]),
        refuse: new Map([
          ["c-a", 65001],
          ["c-b", 65001],
          ["c-forbidden", 65001],
          ["c-noaccess", 50020],
        ]),
        amr: ["pwd", "mfa"],
        faults: [],
        consentForbidden: new Set(["c-forbidden"]),
      })),
  );
  after(() => g.close());

  const run = async (customers: string[]) => {
    const partnerCenter = new PartnerCenterClient({
      source: g.source,
      endpoint: g.origin,
      retries: 2,
    });
    const out = new Map<string, CustomerConsent>();
    for await (const r of consentCustomers(g.source, {
      partnerCenter,
      applicationId: APP,
      customers,
      grants: [{ resourceAppId: GRAPH_APP, scopes: ["Directory.Read.All", "User.Read"] }],
    }))
      out.set(r.tenantId, r);
    return out;
  };

  it("consents where missing, with comma-separated scopes, each proven by a fresh token", async () => {
    g.dir.faults = [{ match: /applicationconsents$/, status: 429, retryAfter: "1", times: 1 }];
    const r = await run(["c-a", "c-b", "c-ok", "c-a"]);
    assert.equal(r.size, 3);
    assert.deepEqual(
      [...r.values()].map((x) => [x.tenantId, x.status, x.action, x.verified]).sort(),
      [
        ["c-a", "ok", "consented", true],
        ["c-b", "ok", "consented", true],
        ["c-ok", "ok", "already-consented", true],
      ],
    );
    const body = g.dir.consentBodies!.find((b) => b.tenant === "c-a")!.body;
    assert.deepEqual(body, {
      applicationId: APP,
      applicationGrants: [
        { enterpriseApplicationId: GRAPH_APP, scope: "Directory.Read.All,User.Read" },
      ],
    });
    const proofs = g.source.asked.filter((a) => a.tenant === "c-a" && a.forceRefresh);
    assert.equal(proofs.length, 1);
  });

  it("a second run changes nothing: every customer already consented", async () => {
    const before = new Map(g.dir.consent);
    const r = await run(["c-a", "c-b"]);
    assert.deepEqual(
      [...r.values()].map((x) => x.action),
      ["already-consented", "already-consented"],
    );
    assert.deepEqual(g.dir.consent, before);
  });

  it("a 403 is explained (AdminAgents, the GDAP roles); a tenant still refusing the token is verify-failed", async () => {
    const r = await run(["c-forbidden", "c-noaccess"]);
    const forbidden = r.get("c-forbidden")!;
    assert.equal(forbidden.status, "error");
    assert.equal(forbidden.action, "failed");
    assert.equal(forbidden.error?.code, "consent-forbidden");
    assert.equal(forbidden.error?.status, 403);
    assert.match(forbidden.error!.fix, /AdminAgents.*Cloud Application Administrator/);
    const noAccess = r.get("c-noaccess")!;
    assert.equal(noAccess.action, "consented");
    assert.equal(noAccess.verified, false);
    assert.equal(noAccess.error?.code, "verify-failed");
    assert.match(noAccess.error!.message, /AADSTS50020/);
    assert.match(noAccess.error!.fix, /GDAP/);
  });

  it("a throttled proving token is waited out; Partner Center's 429 that persists is consent-throttled", async () => {
    g.dir.refuse.set("c-c", 65001);
    g.dir.throttleOnce = new Set(["c-c"]);
    let r = await run(["c-c"]);
    assert.equal(r.get("c-c")!.status, "ok", JSON.stringify(r.get("c-c")));
    assert.equal(r.get("c-c")!.verified, true);
    assert.equal(g.dir.throttleOnce.size, 0, "the 429 was met");
    g.dir.refuse.set("c-d", 65001);
    g.dir.faults = [{ match: /applicationconsents$/, status: 429, retryAfter: "1", times: 10 }];
    try {
      r = await run(["c-d"]);
    } finally {
      g.dir.faults = [];
    }
    assert.equal(r.get("c-d")!.status, "error");
    assert.equal(r.get("c-d")!.error?.code, "consent-throttled");
    assert.equal(r.get("c-d")!.error?.status, 429);
    assert.equal(g.dir.consent.has("c-d"), false, "nothing half-done");
  });

  it("default grants: the app's own consent in the partner tenant, else the stated defaults", async () => {
    const graph = new GraphClient({ source: g.source, endpoint: g.origin });
    // The partner tenant's token carries tenant "" in this directory: no consent there.
    assert.deepEqual(await defaultGrants(graph, APP), {
      grants: DEFAULT_CONSENT_GRANTS.map((x) => ({ ...x })),
      from: "defaults",
    });
    // The partner-only GDAP scope of the partner's own consent is left out.
    g.dir.consent.set("", [
      "Directory.Read.All",
      "DelegatedAdminRelationship.Read.All",
      "Mail.Read",
    ]);
    assert.deepEqual(await defaultGrants(graph, APP), {
      grants: [{ resourceAppId: GRAPH_APP, scopes: ["Directory.Read.All", "Mail.Read"] }],
      from: "partner-tenant",
    });
  });

  it("parses --grant values and refuses malformed ones", () => {
    assert.deepEqual(parseGrant("graph=User.Read,Directory.Read.All"), {
      resourceAppId: GRAPH_APP,
      scopes: ["User.Read", "Directory.Read.All"],
    });
    assert.throws(() => parseGrant("graph"), /RESOURCE=SCOPE/);
    assert.throws(() => parseGrant("not-a-guid=User.Read"), /RESOURCE=SCOPE/);
  });
});
