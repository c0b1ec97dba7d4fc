/**
 * The token endpoint decides from the directory model: a partner user reaches a customer only
 * through an active GDAP relationship whose group holds them (AADSTS50020 otherwise), and an app
 * only where its service principal holds a grant (AADSTS65001; AADSTS700016 for client
 * credentials and single-tenant apps). Relationships run on the emulator's clock; the control
 * API changes groups and relationships at run time.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { defaultSeed, parseSeed, SeedError } from "../../src/emulator/index.ts";
import { aadsts, advance, Harness } from "./harness.ts";
import { GRAPH, PARTNER, customerToken, graph, refreshToken, userToken } from "./graph-helpers.ts";

let h: Harness;
let rt: string;
type Kind =
  | "normal"
  | "withoutAccess"
  | "withoutConsent"
  | "expiredRelationship"
  | "groupWithoutUser"
  | "expiringRelationship";
let kinds: Map<Kind, string[]>;

const REL = "/v1.0/tenantRelationships/delegatedAdminRelationships";

before(async () => {
  h = await Harness.start({
    seed: {
      ...defaultSeed,
      relationships: [],
      generatedCustomers: {
        partner: PARTNER,
        count: 12,
        withoutAccess: 1,
        withoutConsent: 2,
        expiredRelationship: 1,
        groupWithoutUser: 1,
        expiringRelationship: 1,
        expiringInDays: 10,
      },
    },
  });
  rt = await refreshToken(h);
  kinds = new Map();
  for (const c of h.emu.customers())
    kinds.set(c.kind as Kind, [...(kinds.get(c.kind as Kind) ?? []), c.id]);
});
after(() => h.close());

const one = (k: Kind) => kinds.get(k)![0]!;

async function outcome(tenant: string, client?: string, token = rt): Promise<string> {
  const res = await customerToken(h, tenant, token, {}, client);
  if (res.status === 200) return "ok";
  return `AADSTS${aadsts(res.json)}`;
}

test("the control API lists what the seed made of each customer", () => {
  const count = (k: Kind) => kinds.get(k)?.length ?? 0;
  assert.equal(count("normal"), 6);
  assert.equal(count("withoutAccess"), 1);
  assert.equal(count("withoutConsent"), 2);
  assert.equal(count("expiredRelationship"), 1);
  assert.equal(count("groupWithoutUser"), 1);
  assert.equal(count("expiringRelationship"), 1);
});

test("each kind of customer answers the refresh grant as Entra would", async () => {
  assert.equal(await outcome(one("normal")), "ok");
  assert.equal(await outcome(one("expiringRelationship")), "ok");
  const noAccess = await customerToken(h, one("withoutAccess"), rt);
  assert.equal(aadsts(noAccess.json), 50020);
  assert.match(
    noAccess.json.error_description,
    /User account '.+' from identity provider does not exist in tenant '.+' and cannot access the application/,
  );
  assert.equal(await outcome(one("expiredRelationship")), "AADSTS50020");
  assert.equal(await outcome(one("groupWithoutUser")), "AADSTS50020");
  const noConsent = await customerToken(h, one("withoutConsent"), rt);
  assert.equal(aadsts(noConsent.json), 65001);
  assert.equal(noConsent.json.suberror, "consent_required");
});

test("the partner's SAM apps are consented in generated customers; without consent, 65001 delegated and 700016 app-only", async () => {
  const confidential = h.info.apps.confidential;
  const samRt = (
    await h.token(PARTNER, {
      ...h.confidential(),
      grant_type: "password",
      username: h.info.user.username,
      password: h.info.user.password,
      scope: `${GRAPH}/.default offline_access`,
    })
  ).json.refresh_token as string;
  const ok = await h.token(one("normal"), {
    ...h.confidential(),
    grant_type: "refresh_token",
    refresh_token: samRt,
    scope: `${GRAPH}/.default`,
  });
  assert.equal(ok.status, 200, ok.text);
  const claims = await h.verify(ok.json.access_token, one("normal"));
  // A customer's consent holds the app's scopes, not the partner-only GDAP one.
  assert.equal(claims["scp"], "User.Read Directory.Read.All Directory.AccessAsUser.All");
  const refused = await h.token(one("withoutConsent"), {
    ...h.confidential(),
    grant_type: "refresh_token",
    refresh_token: samRt,
    scope: `${GRAPH}/.default`,
  });
  assert.equal(aadsts(refused.json), 65001);
  const appOnly = await h.credentials(one("withoutConsent"));
  assert.equal(aadsts(appOnly.json), 700016);
  assert.equal((await h.credentials(one("normal"))).status, 200);
  assert.ok(confidential.clientId);
});

test("a relationship passes its end date on the emulator's clock: expiring → expired → AADSTS50020; auto-extend adds 180 days", async () => {
  const token = await userToken(h);
  const expiring = one("expiringRelationship");
  const normal = one("normal");
  const relOf = async (tenant: string) =>
    (
      await graph(
        h,
        await userToken(h),
        `${REL}?$filter=${encodeURIComponent(`customer/tenantId eq '${tenant}'`)}`,
      )
    ).json.value[0];
  const before = await relOf(expiring);
  assert.equal(before.status, "active");
  assert.equal(before.autoExtendDuration, "PT0S");
  const normalBefore = await relOf(normal);
  assert.ok(token);
  advance(h, 11 * 86_400);
  const rt2 = await refreshToken(h);
  const after = await relOf(expiring);
  assert.equal(after.status, "expired");
  assert.equal(await outcome(expiring, undefined, rt2), "AADSTS50020");
  // The default relationship ends 700 days from now; 720 days on, it has auto-extended.
  advance(h, 710 * 86_400);
  const rt3 = await refreshToken(h);
  const normalAfter = await relOf(normal);
  assert.equal(normalAfter.status, "active");
  assert.equal(
    Date.parse(normalAfter.endDateTime) - Date.parse(normalBefore.endDateTime),
    180 * 86_400_000,
  );
  assert.equal(await outcome(normal, undefined, rt3), "ok");
  rt = rt3;
});

test("the control API moves the user out of the GDAP group, and changes a relationship", async () => {
  const normal = one("normal");
  h.emu.setGroupMember({ group: "GDAP Administrators", user: h.info.user.username, member: false });
  try {
    assert.equal(await outcome(normal), "AADSTS50020");
  } finally {
    h.emu.setGroupMember({
      group: "GDAP Administrators",
      user: h.info.user.username,
      member: true,
    });
  }
  assert.equal(await outcome(normal), "ok");
  // Out of AdminAgents only: GDAP still reaches the customer (Graph's lists go empty instead).
  h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: false });
  try {
    assert.equal(await outcome(normal), "ok");
  } finally {
    h.emu.setGroupMember({ group: "AdminAgents", user: h.info.user.username, member: true });
  }
  h.emu.setRelationship({ customer: normal, group: "GDAP Helpdesk" });
  assert.equal(await outcome(normal), "AADSTS50020");
  h.emu.setRelationship({ customer: normal, group: "GDAP Administrators" });
  assert.equal(await outcome(normal), "ok");
  h.emu.setRelationship({ customer: normal, status: "terminated" });
  assert.equal(await outcome(normal), "AADSTS50020");
  h.emu.setRelationship({ customer: normal, status: "active" });
  // Back in business with its end in the past and no auto-extend: it expires at once.
  h.emu.setRelationship({ customer: normal, endsInDays: -1, autoExtend: false });
  assert.equal(await outcome(normal), "AADSTS50020");
  assert.throws(() => h.emu.setRelationship({ customer: normal, group: "No such group" }), /group/);
  // Over HTTP, a bad change is a 400 naming the field.
  const both = await h.fetch("/_emulator/relationships", {
    json: { customer: normal, id: "x", status: "active" },
  });
  assert.equal(both.status, 400);
  assert.match(both.json.message, /exactly one of id and customer/);
  const badStatus = await h.fetch("/_emulator/relationships", {
    json: { customer: normal, status: "sleeping" },
  });
  assert.equal(badStatus.status, 400);
  assert.match(badStatus.json.message, /^status: /);
  const member = await h.fetch("/_emulator/groups/members", {
    json: { group: "AdminAgents", user: h.info.user.username, member: true },
  });
  assert.equal(member.status, 200, member.text);
  const listed = await h.fetch("/_emulator/customers");
  assert.equal(listed.json.customers.length, 12);
  assert.throws(
    () => h.emu.setGroupMember({ group: "AdminAgents", user: "nobody@x", member: true }),
    /user/,
  );
});

test("a single-tenant app stays AADSTS700016 in a customer; a multi-tenant one without a service principal is AADSTS65001", async () => {
  const seed = structuredClone(defaultSeed) as any;
  seed.generatedCustomers = { partner: PARTNER, count: 1 };
  const single = "5b1e0c9a-2f3d-4e5a-8b7c-9d0e1f2a3b4c";
  seed.applications.push({
    clientId: single,
    displayName: "Contoso internal tool",
    homeTenant: PARTNER,
    signInAudience: "AzureADMyOrg",
    installedIn: [],
    publicClient: true,
    redirectUris: ["http://localhost/"],
    permissions: seed.applications[0].permissions,
  });
  const other = await Harness.start({ seed });
  try {
    const fabrikam = "fabrikam.onmicrosoft.com";
    const tokenFor = async (client: string) =>
      (
        await other.token(PARTNER, {
          client_id: client,
          grant_type: "password",
          username: other.info.user.username,
          password: other.info.user.password,
          scope: `${GRAPH}/.default offline_access`,
        })
      ).json.refresh_token as string;
    const singleRt = await tokenFor(single);
    const res = await other.token(fabrikam, {
      client_id: single,
      grant_type: "refresh_token",
      refresh_token: singleRt,
      scope: `${GRAPH}/.default`,
    });
    assert.equal(aadsts(res.json), 700016);
    // The public CLI app is multi-tenant and has a service principal in the named customers
    // only: a generated customer, which the admin reaches through GDAP, wants consent for it.
    const publicRt = await tokenFor(other.info.apps.public.clientId);
    const named = other.info.customers.find((c) => c.domain === "fabrikam.onmicrosoft.com")!.id;
    const generated = other.info.customers.find((c) => c.domain.startsWith("customer"))!.id;
    const viaPublic = (tenant: string) =>
      other.token(tenant, {
        client_id: other.info.apps.public.clientId,
        grant_type: "refresh_token",
        refresh_token: publicRt,
        scope: `${GRAPH}/.default`,
      });
    const ok = await viaPublic(named);
    assert.equal(ok.status, 200, ok.text);
    const consent = await viaPublic(generated);
    assert.equal(aadsts(consent.json), 65001, consent.text);
  } finally {
    await other.close();
  }
});

test("the seed's GDAP keys are validated, naming the key", () => {
  const bad = (extra: Record<string, unknown>) => () => parseSeed({ ...defaultSeed, ...extra });
  assert.throws(
    bad({
      delegatedAdminRelationships: [
        { partner: PARTNER, customer: "fabrikam.onmicrosoft.com", roles: ["not-a-guid"] },
      ],
    }),
    (e: unknown) =>
      e instanceof SeedError && /delegatedAdminRelationships\[0\]\.roles\[0\]/.test(e.message),
  );
  assert.throws(
    bad({
      delegatedAdminRelationships: [
        {
          partner: PARTNER,
          customer: "fabrikam.onmicrosoft.com",
          roles: ["62e90394-69f5-4237-9190-012177145e10"],
          autoExtendDuration: "P180D",
        },
      ],
    }),
    (e: unknown) =>
      e instanceof SeedError &&
      /delegatedAdminRelationships\[0\]\.autoExtendDuration: a relationship with Global Administrator cannot auto-extend/.test(
        e.message,
      ),
  );
  assert.throws(
    bad({ groups: [{ id: "x", tenant: PARTNER, displayName: "G" }] }),
    (e: unknown) => e instanceof SeedError && /groups\[0\]\.id/.test(e.message),
  );
  assert.throws(
    bad({
      generatedCustomers: { partner: PARTNER, count: 2, expiredRelationship: 2, withoutAccess: 1 },
    }),
    (e: unknown) =>
      e instanceof SeedError && /generatedCustomers: .*must not exceed count/.test(e.message),
  );
});

test("the seed's own relationships: groups by name, roles per assignment, dates relative to the start", async () => {
  const seeded = await Harness.start({
    seed: {
      ...defaultSeed,
      groups: [
        {
          id: "3f1e2d4c-5b6a-4789-90ab-cdef01234567",
          tenant: PARTNER,
          displayName: "Tier 2 support",
          members: ["mfa.admin@contoso-partner.onmicrosoft.com"],
        },
      ],
      delegatedAdminRelationships: [
        {
          partner: PARTNER,
          customer: "fabrikam.onmicrosoft.com",
          displayName: "MLT_fabrikam",
          roles: ["62e90394-69f5-4237-9190-012177145e10"],
          endsInDays: 5,
          autoExtendDuration: "PT0S",
          accessAssignments: [
            { group: "Tier 2 support", roles: ["62e90394-69f5-4237-9190-012177145e10"] },
          ],
        },
      ],
    },
  });
  try {
    const token = await userToken(seeded);
    const list = await graph(seeded, token, `${REL}?$filter=displayName eq 'MLT_fabrikam'`);
    assert.equal(list.json.value.length, 1, list.text);
    const rel = list.json.value[0];
    assert.equal(rel.autoExtendDuration, "PT0S");
    const days = (Date.parse(rel.endDateTime) - Date.now()) / 86_400_000;
    assert.ok(days > 4.9 && days < 5.1, String(days));
    // The admin is not in "Tier 2 support": Fabrikam refuses them.
    const adminRt = await refreshToken(seeded);
    const refused = await customerToken(seeded, "fabrikam.onmicrosoft.com", adminRt);
    assert.equal(aadsts(refused.json), 50020);
    await assert.rejects(
      Harness.start({
        seed: {
          ...defaultSeed,
          delegatedAdminRelationships: [
            {
              partner: PARTNER,
              customer: "fabrikam.onmicrosoft.com",
              roles: ["62e90394-69f5-4237-9190-012177145e10"],
              accessAssignments: [
                { group: "No such group", roles: ["f2ef992c-3afb-46b9-b7cf-a126ee74c451"] },
              ],
            },
          ],
        },
      }),
      (e: unknown) =>
        e instanceof SeedError &&
        /delegatedAdminRelationships\[0\]\.accessAssignments\[0\]\.group: no group 'No such group'/.test(
          e.message,
        ) &&
        /accessAssignments\[0\]\.roles\[0\]: '.+' is not one of the relationship's roles/.test(
          e.message,
        ),
    );
  } finally {
    await seeded.close();
  }
});
