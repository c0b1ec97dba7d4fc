/**
 * checkCustomers over HTTP against a directory in Graph's shapes (test/graph/fake-directory.ts):
 * each kind of broken access is named by its problem code, the relationship list of a user outside
 * AdminAgents is not read as "no GDAP", the end date on the clock moves warning → error, and Graph
 * faults are retried or end as a per-customer graph-failed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkCustomers, mapConcurrent, type CustomerCheck } from "../../src/customers/check.ts";
import { GraphClient } from "../../src/graph/client.ts";
import {
  APP,
  CLOUD_APP_ADMIN,
  GA,
  GLOBAL_READER,
  GRAPH_APP,
  startFakeGraph,
  type FakeDirectory,
  type FakeGraph,
} from "../graph/fake-directory.ts";

const NOW = new Date("2026-12-01T00:00:00Z");
const day = (n: number) => new Date(NOW.getTime() + n * 86_400_000).toISOString();
const GDAP_GROUP = "aaaaaaaa-0000-0000-0000-000000000001";
const OTHER_GROUP = "aaaaaaaa-0000-0000-0000-000000000002";

function directory(): FakeDirectory {
  const rel = (customer: string, over: Partial<FakeDirectory["relationships"][number]> = {}) => ({
    id: `rel-${customer}`,
    customer,
    status: "active",
    endDateTime: day(400),
    autoExtendDuration: "P180D" as const,
    roles: [GA, CLOUD_APP_ADMIN],
    assignments: [{ group: GDAP_GROUP, roles: [CLOUD_APP_ADMIN] }],
    ...over,
  });
  return {
    userGroups: [
      { id: "aaaaaaaa-0000-0000-0000-0000000000aa", displayName: "AdminAgents" },
      { id: GDAP_GROUP, displayName: "GDAP Operators" },
    ],
    relationships: [
      rel("c-ok"),
      rel("c-expired", { status: "expired", endDateTime: day(-3) }),
      rel("c-nogroup", { assignments: [{ group: OTHER_GROUP, roles: [GA] }] }),
      rel("c-noconsent"),
      rel("c-scopes"),
      rel("c-expiring", { endDateTime: day(10), autoExtendDuration: "PT0S" }),
      rel("c-reader", { assignments: [{ group: GDAP_GROUP, roles: [GLOBAL_READER] }] }),
      rel("c-preauthorised"),
    ],
    consent: new Map([
      ["c-ok", ["Directory.Read.All", "User.Read"]],
      ["c-scopes", ["User.Read"]],
      ["c-expiring", ["Directory.Read.All", "User.Read"]],
    ]),
    refuse: new Map([
      ["c-norel", 50020],
      ["c-expired", 50020],
      ["c-nogroup", 50020],
      ["c-noconsent", 65001],
      ["c-reader", 65001],
    ]),
    amr: ["pwd", "mfa"],
    faults: [],
  };
}

const ALL = [
  "c-ok",
  "c-norel",
  "c-expired",
  "c-nogroup",
  "c-noconsent",
  "c-scopes",
  "c-expiring",
  "c-reader",
  "c-preauthorised",
];

async function run(g: FakeGraph, customers = ALL, now = NOW): Promise<Map<string, CustomerCheck>> {
  const graph = new GraphClient({ source: g.source, endpoint: g.origin, retries: 2 });
  const out = new Map<string, CustomerCheck>();
  for await (const c of checkCustomers(g.source, {
    graph,
    applicationId: APP,
    customers,
    now: () => now,
    requiredGrants: [{ resourceAppId: GRAPH_APP, scopes: ["Directory.Read.All", "User.Read"] }],
    concurrency: 4,
  }))
    out.set(c.tenantId, c);
  return out;
}

const codes = (c: CustomerCheck | undefined) => c?.problems.map((p) => p.code);

describe("checkCustomers", () => {
  let g: FakeGraph;
  before(async () => (g = await startFakeGraph(directory())));
  after(() => g.close());

  it("names the right problem for each customer, each with a fix", async () => {
    const r = await run(g);
    assert.equal(r.size, ALL.length);
    assert.deepEqual(codes(r.get("c-ok")), []);
    assert.equal(r.get("c-ok")!.status, "ok");
    assert.deepEqual(r.get("c-ok")!.access, {
      adminAgent: true,
      inGroup: true,
      groups: ["GDAP Operators"],
      roles: ["Cloud Application Administrator"],
    });
    assert.deepEqual(r.get("c-ok")!.consent?.missing, []);
    assert.equal(r.get("c-ok")!.mfa, true);
    assert.equal(r.get("c-ok")!.gdap!.relationships[0]!.daysLeft, 400);
    assert.deepEqual(codes(r.get("c-norel")), ["gdap-no-active-relationship"]);
    assert.deepEqual(codes(r.get("c-expired")), ["gdap-no-active-relationship"]);
    assert.match(r.get("c-expired")!.problems[0]!.message, /'GDAP c-expired' is expired since/);
    assert.deepEqual(codes(r.get("c-nogroup")), ["gdap-user-not-in-group"]);
    assert.match(r.get("c-nogroup")!.problems[0]!.message, new RegExp(OTHER_GROUP));
    assert.deepEqual(codes(r.get("c-noconsent")), ["consent-missing"]);
    assert.match(
      r.get("c-noconsent")!.problems[0]!.fix,
      /partner-token customers consent --customer c-noconsent/,
    );
    assert.deepEqual(codes(r.get("c-scopes")), ["consent-scopes-missing"]);
    assert.match(
      r.get("c-scopes")!.problems[0]!.message,
      /00000003-0000-0000-c000-000000000000\/Directory\.Read\.All/,
    );
    assert.deepEqual(codes(r.get("c-expiring")), ["gdap-relationship-expiring"]);
    assert.equal(r.get("c-expiring")!.status, "warning");
    assert.deepEqual(codes(r.get("c-reader")), ["consent-missing", "gdap-missing-role"]);
    // No service principal, yet a token: an app Microsoft pre-authorises (the Azure CLI).
    assert.deepEqual(codes(r.get("c-preauthorised")), []);
    assert.equal(r.get("c-preauthorised")!.consent?.servicePrincipal, false);
    for (const c of r.values()) {
      assert.equal(
        c.status,
        c.problems.some((p) => p.severity === "error")
          ? "error"
          : c.problems.length
            ? "warning"
            : "ok",
      );
      for (const p of c.problems) assert.ok(p.fix.length > 20, `${c.tenantId} ${p.code} has a fix`);
    }
  });

  it("the relationship passing its end date on the clock moves warning → error", async () => {
    const later = new Date(NOW.getTime() + 11 * 86_400_000);
    g.dir.relationships.find((r) => r.customer === "c-expiring")!.status = "expired";
    g.dir.refuse.set("c-expiring", 50020);
    try {
      const r = await run(g, ["c-expiring"], later);
      assert.equal(r.get("c-expiring")!.status, "error");
      assert.deepEqual(codes(r.get("c-expiring")), ["gdap-no-active-relationship"]);
    } finally {
      g.dir.relationships.find((r) => r.customer === "c-expiring")!.status = "active";
      g.dir.refuse.delete("c-expiring");
    }
  });

  it("a user outside AdminAgents: not-admin-agent, not 'no GDAP'", async () => {
    const saved = g.dir.userGroups;
    g.dir.userGroups = saved.filter((x) => x.displayName !== "AdminAgents");
    try {
      const r = await run(g, ["c-ok", "c-norel"]);
      assert.deepEqual(codes(r.get("c-ok")), ["not-admin-agent"]);
      assert.deepEqual(codes(r.get("c-norel")), ["not-admin-agent"]);
      assert.equal(r.get("c-ok")!.access?.adminAgent, false);
    } finally {
      g.dir.userGroups = saved;
    }
  });

  it("a sign-in without MFA is a warning on every customer", async () => {
    g.dir.amr = ["pwd"];
    try {
      const r = await run(g, ["c-ok"]);
      assert.deepEqual(codes(r.get("c-ok")), ["mfa-missing"]);
      assert.equal(r.get("c-ok")!.status, "warning");
      assert.equal(r.get("c-ok")!.mfa, false);
    } finally {
      g.dir.amr = ["pwd", "mfa"];
    }
  });

  it("Graph 429 and 5xx are retried; a 403 on the relationships is a graph-failed error with its fix", async () => {
    g.dir.faults = [
      { match: /delegatedAdminRelationships$/, status: 429, retryAfter: "1", times: 1 },
      { match: /oauth2PermissionGrants$/, status: 503, times: 1 },
    ];
    let r = await run(g, ["c-ok"]);
    assert.deepEqual(codes(r.get("c-ok")), []);
    g.dir.faults = [{ match: /delegatedAdminRelationships$/, status: 403, times: 1 }];
    r = await run(g, ["c-ok"]);
    assert.deepEqual(codes(r.get("c-ok")), ["graph-failed"]);
    assert.match(r.get("c-ok")!.problems[0]!.fix, /DelegatedAdminRelationship\.Read\.All/);
    assert.equal(r.get("c-ok")!.gdap, null);
    g.dir.faults = [];
  });

  it("a token failure nothing else explains is token-failed with the hint", async () => {
    g.dir.refuse.set("c-ok", 53003);
    try {
      const r = await run(g, ["c-ok"]);
      assert.deepEqual(codes(r.get("c-ok")), ["token-failed"]);
      assert.match(r.get("c-ok")!.problems[0]!.fix, /Conditional Access/);
    } finally {
      g.dir.refuse.delete("c-ok");
    }
  });
});

describe("mapConcurrent", () => {
  it("hands on finished work while the input is still waiting, at most `limit` at once", async () => {
    let inFlight = 0;
    let most = 0;
    const events: string[] = [];
    async function* slowInput() {
      for (const n of [1, 2, 3, 4]) {
        await new Promise((r) => setTimeout(r, n === 4 ? 300 : 0));
        events.push(`in ${n}`);
        yield n;
      }
    }
    const out: number[] = [];
    for await (const r of mapConcurrent(slowInput(), 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return n * 10;
    })) {
      out.push(r);
      events.push(`out ${r}`);
    }
    assert.deepEqual(
      out.sort((a, b) => a - b),
      [10, 20, 30, 40],
    );
    assert.ok(most <= 2, `at most 2 at once, saw ${most}`);
    assert.ok(events.indexOf("out 30") < events.indexOf("in 4"), events.join(", "));
  });
});
