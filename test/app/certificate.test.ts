/**
 * `partner-token app rotate-certificate` as a separate process against the emulator: the app's
 * first certificate (a PFX written where none was), a token with it; a rotation that makes the
 * old certificate refused and the new one work; the old one still working during
 * `--grace-seconds`; `--keep-old`; and a PFX that cannot be written leaving the app's
 * certificates as they were, exit 1.
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { copyFile } from "node:fs/promises";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, sessionEnv } from "../session/helpers.ts";

describe("partner-token app rotate-certificate", () => {
  let emu: Emulator;
  let env: Record<string, string>;
  let appId: string;
  let dir: string;
  const app = (...args: string[]): Promise<CliResult> =>
    runCli(["app", ...args, "-o", "json"], { env, timeoutMs: 120_000 });
  /** A client-credentials token with the PFX: exit code and stderr. */
  const withPfx = (file: string) =>
    runCli([
      "new",
      "--service-principal",
      "--application-id",
      appId,
      "--certificate-path",
      file,
      "--tenant",
      emu.info.partnerTenant.id,
      "--scopes",
      GRAPH,
      ...emuFlags(emu),
    ]);
  const certificates = async () => {
    const r = await app("credentials", "--application-id", appId, "--warn-days", "0");
    assert.equal(r.code, 0, r.stderr);
    return (r.json.credentials as { kind: string; keyId: string }[]).filter(
      (c) => c.kind === "certificate",
    );
  };

  before(async () => {
    emu = await startTestEmulator();
    const session = await sessionEnv();
    await connectDevice(emu, session);
    env = { ...session };
    dir = await tempDir("pt-app-cert-");
    const made = await app("create", "--name", "Contoso certificates");
    assert.equal(made.code, 0, made.stderr);
    appId = made.json.applicationId;
  });
  after(() => emu?.close());

  it("the first certificate: its PFX written (0600), a token with it", async () => {
    const file = join(dir, "app.pfx");
    const r = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      file,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.json.thumbprint, /^[0-9A-F]{40}$/);
    assert.deepEqual(r.json.removed, []);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const token = await withPfx(file);
    assert.equal(token.code, 0, token.stderr);
    assert.equal((await certificates()).length, 1);
  });

  it("rotation: the new certificate works, the old one is refused and gone from the app", async () => {
    const file = join(dir, "app.pfx");
    const old = join(dir, "old.pfx");
    await copyFile(file, old);
    const before = await certificates();
    const r = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      file,
      "--grace-seconds",
      "0",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.removed, [before[0]!.keyId]);
    assert.equal((await withPfx(file)).code, 0);
    const refused = await withPfx(old);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AADSTS700027/);
    const now = await certificates();
    assert.deepEqual(
      now.map((c) => c.keyId),
      [r.json.keyId],
    );
  });

  it("--grace-seconds: the old certificate still signs in while the rotation waits, and is refused after it", async () => {
    const file = join(dir, "app.pfx");
    const old = join(dir, "grace-old.pfx");
    await copyFile(file, old);
    let during: Promise<CliResult> | undefined;
    const r = await runCli(
      [
        "app",
        "rotate-certificate",
        "--application-id",
        appId,
        "--certificate-path",
        file,
        "--grace-seconds",
        "20",
        "-o",
        "json",
      ],
      {
        env,
        timeoutMs: 120_000,
        // A job that read the old PFX just before the new one was written signs in now.
        onStderr: (text) => {
          if (!during && text.includes("Waiting 20 s before removing the old certificate"))
            during = withPfx(old);
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(during, "the rotation waited before removing the old certificate");
    const job = await during;
    assert.equal(job.code, 0, job.stderr);
    assert.equal(r.json.removed.length, 1);
    const refused = await withPfx(old);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AADSTS700027/);
  });

  it("--keep-old keeps both working", async () => {
    const file = join(dir, "app.pfx");
    const old = join(dir, "old.pfx");
    await copyFile(file, old);
    const r = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      file,
      "--keep-old",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.kept, "--keep-old");
    assert.equal((await withPfx(file)).code, 0);
    assert.equal((await withPfx(old)).code, 0);
    assert.equal((await certificates()).length, 2);
  });

  it("--certificate-path file:… (a store): given the PFX's base64; a job signs in from the store; the old certificate is removed", async () => {
    const uri = `file:${join(dir, "cert-store")}`;
    const first = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      uri,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await withPfx(uri)).code, 0);
    const second = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      uri,
      "--grace-seconds",
      "0",
    );
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(second.json.removed, [first.json.keyId]);
    assert.equal((await withPfx(uri)).code, 0);
    assert.ok(
      !(await certificates()).some((c) => c.keyId === first.json.keyId),
      "the first is gone from the app",
    );
  });

  it("the PFX cannot be written: the new certificate is removed, exit 1 saying why", async () => {
    const before = await certificates();
    const r = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      join(dir, "no-such-folder", "app.pfx"),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not rotated: writing it to .*failed.*the new certificate was removed/s);
    assert.deepEqual(
      (await certificates()).map((c) => c.keyId),
      before.map((c) => c.keyId),
    );
    assert.equal((await withPfx(join(dir, "app.pfx"))).code, 0, "the current one still works");
  });

  it("app create --certificate: the first certificate by PATCH, a refresh token signed in with it; run twice, nothing changes", async () => {
    const file = join(dir, "created.pfx");
    const rt = join(dir, "created-rt");
    const args = [
      "create",
      "--name",
      "Contoso with a certificate",
      "--certificate",
      "--certificate-path",
      file,
      "--refresh-token-store",
      `file:${rt}`,
      "--use-device-authentication",
    ];
    const r = await app(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.certificatePath, file);
    assert.equal(r.json.changed, true);
    assert.ok(
      r.json.changes.some((c: string) => /^certificate [0-9A-F]{40} in /.test(c)),
      JSON.stringify(r.json.changes),
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(rt)).mode & 0o777, 0o600);
    const job = await runCli([
      "token",
      "--refresh-token-store",
      `file:${rt}`,
      "--application-id",
      r.json.applicationId,
      "--certificate-path",
      file,
      "--scopes",
      GRAPH,
      ...emuFlags(emu),
      "-o",
      "json",
    ]);
    assert.equal(job.code, 0, job.stderr);
    const again = await app(...args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.changed, false, JSON.stringify(again.json.changes));
  });

  it("app create --certificate --secret-store URI: the PFX's base64 in the store, a job signs in with it from there; run twice, nothing changes", async () => {
    const certStore = `file:${join(dir, "cert-store")}`;
    const rt = join(dir, "store-rt");
    const args = [
      "create",
      "--name",
      "Contoso certificate in a store",
      "--certificate",
      "--secret-store",
      certStore,
      "--refresh-token-store",
      `file:${rt}`,
      "--use-device-authentication",
    ];
    const r = await app(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.certificateStore, certStore);
    assert.equal(r.json.certificatePath, undefined);
    assert.ok(
      r.json.changes.some((c: string) => c.startsWith("certificate ") && c.endsWith(certStore)),
      JSON.stringify(r.json.changes),
    );
    const job = await runCli([
      "token",
      "--refresh-token-store",
      `file:${rt}`,
      "--application-id",
      r.json.applicationId,
      "--certificate-path",
      certStore,
      "--scopes",
      GRAPH,
      ...emuFlags(emu),
      "-o",
      "json",
    ]);
    assert.equal(job.code, 0, job.stderr);
    const again = await app(...args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.changed, false, JSON.stringify(again.json.changes));
  });

  it("app credentials: a certificate that expires within --warn-days names rotate-certificate, exit 3", async () => {
    const r = await app("credentials", "--application-id", appId, "--warn-days", "400");
    assert.equal(r.code, 3, r.stderr);
    const certs = (r.json.credentials as { kind: string; expiring: boolean }[]).filter(
      (c) => c.kind === "certificate",
    );
    assert.ok(certs.length > 0 && certs.every((c) => c.expiring), JSON.stringify(certs));
    assert.match(
      r.stderr,
      /The certificate [0-9a-f-]{36} \([0-9A-F]{40}\) expires in \d+ days: run 'partner-token app rotate-certificate'/,
    );
    assert.doesNotMatch(r.stderr, /rotate-secret/);
  });

  it("bad input: a path that is not .pfx is a usage error (exit 2)", async () => {
    const r = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      join(dir, "app.pem"),
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--certificate-path FILE\.pfx/);
    const grace = await app(
      "rotate-certificate",
      "--application-id",
      appId,
      "--certificate-path",
      join(dir, "app.pfx"),
      "--grace-seconds",
      "3601",
    );
    assert.equal(grace.code, 2);
    assert.match(grace.stderr, /--grace-seconds: whole seconds from 0 to 3600, not '3601'/);
    const both = await app(
      "create",
      "--name",
      "x",
      "--certificate",
      "--certificate-path",
      join(dir, "x.pfx"),
      "--secret-store",
      `file:${join(dir, "s")}`,
    );
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--certificate-path or to --secret-store: give one of them/);
  });
});
