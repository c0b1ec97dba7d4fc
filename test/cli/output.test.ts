/** `--output` and `--query` on `partner-token new`, and the help text. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  GRAPH,
  runCli,
  servicePrincipalArgs,
  startTestEmulator,
  type Emulator,
} from "./helpers.ts";

describe("new: output", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  const run = (...extra: string[]) =>
    runCli(servicePrincipalArgs(emu, [], ...extra), {
      env: { AZURE_CLIENT_SECRET: emu.info.apps.confidential.clientSecret },
    });

  it("JSON by default: the AuthResult of SPEC §4 and nothing else on stdout", async () => {
    const r = await run();
    assert.equal(r.code, 0, r.stderr);
    for (const key of [
      "accessToken",
      "refreshToken",
      "idToken",
      "tokenType",
      "expiresOn",
      "extendedExpiresOn",
      "tenantId",
      "uniqueId",
      "account",
      "scopes",
      "correlationId",
      "isExtendedLifeTimeToken",
    ])
      assert.ok(key in r.json, `${key} in the result`);
    assert.match(r.json.expiresOn, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  it("--query accessToken -o tsv prints the bare token", async () => {
    const r = await run("--query", "accessToken", "-o", "tsv");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it("--query with a projection, -o json", async () => {
    const r = await run("--query", "{token: accessToken, tenant: tenantId}");
    assert.deepEqual(Object.keys(r.json), ["token", "tenant"]);
    assert.equal(r.json.tenant, emu.info.partnerTenant.id);
  });

  it("-o table: name and value rows; -o none: nothing", async () => {
    const table = await run("-o", "table");
    assert.match(table.stdout, /^Name\s+Value\n-+\s+-+\n/);
    assert.match(table.stdout, /\ntenantId\s+[0-9a-f-]{36}\n/);
    const none = await run("--output", "none");
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
  });

  it("a bad --output or --query fails before any sign-in (exit 2)", async () => {
    const seen = (await emu.requests()).length;
    const bad = await run("-o", "yaml");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--output takes json, table, tsv, none/);
    const q = await run("--query", "accessToken[");
    assert.equal(q.code, 2);
    assert.match(q.stderr, /--query/);
    assert.equal((await emu.requests()).length, seen, "no request was made");
  });

  it("--help lists the flags, the sources and the exit codes", async () => {
    for (const h of ["--help", "-h", "-Help"]) {
      const r = await runCli(["new", h]);
      assert.equal(r.code, 0);
      for (const text of [
        "--application-id, --client-id",
        "--use-device-authentication",
        "--certificate-path",
        "env:NAME",
        "Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in needed",
        "ByModule",
      ])
        assert.ok(r.stdout.includes(text), `${h} shows ${text}`);
    }
    const alias = await runCli(["new-access-token", "--help"]);
    assert.equal(alias.code, 0);
  });

  it("an unexpected argument is a usage error that mentions PowerShell variables", async () => {
    const r = await runCli(["new", "--scopes", GRAPH, "--tenant", "t", "--", "stray"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unexpected argument 'stray'/);
  });
});
