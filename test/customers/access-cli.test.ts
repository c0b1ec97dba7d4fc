/**
 * `customers check` and `customers consent` as separate processes: usage errors (exit 2, the
 * message naming the flag), --help listing the problem codes, and --from picking exactly the
 * consent failures from the lines of `customers tokens` and `customers check`.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { consentFailuresIn } from "../../src/cli/customers-access.ts";
import { runCli, tempDir } from "../cli/helpers.ts";

const tokensLines = [
  { tenantId: "t-ok", status: "ok", accessToken: "x", expiresOn: "…" },
  { tenantId: "t-65001", status: "error", error: { code: "AADSTS65001", message: "m", hint: "h" } },
  {
    tenantId: "t-700016",
    status: "error",
    error: { code: "AADSTS700016", message: "m", hint: "h" },
  },
  { tenantId: "t-50020", status: "error", error: { code: "AADSTS50020", message: "m", hint: "h" } },
];
const checkLines = [
  { tenantId: "c-ok", status: "ok", problems: [] },
  {
    tenantId: "c-missing",
    status: "error",
    domain: "m.example",
    problems: [{ code: "consent-missing" }],
  },
  { tenantId: "c-scopes", status: "error", problems: [{ code: "consent-scopes-missing" }] },
  { tenantId: "c-gdap", status: "error", problems: [{ code: "gdap-no-active-relationship" }] },
];

test("--from picks exactly the consent failures of tokens and check lines (the latest line of each)", async () => {
  const dir = await tempDir();
  const file = join(dir, "mixed.jsonl");
  const later = { tenantId: "t-65001", status: "ok", accessToken: "x", expiresOn: "…" };
  await writeFile(
    file,
    [...tokensLines, ...checkLines, later].map((l) => JSON.stringify(l)).join("\n") + "\n",
  );
  const picked = await consentFailuresIn(file);
  assert.deepEqual(
    picked.map((p) => p.tenantId),
    ["t-700016", "c-missing", "c-scopes"],
  );
  assert.equal(picked[1]!.domain, "m.example");
});

test("customers consent --from with no consent failure does nothing, exit 0", async () => {
  const dir = await tempDir();
  const file = join(dir, "fine.jsonl");
  await writeFile(
    file,
    JSON.stringify(tokensLines[0]) + "\n" + JSON.stringify(checkLines[3]) + "\n",
  );
  const r = await runCli(["customers", "consent", "--from", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /no customer in .* failed for consent; nothing to do/);
});

test("usage errors name the flag, exit 2", async () => {
  const dir = await tempDir();
  const notJson = join(dir, "bad.jsonl");
  await writeFile(notJson, "tenant,status\n");
  const cases: [string[], RegExp][] = [
    [["customers", "consent"], /--customer ID… or --from FILE/],
    [
      ["customers", "consent", "--customer", "a", "--from", notJson],
      /--customer or --from, not both/,
    ],
    [["customers", "consent", "--from", notJson], /--from: line 1 of .* is not JSON/],
    [["customers", "consent", "--from", join(dir, "missing.jsonl")], /--from: cannot read/],
    [["customers", "consent", "--customer", "a", "--grant", "graph"], /--grant: .*RESOURCE=SCOPE/],
    [
      ["customers", "consent", "--customer", "a", "--concurrency", "51"],
      /--concurrency takes a whole number from 1 to 50/,
    ],
    [["customers", "check", "-o", "tsv"], /--output of customers check takes json or table/],
    [["customers", "check", "--warn-days", "-1"], /--warn-days/],
    [["customers", "check", "--out", join(dir, "no", "such", "f.jsonl")], /--out: no folder/],
    [["customers", "check", "--timeout", "abc"], /--timeout takes a number of seconds/],
    [
      ["customers", "consent", "--customer", "a", "--timeout", "0"],
      /--timeout takes a number of seconds/,
    ],
    [["customers", "audit"], /unknown customers command 'audit'.*'check' or 'consent'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
});

test("--help of customers names check and consent, and every problem code", async () => {
  const r = await runCli(["customers", "--help"]);
  assert.equal(r.code, 0);
  for (const code of [
    "not-admin-agent",
    "gdap-no-active-relationship",
    "gdap-relationship-expiring",
    "gdap-user-not-in-group",
    "gdap-missing-role",
    "consent-missing",
    "consent-scopes-missing",
    "mfa-missing",
    "token-failed",
    "graph-failed",
  ])
    assert.match(r.stdout, new RegExp(code));
  assert.match(r.stdout, /customers consent --from check\.jsonl/);
});
