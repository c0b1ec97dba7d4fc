/**
 * `partner-token status` and the app credential its session renews with: an App + User session of
 * the partner's own app (made by `app create`, its secret 20 days from expiry) is reported
 * expiring (exit 3, one line naming `app rotate-secret`); `--warn-days` moves the line; the read
 * is skipped with `--offline` and for a public client (no Graph request at all); it is silent when
 * Graph refuses (a service principal without Application.Read.All) or does not answer within
 * `--timeout`. The secret is never printed.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  runCli,
  startTestEmulator,
  tempDir,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, sessionEnv } from "../session/helpers.ts";
import { control } from "../stores/helpers.ts";
import { createApp } from "./helpers.ts";

describe("partner-token status: the expiry of the app credential the session uses", () => {
  let emu: Emulator;
  let env: Record<string, string>;
  let appId: string;
  let secretFile: string;
  const status = (...args: string[]): Promise<CliResult> =>
    runCli(["status", "-o", "json", ...args], { env, timeoutMs: 120_000 });
  const applicationReads = () =>
    emu.requests().filter((e) => e.path.startsWith("/v1.0/applications")).length;

  before(async () => {
    emu = await startTestEmulator();
    env = { ...(await sessionEnv()), PARTNER_TOKEN_CA_FILE: emu.info.caFile! };
    await connectDevice(emu, env);
    const dir = await tempDir("pt-status-cred-");
    secretFile = join(dir, "secret");
    const rtFile = join(dir, "rt");
    const made = await createApp(
      env,
      "Status partner-token",
      "--secret-store",
      `file:${secretFile}`,
      "--secret-lifetime",
      "20",
      "--refresh-token-store",
      `file:${rtFile}`,
      "--use-device-authentication",
    );
    appId = made.json.applicationId;
    // The job's profile: the app's refresh token and secret, read from the files app create wrote.
    const job = await runCli(
      [
        "connect",
        "--profile",
        "job",
        "--refresh-token",
        `file:${rtFile}`,
        "--application-id",
        appId,
        "--credential",
        `file:${secretFile}`,
        "--tenant",
        emu.info.partnerTenant.id,
        ...emuFlags(emu),
      ],
      { env, timeoutMs: 120_000 },
    );
    assert.equal(job.code, 0, job.stderr);
  });
  after(() => emu?.close());

  it("a secret 20 days from expiry: state expiring, exit 3, one line naming app rotate-secret; never the secret", async () => {
    const r = await status("--profile", "job");
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json.state, "expiring");
    const c = r.json.appCredential;
    assert.equal(c.kind, "secret");
    assert.equal(c.applicationId, appId);
    assert.equal(c.found, true);
    assert.ok(c.daysLeft === 19 || c.daysLeft === 20, `daysLeft ${c.daysLeft}`);
    assert.equal(c.expiring, true);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /client secret the session uses expires in (19|20) days/);
    assert.match(lines[0]!, new RegExp(`app rotate-secret --application-id ${appId}`));
    const secret = (await readFile(secretFile, "utf8")).trim();
    const stored = secret.startsWith("{") ? (JSON.parse(secret).token ?? secret) : secret;
    assert.equal(c.hint, String(stored).slice(0, 3));
    assert.ok(!r.stdout.includes(stored) && !r.stderr.includes(stored), "the secret is not shown");

    const table = await runCli(["status", "--profile", "job", "-o", "table"], { env });
    assert.equal(table.code, 3);
    assert.match(
      table.stdout,
      /App credential\s+secret .{3}…: expires \d{4}-\d\d-\d\dT.* \((19|20) days\)/,
    );
  });

  it("--warn-days 10: the same secret is not yet worth a warning, exit 0", async () => {
    const r = await status("--profile", "job", "--warn-days", "10");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.state, "ok");
    assert.equal(r.json.appCredential.expiring, false);
    assert.equal(r.stderr, "");
  });

  it("a certificate: its thumbprint found among the app's keyCredentials; within --warn-days, a line naming app rotate-certificate", async () => {
    const dir = await tempDir("pt-status-cert-");
    const pfx = join(dir, "app.pfx");
    const rt = join(dir, "rt");
    const made = await createApp(
      env,
      "Status certificate app",
      "--certificate",
      "--certificate-path",
      pfx,
      "--refresh-token-store",
      `file:${rt}`,
      "--use-device-authentication",
    );
    const certApp = made.json.applicationId;
    const connected = await runCli(
      [
        "connect",
        "--profile",
        "cert",
        "--refresh-token",
        `file:${rt}`,
        "--application-id",
        certApp,
        "--certificate-path",
        pfx,
        "--tenant",
        emu.info.partnerTenant.id,
        ...emuFlags(emu),
      ],
      { env, timeoutMs: 120_000 },
    );
    assert.equal(connected.code, 0, connected.stderr);
    const r = await status("--profile", "cert");
    assert.equal(r.code, 0, r.stderr);
    const c = r.json.appCredential;
    assert.equal(c.kind, "certificate");
    assert.equal(c.applicationId, certApp);
    assert.match(c.hint, /^[0-9A-F]{40}$/);
    assert.equal(c.found, true);
    assert.ok(c.daysLeft > 30, `daysLeft ${c.daysLeft}`);
    const soon = await status("--profile", "cert", "--warn-days", String(c.daysLeft + 2));
    assert.equal(soon.code, 3, soon.stderr);
    assert.match(
      soon.stderr,
      new RegExp(`certificate the session uses expires in ${c.daysLeft} days`),
    );
    assert.match(soon.stderr, new RegExp(`app rotate-certificate --application-id ${certApp}`));
    // The refresh token (90 days) is within that window too: each says so on its own line.
    assert.match(soon.stderr, /^partner-token: the refresh token expires in/m);
    assert.equal(soon.stderr.trim().split("\n").length, 2, soon.stderr);
  });

  it("--offline and a public client's session: no Graph read at all", async () => {
    const reads = applicationReads();
    const offline = await status("--profile", "job", "--offline");
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.json.appCredential, null);
    const admin = await status();
    assert.equal(admin.code, 0, admin.stderr);
    assert.equal(admin.json.appCredential, null);
    assert.equal(applicationReads(), reads, "neither status read the app through Graph");
  });

  it("Graph that does not answer within --timeout: status still answers, silent, exit 0", async () => {
    await control(emu, "faults", { path: "/v1.0/applications", count: 2, delayMs: 60_000 });
    try {
      const r = await status("--profile", "job", "--timeout", "2");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.state, "ok");
      assert.equal(r.json.appCredential, null);
      assert.equal(r.stderr, "");
    } finally {
      await control(emu, "faults", undefined, "DELETE");
    }
  });

  it("a service principal's session: Graph refuses it the app's registration, status is silent, exit 0", async () => {
    const secret = (await readFile(secretFile, "utf8")).trim();
    const sp = await runCli(
      [
        "connect",
        "--profile",
        "sp",
        "--service-principal",
        "--application-id",
        appId,
        "--credential",
        "env:S",
        "--tenant",
        emu.info.partnerTenant.id,
        ...emuFlags(emu),
      ],
      { env: { ...env, S: secret } },
    );
    assert.equal(sp.code, 0, sp.stderr);
    const reads = applicationReads();
    const r = await status("--profile", "sp");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.appCredential, null);
    assert.equal(r.stderr, "");
    assert.ok(applicationReads() > reads, "it tried");
    const debug = await status("--profile", "sp", "--debug");
    assert.match(
      debug.stderr,
      /the app's credential expiry was not read: .*(403|Authorization|privileges)/i,
    );
  });
  it("after app rotate-secret: status reads the new secret from the session's store and finds it, 100 days left", async () => {
    const before = (await readFile(secretFile, "utf8")).trim();
    const rotated = await runCli(
      [
        "app",
        "rotate-secret",
        "--application-id",
        appId,
        "--secret-store",
        `file:${secretFile}`,
        "--secret-lifetime",
        "100",
        "--grace-seconds",
        "0",
        "-o",
        "json",
      ],
      { env, timeoutMs: 120_000 },
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    const after = (await readFile(secretFile, "utf8")).trim();
    assert.notEqual(after, before);
    const r = await status("--profile", "job");
    assert.equal(r.code, 0, r.stderr);
    const c = r.json.appCredential;
    assert.equal(c.found, true);
    assert.equal(c.hint, rotated.json.hint);
    assert.ok(c.daysLeft === 99 || c.daysLeft === 100, `daysLeft ${c.daysLeft}`);
    assert.equal(c.expiring, false);
  });
  it("app credentials with the job's own session and no --application-id: its app, the secret it renews with marked in use", async () => {
    const r = await runCli(["app", "credentials", "--profile", "job", "-o", "json"], {
      env,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.applicationId, appId);
    const inUse = (r.json.credentials as { kind: string; inUse: boolean; hint: string }[]).filter(
      (c) => c.inUse,
    );
    assert.equal(inUse.length, 1, JSON.stringify(r.json.credentials));
    assert.equal(inUse[0]!.kind, "secret");
    assert.equal(inUse[0]!.hint, (await readFile(secretFile, "utf8")).trim().slice(0, 3));
    const soon = await runCli(
      ["app", "credentials", "--profile", "job", "--warn-days", "200", "-o", "json"],
      { env, timeoutMs: 120_000 },
    );
    assert.equal(soon.code, 3, soon.stderr);
    assert.match(soon.stderr, /run 'partner-token app rotate-secret'/);
  });
});
