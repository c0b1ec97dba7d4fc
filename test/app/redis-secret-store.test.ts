/**
 * `partner-token app` with its secret and refresh token in a real `redis-server`
 * (`--secret-store redis://…#KEY`): every subcommand closes the stores it opened, so the process
 * ends once its work is done — on success, on failure, and after a rotation that was undone. An
 * open Redis connection would keep it running until `runCli`'s bound kills it (the test fails).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, sessionEnv } from "../session/helpers.ts";
import { newKey, startRedis, type RunningRedis } from "../stores/helpers.ts";

describe("partner-token app with Redis stores: the process ends", () => {
  let emu: Emulator;
  let redis: RunningRedis;
  let env: Record<string, string>;
  let secretUri: string;
  let appId: string;
  /** Far longer than any of these commands takes; a process held open by Redis never ends. */
  const app = (...args: string[]): Promise<CliResult> =>
    runCli(["app", ...args, "-o", "json"], { env, timeoutMs: 90_000 });
  const inUse = async (): Promise<{ keyId: string; hint: string }[]> => {
    const r = await app("credentials", "--application-id", appId, "--secret-store", secretUri);
    assert.equal(r.code, 0, r.stderr);
    return r.json.credentials.filter((c: { inUse: boolean }) => c.inUse);
  };

  before(async () => {
    emu = await startTestEmulator();
    redis = await startRedis();
    const session = await sessionEnv();
    await connectDevice(emu, session);
    env = { ...session, PARTNER_TOKEN_ENCRYPTION_KEY: newKey() };
    secretUri = `${redis.url}#sam-secret`;
  });
  after(async () => {
    await redis?.close();
    await emu?.close();
  });

  it("app create: the secret and the refresh token written to Redis, then the process exits", async () => {
    const r = await app(
      "create",
      "--name",
      "Contoso in Redis",
      "--secret-store",
      secretUri,
      "--refresh-token-store",
      `${redis.url}#sam-rt`,
      "--use-device-authentication",
    );
    assert.equal(r.code, 0, r.stderr);
    appId = r.json.applicationId;
    assert.equal(await redis.client.exists("sam-secret", "sam-rt"), 2);
  });

  it("app credentials and app rotate-secret: the new secret in Redis is the one in use, the process exits", async () => {
    const [before] = await inUse();
    const r = await app(
      "rotate-secret",
      "--application-id",
      appId,
      "--secret-store",
      secretUri,
      "--grace-seconds",
      "0",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.removed, [before!.keyId]);
    assert.deepEqual(
      (await inUse()).map((c) => c.keyId),
      [r.json.keyId],
    );
  });

  it("app rotate-secret refused (no such app): exit 1 naming the app, the process exits", async () => {
    const r = await app(
      "rotate-secret",
      "--application-id",
      "00000000-0000-4000-8000-000000000000",
      "--secret-store",
      secretUri,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /No application with id 00000000-0000-4000-8000-000000000000/);
  });

  it("app rotate-secret undone (Redis refuses the write): exit 1, the old secret still in use, the process exits", async () => {
    const before = await inUse();
    // Without a replica, a master that wants one refuses every write (NOREPLICAS).
    await redis.client.config("SET", "min-replicas-to-write", "1");
    let r: CliResult;
    try {
      r = await app("rotate-secret", "--application-id", appId, "--secret-store", secretUri);
    } finally {
      await redis.client.config("SET", "min-replicas-to-write", "0");
    }
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /not rotated: writing it to .* failed/);
    assert.match(r.stderr, /the new secret was removed/);
    assert.deepEqual(await inUse(), before);
  });
  it("a job reads the secret from Redis too: token with --credential redis://…, and a session connected with it renews", async () => {
    const source = [
      "--application-id",
      appId,
      "--credential",
      secretUri,
      "--tenant",
      emu.info.partnerTenant.id,
      ...emuFlags(emu),
    ];
    const job = await runCli(
      ["token", "--refresh-token-store", `${redis.url}#sam-rt`, "--scopes", GRAPH, ...source],
      { env, timeoutMs: 90_000 },
    );
    assert.equal(job.code, 0, job.stderr);
    const connected = await runCli(
      ["connect", "--profile", "redis-job", "--refresh-token", `${redis.url}#sam-rt`, ...source],
      { env, timeoutMs: 90_000 },
    );
    assert.equal(connected.code, 0, connected.stderr);
    const renewed = await runCli(
      ["token", "--profile", "redis-job", "--scopes", GRAPH, "--force-refresh"],
      { env, timeoutMs: 90_000 },
    );
    assert.equal(renewed.code, 0, renewed.stderr);
  });
});
