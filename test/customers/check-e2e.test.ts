/**
 * The proof of `customers check` and `customers consent` end to end, as separate processes over a
 * session made with `connect`, against the emulator's Graph, Partner Center and token endpoint
 * deciding from its directory model: generated customers without a relationship, with an expired
 * one, whose group does not hold the user, without consent, with a relationship about to end.
 * `customers tokens` fails exactly those; `check` names the right problem for each; `consent
 * --from` repairs exactly the consent ones (a 403 explained where the user's GDAP role does not
 * allow it); `tokens --resume` then succeeds for them and still fails the others; the user outside
 * AdminAgents is `not-admin-agent`; Graph and Partner Center faults are retried, then explained;
 * the relationship passing its end date on the emulator's clock moves warning → error.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { defaultSeed, startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { runCli, tempDir } from "../cli/helpers.ts";
import { connectDevice, sessionEnv, type SessionEnv } from "../session/helpers.ts";
import { GRAPH, PARTNER } from "./helpers.ts";

const GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

let emu: RunningEmulator;
let env: SessionEnv;
let dir: string;
/** Tenant ids by what the seed made of them. */
const kinds = new Map<string, string[]>();
const of = (kind: string) => kinds.get(kind) ?? [];

before(async () => {
  emu = await startEmulator({
    port: 0,
    dataDir: await mkdtemp(join(tmpdir(), "pt-access-")),
    log: () => {},
    autoApprove: true,
    seed: {
      ...defaultSeed,
      relationships: [],
      settings: { deviceCodeIntervalSeconds: 1 },
      generatedCustomers: {
        partner: PARTNER,
        count: 14,
        withoutAccess: 2,
        withoutConsent: 3,
        expiredRelationship: 2,
        groupWithoutUser: 2,
        expiringRelationship: 2,
        expiringInDays: 10,
      },
    },
  });
  for (const c of emu.customers()) kinds.set(c.kind, [...(kinds.get(c.kind) ?? []), c.id]);
  assert.equal(of("normal").length, 3);
  env = await sessionEnv();
  await connectDevice(emu, env);
  dir = await tempDir("pt-access-");
});
after(() => emu.close());

const jsonLines = async (path: string) =>
  (await readFile(path, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, any>);
const byTenant = (lines: Record<string, any>[]) => new Map(lines.map((l) => [l.tenantId, l]));
const sorted = (ids: Iterable<string>) => [...ids].sort();
const cli = (args: string[]) => runCli(args, { env, timeoutMs: 180_000 });
/** A customer's problem codes without the session-wide MFA warning (auto-approved sign-ins are not MFA). */
const codes = (line: Record<string, any>) =>
  (line.problems as { code: string }[]).map((p) => p.code).filter((c) => c !== "mfa-missing");

test("tokens fails exactly the broken customers; check names each one's problem; consent --from repairs exactly the consent ones; tokens --resume", async () => {
  const tokensFile = join(dir, "tokens.jsonl");
  const checkFile = join(dir, "check.jsonl");
  // One consent-less customer whose user holds only Global Reader there: consent is refused (403).
  const readerOnly = of("withoutConsent")[0]!;
  emu.setRelationship({
    customer: readerOnly,
    group: "GDAP Administrators",
    roles: [GLOBAL_READER],
  });

  const tokens = await cli(["customers", "tokens", "--scopes", GRAPH, "--out", tokensFile]);
  assert.equal(tokens.code, 1, tokens.stderr);
  const first = byTenant(await jsonLines(tokensFile));
  const noAccess = [
    ...of("withoutAccess"),
    ...of("expiredRelationship"),
    ...of("groupWithoutUser"),
  ];
  assert.deepEqual(
    sorted([...first.values()].filter((l) => l.status === "error").map((l) => l.tenantId)),
    sorted([...noAccess, ...of("withoutConsent")]),
  );
  for (const t of noAccess) assert.equal(first.get(t)!.error.code, "AADSTS50020", t);
  for (const t of of("withoutConsent")) assert.equal(first.get(t)!.error.code, "AADSTS65001", t);

  const check = await cli(["customers", "check", "--out", checkFile]);
  assert.equal(check.code, 1, check.stderr);
  const diagnosed = byTenant(await jsonLines(checkFile));
  assert.equal(diagnosed.size, 14);
  const expected: Record<string, string[]> = {
    normal: [],
    withoutAccess: ["gdap-no-active-relationship"],
    expiredRelationship: ["gdap-no-active-relationship"],
    groupWithoutUser: ["gdap-user-not-in-group"],
    withoutConsent: ["consent-missing"],
    expiringRelationship: ["gdap-relationship-expiring"],
  };
  for (const [kind, tenants] of kinds)
    for (const t of tenants) {
      const want = t === readerOnly ? ["consent-missing", "gdap-missing-role"] : expected[kind]!;
      assert.deepEqual(codes(diagnosed.get(t)!), want, `${kind} ${t}`);
      for (const p of diagnosed.get(t)!.problems) assert.ok(p.fix, `${t} ${p.code} has a fix`);
    }
  for (const t of of("expiredRelationship"))
    assert.match(diagnosed.get(t)!.problems[0].message, /is expired since/);
  for (const t of of("expiringRelationship")) {
    const r = diagnosed.get(t)!.gdap.relationships[0];
    assert.equal(r.autoExtend, false);
    assert.ok(r.daysLeft <= 10 && r.daysLeft >= 9, `days left ${r.daysLeft}`);
  }
  const ok = diagnosed.get(of("normal")[0]!)!;
  assert.equal(ok.access.adminAgent, true);
  assert.equal(ok.access.inGroup, true);
  assert.equal(ok.token.status, "ok");
  assert.equal(typeof ok.mfa, "boolean");
  assert.match(check.stderr, /14 customers checked/);

  // Partner Center throttles once: retried after its Retry-After.
  emu.injectFault({ path: "/v1/customers/", method: "POST", status: 429, retryAfter: 1, count: 1 });
  const consent = await cli(["customers", "consent", "--from", checkFile]);
  assert.equal(consent.code, 1, consent.stderr);
  const repaired = byTenant(
    consent.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l)),
  );
  assert.deepEqual(
    sorted(repaired.keys()),
    sorted(of("withoutConsent")),
    "exactly the consent ones",
  );
  for (const t of of("withoutConsent")) {
    const r = repaired.get(t)!;
    if (t === readerOnly) {
      assert.equal(r.status, "error");
      assert.equal(r.error.code, "consent-forbidden");
      assert.equal(r.error.status, 403);
      assert.match(r.error.fix, /Cloud Application Administrator/);
    } else {
      assert.equal(r.status, "ok", JSON.stringify(r));
      assert.equal(r.action, "consented");
      assert.equal(r.verified, true);
    }
  }
  assert.ok(
    emu.requests().filter((e) => e.path.includes("/applicationconsents") && e.status === 429)
      .length >= 1,
    "the 429 was met",
  );

  // Again: nothing changes; what was consented is "already" there.
  const again = await cli(["customers", "consent", "--from", checkFile]);
  for (const line of again.stdout.split("\n").filter((l) => l !== "")) {
    const r = JSON.parse(line);
    if (r.tenantId === readerOnly) assert.equal(r.error.code, "consent-forbidden");
    else assert.equal(r.action, "already-consented", line);
  }

  const resumed = await cli([
    "customers",
    "tokens",
    "--scopes",
    GRAPH,
    "--out",
    tokensFile,
    "--resume",
  ]);
  assert.equal(resumed.code, 1, resumed.stderr);
  const now = byTenant(await jsonLines(tokensFile));
  assert.deepEqual(
    sorted([...now.values()].filter((l) => l.status === "error").map((l) => l.tenantId)),
    sorted([...noAccess, readerOnly]),
  );
  for (const t of noAccess) assert.equal(now.get(t)!.error.code, "AADSTS50020", t);
  assert.equal(now.get(readerOnly)!.error.code, "AADSTS65001");
});

test("a user outside AdminAgents is not-admin-agent, not 'no relationship'", async () => {
  const user = emu.info.user.username;
  const normal = of("normal")[1]!;
  emu.setGroupMember({ group: "AdminAgents", user, member: false });
  try {
    const r = await cli(["customers", "check", "--customer", normal]);
    assert.equal(r.code, 1, r.stderr);
    const line = JSON.parse(r.stdout);
    assert.deepEqual(codes(line), ["not-admin-agent"]);
    assert.equal(line.access.adminAgent, false);
  } finally {
    emu.setGroupMember({ group: "AdminAgents", user, member: true });
  }
  const back = await cli(["customers", "check", "--customer", normal]);
  assert.deepEqual(codes(JSON.parse(back.stdout)), []);
});

test("Graph 429 is retried; Graph 5xx that persists is that customer's graph-failed", async () => {
  const normal = of("normal")[2]!;
  emu.injectFault({
    path: "/v1.0/tenantRelationships/delegatedAdminRelationships",
    status: 429,
    retryAfter: 1,
    count: 1,
  });
  const retried = await cli(["customers", "check", "--customer", normal]);
  assert.deepEqual(codes(JSON.parse(retried.stdout)), [], retried.stderr);
  emu.injectFault({ path: "/v1.0/servicePrincipals", status: 503, count: 50 });
  try {
    const failed = await cli(["customers", "check", "--customer", normal]);
    assert.equal(failed.code, 1);
    const line = JSON.parse(failed.stdout);
    assert.deepEqual(codes(line), ["graph-failed"]);
    assert.match(line.problems[0].message, /HTTP 503/);
  } finally {
    emu.clearFaults();
  }
});

test("Partner Center's MFA rule: consent without an MFA sign-in is consent-mfa-required", async () => {
  emu.setPartnerCenter({ requireMfa: true });
  try {
    const r = await cli(["customers", "consent", "--customer", of("withoutConsent")[1]!]);
    assert.equal(r.code, 1, r.stderr);
    const line = JSON.parse(r.stdout);
    assert.equal(line.error.code, "consent-mfa-required");
    assert.equal(line.error.status, 401);
    assert.match(line.error.fix, /partner-token connect/);
  } finally {
    emu.setPartnerCenter({ requireMfa: false });
  }
});

test("table output; the relationship passing its end date on the clock moves warning → error", async () => {
  const expiring = of("expiringRelationship");
  const table = await cli(["customers", "check", "--customer", ...expiring, "-o", "table"]);
  assert.equal(table.code, 3, table.stderr);
  for (const t of expiring)
    assert.match(table.stdout, new RegExp(`${t}.*warning.*gdap-relationship-expiring`));
  emu.advanceClock(11 * 86_400);
  const later = await cli(["customers", "check", "--customer", ...expiring]);
  assert.equal(later.code, 1, later.stderr);
  for (const line of later.stdout.split("\n").filter((l) => l !== "")) {
    const c = JSON.parse(line);
    assert.equal(c.status, "error");
    assert.deepEqual(codes(c), ["gdap-no-active-relationship"]);
    assert.equal(c.gdap.relationships[0].status, "expired");
  }
});
