/**
 * Rotation under load (issue 20's proof), for a client secret and for a certificate, each kept in
 * the emulator's Key Vault: five workers call `partner-token token` in a loop — an App + User
 * session over a refresh-token store, the app's credential read from the vault at every run
 * (`--credential keyvault:…`, `--certificate-path keyvault:…`) — while `app rotate-secret` (or
 * `app rotate-certificate`) replaces that credential, and the clock makes every run renew. No run
 * fails and the emulator refuses none of the renewals; renewals happen between the new
 * credential's addition and the old one's removal (counted from the emulator's request log); at the
 * end the old credential is refused, and the vault holds the new one, which works.
 *
 * The clock: before each round of runs the emulator's clock and the processes' (libfaketime, one
 * offset file for all, `sharedClock`) move 3500 s ahead together. An access token lives 3600 s and
 * a client renews one with less than 300 s left, so every run after a jump renews — yet a token
 * fetched just before a jump still has 100 s at the emulator, so a rotation that straddles jumps
 * (it runs across several rounds, its clock moving with them) is never refused for an artifact of
 * compressed time. The workers run in rounds because a jump must not fall between a client
 * assertion being signed and being checked (the one request an hour's jump breaks in flight); for
 * the same reason the clock stands still while the certificate rotation proves its new certificate.
 *
 * Entra's replication, as the emulator models it (`settings.replicationDelayMs`, 3 s here): a new
 * secret or certificate is refused at the token endpoint until it has replicated, so a rotation
 * must prove it (waiting that out) before it writes it where the jobs read it. Stored first and
 * proven after, as the rotations once did, workers that read it in between were refused
 * (AADSTS7000215 for 2 of 20 runs with a 4 s delay).
 *
 * One refresh-token store for the whole fleet, each worker with a cache folder of its own — as five
 * machines that share a vault. It is correct with our locking, which does not span them: the lock is
 * a lock file in the cache folder, so it serialises renewals on one machine only, and machines that
 * share the store redeem the same refresh token at once; this is correct because redeeming a
 * refresh token does not revoke it (Entra ID's rule, which the emulator follows) and every
 * write-back is a new version of the secret, each one valid. So five renewals each round (one per
 * worker), all from one refresh token, and the test shows none is refused. (Five workers sharing
 * one cache folder, as five processes on one machine, work too: the lock serialises them to one
 * renewal per round — 5 renewals for 25 runs when tried — the others reading its token from the
 * cache, which leaves few renewals to race the rotation. One store per worker would not model a
 * fleet.)
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { ClientSecretCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import type { RequestLogEntry } from "../../src/emulator/emulator.ts";
import { defaultSeed } from "../../src/emulator/index.ts";
import { trustEmulatorCa } from "../interop/helpers.ts";
import {
  emuFlags,
  GRAPH,
  PARTNER_CENTER,
  runCli,
  startTestEmulator,
  tempDir,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, sessionEnv, sharedClock, type SharedClock } from "../session/helpers.ts";

/** Seconds the clocks move before each round: past the 300 s a client wants left of a 3600 s token. */
const JUMP = 3500;
const WORKERS = 5;
/** Entra's replication: a new credential reaches the token endpoint this long after Graph answered. */
const REPLICATION_MS = 3000;
/** Rounds after the rotation ended: the workers renew with the new credential only. */
const ROUNDS_AFTER = 1;
/**
 * Each test's own bound: on a busy machine a round of five runs takes tens of seconds, and the
 * grace period grows with it (see `underLoad`).
 */
const TEST_TIMEOUT = { timeout: 600_000 };
/** A bound on the loop, whatever happens. */
const MAX_ROUNDS = 60;

describe("rotation under load: 5 workers renewing with the credential from Key Vault", () => {
  let emu: Emulator;
  let clock: SharedClock;
  /** The vault reached as the seed's automation app, the CA trusted: every process needs it. */
  let base: Record<string, string>;
  /** The partner admin's session: app create and the rotations. */
  let admin: Record<string, string>;
  const outputs: string[] = [];
  const uri = (name: string) => `keyvault:${emu.info.url}/secrets/${name}`;
  /**
   * The vault as the seed's automation app, with a token fresh from the emulator: one cached by
   * this process's clock, which does not move, could have expired on the emulator's.
   */
  const vault = () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    return new SecretClient(
      emu.info.url,
      new ClientSecretCredential(emu.info.partnerTenant.id, clientId, clientSecret, {
        authorityHost: emu.info.url,
        disableInstanceDiscovery: true,
      }),
      { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    );
  };
  const secretNow = async (name: string) => (await vault().getSecret(name)).value!;
  const lastSeq = () => emu.requests().at(-1)?.seq ?? 0;

  before(async () => {
    emu = await startTestEmulator({
      seed: {
        ...defaultSeed,
        settings: { ...defaultSeed.settings, replicationDelayMs: REPLICATION_MS },
      },
    });
    await trustEmulatorCa(emu.info.caFile!);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    base = {
      AZURE_AUTHORITY_HOST: emu.info.url,
      AZURE_TENANT_ID: emu.info.partnerTenant.id,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
      PARTNER_TOKEN_CA_FILE: emu.info.caFile!,
    };
    const session = await sessionEnv();
    await connectDevice(emu, session);
    admin = { ...session, ...base };
    clock = await sharedClock(emu);
  });
  after(() => emu?.close());

  const app = async (...args: string[]): Promise<CliResult> => {
    const r = await runCli(["app", ...args, "-o", "json"], {
      env: { ...admin, ...clock.env },
      timeoutMs: 120_000,
    });
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  /** `new --service-principal` for the app in the partner tenant, on the shared clock. */
  const servicePrincipal = async (appId: string, ...credential: string[]): Promise<CliResult> => {
    const r = await runCli(
      [
        "new",
        "--service-principal",
        "--application-id",
        appId,
        ...credential,
        "--tenant",
        emu.info.partnerTenant.id,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { env: { ...base, ...clock.env }, timeoutMs: 120_000 },
    );
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  interface Load {
    rotation: CliResult;
    /** The rotation's --grace-seconds. */
    grace: number;
    runs: number;
    rounds: number;
    failures: string[];
    /** The workers' renewals the emulator refused: AADSTS codes. */
    refused: string[];
    /** Refresh-token grants of the app (each a renewal), in all and while the rotation was under way. */
    renewals: number;
    duringRotation: number;
    /** …of which after the new credential was in the vault and before the old one was removed. */
    inGrace: number;
  }

  /**
   * Five workers, each its own cache folder, run `job` once per round; the clocks jump before each
   * round; `rotate` runs from after the first round until it ends, and one more round follows it.
   */
  async function underLoad(o: {
    job: string[];
    /** `app rotate-…` and its flags; `--grace-seconds` is added (see below). */
    rotate: string[];
    appId: string;
    /** The vault secret the credential is kept in (its write marks the grace period's start). */
    credentialSecret: string;
    /** The Graph request that adds the new credential, and the one that removes the old. */
    adds: (e: RequestLogEntry) => boolean;
    removes: (e: RequestLogEntry) => boolean;
    /** While true for the rotation's stderr so far, the clock stands still. */
    hold?: (stderr: string) => boolean;
  }): Promise<Load> {
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, async () => ({
        ...base,
        ...(await sessionEnv()),
        ...clock.env,
      })),
    );
    const failures: string[] = [];
    let runs = 0;
    const round = () =>
      Promise.all(
        workers.map(async (env) => {
          const r = await runCli(o.job, { env, timeoutMs: 120_000 });
          runs++;
          outputs.push(r.stdout, r.stderr);
          if (r.code !== 0 || typeof r.json?.accessToken !== "string")
            failures.push(`exit ${r.code}: ${r.stderr}`);
        }),
      );
    const start = lastSeq();
    const started = Date.now();
    await round();
    // A grace period of two rounds, however slow the machine: at least one whole round renews
    // while the vault holds the new credential and the app still has the old one.
    const grace = Math.min(90, Math.max(10, Math.ceil((2 * (Date.now() - started)) / 1000)));
    let stderr = "";
    let done = false;
    const rotation = runCli(["app", ...o.rotate, "--grace-seconds", `${grace}`, "-o", "json"], {
      env: { ...admin, ...clock.env },
      timeoutMs: 300_000,
      onStderr: (text) => (stderr = text),
    }).finally(() => (done = true));
    rotation.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
    let rounds = 1;
    // Each round: the clocks jump, then every worker runs once (none runs across a jump).
    for (let afterwards = 0; afterwards < ROUNDS_AFTER && rounds < MAX_ROUNDS; rounds++) {
      while (!done && o.hold?.(stderr)) await new Promise((r) => setTimeout(r, 25));
      clock.advance(JUMP);
      await round();
      if (done) afterwards++;
    }
    const result = await rotation;
    outputs.push(result.stdout, result.stderr);

    const log = emu.requests().filter((e) => (e.seq ?? 0) > start);
    const ours = log.filter((e) => e.note["client_id"]?.toLowerCase() === o.appId.toLowerCase());
    const renewals = ours.filter((e) => e.note["grant_type"] === "refresh_token");
    const added = log.find(o.adds)?.seq ?? Infinity;
    const stored =
      log.find(
        (e) =>
          (e.seq ?? 0) > added &&
          e.method === "PUT" &&
          e.path.startsWith(`/secrets/${o.credentialSecret}`),
      )?.seq ?? Infinity;
    const removed = log.findLast(o.removes)?.seq ?? -Infinity;
    const between = (from: number) =>
      renewals.filter((e) => (e.seq ?? 0) > from && (e.seq ?? 0) < removed).length;
    return {
      rotation: result,
      grace,
      runs,
      rounds,
      failures,
      // (The rotation's own proofs may be refused while Entra replicates: that is what it waits out.)
      refused: renewals.filter((e) => e.status >= 400).map((e) => e.note["error"] ?? `${e.status}`),
      renewals: renewals.length,
      duringRotation: between(added),
      inGrace: between(stored),
    };
  }

  /** What every rotation under load must show. */
  function assertLoad(t: TestContext, load: Load): void {
    t.diagnostic(
      `${load.runs} runs in ${load.rounds} rounds, a grace period of ${load.grace} s; ${load.renewals} renewals, ${load.duringRotation} while the rotation was under way, ${load.inGrace} of them with the new credential already in the vault`,
    );
    assert.equal(load.rotation.code, 0, load.rotation.stderr);
    assert.deepEqual(load.failures, [], `${load.failures.length} of ${load.runs} runs failed`);
    assert.deepEqual(load.refused, [], "the emulator refused none of the renewals");
    assert.equal(load.renewals, load.runs, "the clock made every run renew");
    assert.ok(load.rounds >= 1 + ROUNDS_AFTER + 1, `${load.rounds} rounds`);
    assert.ok(load.duringRotation > 0, "renewals happened while the rotation was under way");
    assert.ok(load.inGrace > 0, "renewals happened while both credentials were valid");
    assert.equal(load.rotation.json.removed.length, 1, "the old credential was removed");
  }

  it(
    "secret: app rotate-secret --secret-store keyvault:… while 5 workers renew with --credential keyvault:…",
    TEST_TIMEOUT,
    async (t) => {
      const made = await app(
        "create",
        "--name",
        "Contoso rotation (secret)",
        "--secret-store",
        uri("rot-secret"),
        "--refresh-token-store",
        uri("rot-rt"),
        "--use-device-authentication",
      );
      assert.equal(made.code, 0, made.stderr);
      const appId: string = made.json.applicationId;
      const old = await secretNow("rot-secret");

      const load = await underLoad({
        job: [
          "token",
          "--refresh-token-store",
          uri("rot-rt"),
          "--application-id",
          appId,
          "--credential",
          uri("rot-secret"),
          "--tenant",
          emu.info.partnerTenant.id,
          "--scopes",
          PARTNER_CENTER,
          ...emuFlags(emu),
          "-o",
          "json",
        ],
        rotate: ["rotate-secret", "--application-id", appId, "--secret-store", uri("rot-secret")],
        appId,
        credentialSecret: "rot-secret",
        adds: (e) => /addPassword/.test(e.note["graph"] ?? "") && e.status < 300,
        removes: (e) => /removePassword/.test(e.note["graph"] ?? "") && e.status < 300,
      });
      assertLoad(t, load);

      const fresh = await secretNow("rot-secret");
      assert.notEqual(fresh, old, "the vault holds a new secret");
      assert.equal(load.rotation.json.hint, fresh.slice(0, 3));
      assert.equal((await servicePrincipal(appId, "--credential", uri("rot-secret"))).code, 0);
      const withOld = await runCli(
        [
          "new",
          "--service-principal",
          "--application-id",
          appId,
          "--credential",
          "env:S",
          "--tenant",
          emu.info.partnerTenant.id,
          "--scopes",
          GRAPH,
          ...emuFlags(emu),
        ],
        { env: { ...base, ...clock.env, S: old }, timeoutMs: 120_000 },
      );
      outputs.push(withOld.stdout, withOld.stderr);
      assert.equal(withOld.code, 1, withOld.stderr);
      assert.match(withOld.stderr, /AADSTS7000215/, "the old secret is gone");
      for (const text of outputs) {
        assert.ok(!text.includes(old), "the old secret is on no output");
        assert.ok(!text.includes(fresh), "the new secret is on no output");
      }
    },
  );

  it(
    "certificate: app rotate-certificate --certificate-path keyvault:… while 5 workers renew with --certificate-path keyvault:…",
    TEST_TIMEOUT,
    async (t) => {
      const dir = await tempDir("pt-rotation-");
      const pfx = join(dir, "app.pfx");
      const made = await app(
        "create",
        "--name",
        "Contoso rotation (certificate)",
        "--certificate",
        "--certificate-path",
        pfx,
        "--refresh-token-store",
        uri("rot-cert-rt"),
        "--use-device-authentication",
      );
      assert.equal(made.code, 0, made.stderr);
      const appId: string = made.json.applicationId;
      // The first certificate goes to the vault, as Key Vault keeps one: its PFX in base64.
      const old = (await readFile(pfx)).toString("base64");
      await vault().setSecret("rot-cert", old);
      const certificates = async () => {
        const r = await app("credentials", "--application-id", appId, "--warn-days", "0");
        assert.equal(r.code, 0, r.stderr);
        return (r.json.credentials as { kind: string; keyId: string }[])
          .filter((c) => c.kind === "certificate")
          .map((c) => c.keyId);
      };
      const before = await certificates();
      assert.equal(before.length, 1);

      const load = await underLoad({
        job: [
          "token",
          "--refresh-token-store",
          uri("rot-cert-rt"),
          "--application-id",
          appId,
          "--certificate-path",
          uri("rot-cert"),
          "--tenant",
          emu.info.partnerTenant.id,
          "--scopes",
          PARTNER_CENTER,
          ...emuFlags(emu),
          "-o",
          "json",
        ],
        rotate: [
          "rotate-certificate",
          "--application-id",
          appId,
          "--certificate-path",
          uri("rot-cert"),
        ],
        appId,
        credentialSecret: "rot-cert",
        adds: (e) => e.method === "PATCH" && /applications/.test(e.note["graph"] ?? ""),
        removes: (e) => e.method === "PATCH" && /applications/.test(e.note["graph"] ?? ""),
        // Its proof is a client assertion signed now and checked a moment later: no jump between.
        hold: (stderr) => stderr.includes("Added certificate") && !stderr.includes("Proved it"),
      });
      assertLoad(t, load);
      assert.deepEqual(load.rotation.json.removed, before);

      const fresh = await secretNow("rot-cert");
      assert.notEqual(fresh, old, "the vault holds a new PFX");
      assert.deepEqual(await certificates(), [load.rotation.json.keyId]);
      assert.equal(
        (await servicePrincipal(appId, "--certificate-path", uri("rot-cert"))).code,
        0,
        "the new certificate works",
      );
      const oldFile = join(dir, "old.pfx");
      await writeFile(oldFile, Buffer.from(old, "base64"), { mode: 0o600 });
      const withOld = await servicePrincipal(appId, "--certificate-path", oldFile);
      assert.equal(withOld.code, 1, withOld.stderr);
      assert.match(withOld.stderr, /AADSTS700027/, "the old certificate is gone");
    },
  );
});
