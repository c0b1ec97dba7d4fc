/**
 * CAE through Microsoft's own pipeline: `@azure/core-rest-pipeline`'s bearerTokenAuthenticationPolicy
 * with PartnerTokenCredential, unmodified, calling the emulator's Graph. A CAE token (cp1, a day
 * long) works; a revocation yields one claims challenge; the policy's retry gets a new token (the
 * partner signed in again) or a clear sign-in-needed error (nobody did) — with no code of ours in
 * the pipeline.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { GRAPH, startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { trustEmulatorCa } from "../interop/helpers.ts";
import {
  connectSession,
  openSession,
  PartnerTokenCredential,
  SignInRequiredError,
} from "../../src/index.ts";
import { refreshGrants, sessionEnv } from "./helpers.ts";

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));

describe("CAE with PartnerTokenCredential and core-rest-pipeline's bearer policy", () => {
  let emu: Emulator;
  let cacheDir: string;
  const connect = (profile: string) =>
    connectSession(
      { useDeviceAuthentication: true, authorityHost: emu.info.url, caFile: emu.caFile! },
      { cacheDir, profile, clientOptions: { log: () => {} } },
    );
  before(async () => {
    emu = await startTestEmulator();
    await trustEmulatorCa(emu.caFile!);
    const env = await sessionEnv();
    cacheDir = env.PARTNER_TOKEN_CACHE_DIR;
    process.env.PARTNER_TOKEN_KEY_DIR = env.PARTNER_TOKEN_KEY_DIR;
    process.env.PARTNER_TOKEN_KEYRING = "off";
  });
  after(() => emu.close());

  /** GET /v1.0/me through a pipeline; the tokens the credential handed out are recorded. */
  function graphPipeline(credential: PartnerTokenCredential, seen: string[]): Pipeline {
    const recording = {
      getToken: async (
        scopes: string | string[],
        options?: Parameters<typeof credential.getToken>[1],
      ) => {
        const token = await credential.getToken(scopes, options);
        if (token) seen.push(token.token);
        return token;
      },
    };
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: recording, scopes: GRAPH }));
    return pipeline;
  }
  const me = (pipeline: Pipeline) =>
    pipeline.sendRequest(
      createDefaultHttpClient(),
      createPipelineRequest({
        url: `${emu.info.url}/v1.0/me`,
        headers: createHttpHeaders({ accept: "application/json" }),
      }),
    );
  const graphCalls = () => emu.requests().filter((e) => e.path.startsWith("/v1.0/me")).length;

  test("the bearer policy gets a day-long CAE token; a non-CAE request (enableCae unset) the hour", async () => {
    await connect("day");
    const credential = new PartnerTokenCredential({ cacheDir, profile: "day" });
    const seen: string[] = [];
    const response = await me(graphPipeline(credential, seen));
    assert.equal(response.status, 200, response.bodyAsText ?? "");
    const cae = claimsOf(seen[0]!);
    assert.deepEqual(cae.xms_cc, ["cp1"]);
    assert.ok(cae.exp - cae.iat > 20 * 3600, `lifetime ${cae.exp - cae.iat}`);
    const plain = await credential.getToken(GRAPH);
    assert.ok(plain);
    const p = claimsOf(plain.token);
    assert.equal(p.xms_cc, undefined);
    assert.ok(p.exp - p.iat <= 3600);
    // Both are cached, each under its own key: asking again redeems nothing.
    const before = refreshGrants(emu);
    await credential.getToken(GRAPH, { enableCae: true });
    await credential.getToken(GRAPH);
    assert.equal(refreshGrants(emu), before);
  });

  test("a revocation, then a new sign-in: one challenge, the retry gets a new CAE token", async () => {
    await connect("again");
    const credential = new PartnerTokenCredential({ cacheDir, profile: "again" });
    const seen: string[] = [];
    const pipeline = graphPipeline(credential, seen);
    assert.equal((await me(pipeline)).status, 200);
    emu.advanceClock(1);
    assert.ok(emu.revoke({ username: emu.info.user.username }) > 0);
    await connect("again"); // the partner signs in again: a new refresh token
    const calls = graphCalls();
    const response = await me(pipeline);
    assert.equal(response.status, 200, response.bodyAsText ?? "");
    assert.equal(graphCalls() - calls, 2, "one challenge, one retry");
    assert.equal(seen.length, 2);
    assert.notEqual(seen[1], seen[0]);
    assert.deepEqual(claimsOf(seen[1]!).xms_cc, ["cp1"]);
    assert.ok(claimsOf(seen[1]!).iat > claimsOf(seen[0]!).iat);
  });

  test("a revocation and no new sign-in: one challenge, then a clear sign-in-needed error", async () => {
    await connect("revoked");
    const credential = new PartnerTokenCredential({ cacheDir, profile: "revoked" });
    const pipeline = graphPipeline(credential, []);
    assert.equal((await me(pipeline)).status, 200);
    emu.advanceClock(1);
    emu.revoke({ username: emu.info.user.username });
    const calls = graphCalls();
    const grants = refreshGrants(emu);
    await assert.rejects(me(pipeline), (e: unknown) => {
      assert.ok(e instanceof SignInRequiredError, String(e));
      assert.match(e.message, /AADSTS50173/);
      assert.match(e.hint ?? "", /sign in|connect/i);
      return true;
    });
    assert.equal(graphCalls() - calls, 1, "one challenge, no retry loop");
    assert.equal(refreshGrants(emu) - grants, 1, "one refresh grant with the claims");
  });

  test("a session opened with cae: false (--no-cae) asks for the hour even when CAE is enabled", async () => {
    await connect("nocae");
    const off = new PartnerTokenCredential({ cacheDir, profile: "nocae", cae: false });
    const token = await off.getToken(GRAPH, { enableCae: true });
    assert.ok(token);
    assert.equal(claimsOf(token.token).xms_cc, undefined);
    const session = await openSession({ cacheDir, profile: "nocae" });
    const cae = await session.getToken({ scopes: [GRAPH] });
    assert.deepEqual(claimsOf(cae.accessToken).xms_cc, ["cp1"]);
    // Partner Center takes no CAE tokens: its key and token are what they always were.
    const pc = await session.getToken({
      scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
    });
    assert.equal(claimsOf(pc.accessToken).xms_cc, undefined);
  });
});
