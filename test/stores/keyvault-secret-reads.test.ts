/**
 * A client secret kept in Key Vault is read at every renewal (so a rotated one is picked up), and
 * that read costs one GET: `customers tokens` over every customer, with the secret and the refresh
 * token in the emulator's vault, signs the vault's identity in once for the whole run — not once
 * per customer — while the secret is read from the vault for each customer's renewal.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { adminVaultEnv, createApp } from "../app/helpers.ts";

describe("a client secret in Key Vault, read at every renewal", () => {
  let emu: Emulator;
  let env: Record<string, string>;
  let source: string[];
  const run = (args: string[]): Promise<CliResult> => runCli(args, { env, timeoutMs: 180_000 });

  before(async () => {
    emu = await startTestEmulator();
    env = await adminVaultEnv(emu);
    const secretUri = `keyvault:${emu.info.url}/secrets/job-secret`;
    const rtUri = `keyvault:${emu.info.url}/secrets/job-rt`;
    const made = await createApp(
      env,
      "Vault reads",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      rtUri,
      "--use-device-authentication",
    );
    source = [
      "--refresh-token-store",
      rtUri,
      "--application-id",
      made.json.applicationId,
      "--credential",
      secretUri,
      ...emuFlags(emu),
    ];
    const list = await run(["customers", "list", "-o", "json", ...source]);
    assert.equal(list.code, 0, list.stderr);
    const ids = (list.json as { tenantId: string }[]).map((c) => c.tenantId);
    const consent = await run(["customers", "consent", "--customer", ...ids, ...source]);
    assert.equal(consent.code, 0, consent.stderr + consent.stdout);
  });
  after(() => emu?.close());

  it("customers tokens: one sign-in of the vault's identity for the run, the secret read for each renewal", async () => {
    const mark = emu.requests().length;
    // A cache folder of its own: no token cached by the consent run, every customer renewed.
    const r = await runCli(
      ["customers", "tokens", "--scopes", GRAPH, "--concurrency", "2", ...source],
      {
        env: { ...env, PARTNER_TOKEN_CACHE_DIR: await tempDir("pt-kv-reads-") },
        timeoutMs: 180_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const customers = lines.length;
    assert.ok(customers >= 3, `${customers} customers`);
    assert.ok(
      lines.every((l) => l.status === "ok"),
      r.stdout,
    );
    const log = emu.requests().slice(mark);
    const vaultSignIns = log.filter(
      (e) =>
        e.note["grant_type"] === "client_credentials" &&
        e.note["client_id"] === env["AZURE_CLIENT_ID"],
    ).length;
    const secretReads = log.filter(
      (e) => e.method === "GET" && e.path.startsWith("/secrets/job-secret") && e.status === 200,
    ).length;
    assert.equal(
      vaultSignIns,
      1,
      `the vault's identity signed in once, its token reused: ${JSON.stringify(log.map((e) => [e.method, e.path, e.status, e.note["grant_type"], e.note["client_id"]]))}`,
    );
    assert.ok(secretReads >= customers, `${secretReads} secret reads for ${customers} customers`);
  });
});
