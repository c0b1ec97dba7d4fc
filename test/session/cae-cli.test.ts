/**
 * CAE on the command line, against the emulator: `token` gives a day-long Graph token by default,
 * an hour with `--no-cae` (each cached under its own key); `token --claims` takes a challenge as
 * Graph sent it (the WWW-Authenticate value, its base64, or the JSON), skips the cache, and after
 * a revocation ends with exit 4 (sign-in needed); a malformed challenge is a usage error (exit 2).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { readFile } from "node:fs/promises";
import { GRAPH, runCli, startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { connectDevice, refreshGrants, sessionEnv } from "./helpers.ts";
import { isCaeResource, mergeClaims, readClaimsChallenge } from "../../src/client/claims.ts";

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));

/** GET /v1.0/me with a token: status and WWW-Authenticate. */
async function me(emu: Emulator, token: string): Promise<{ status: number; challenge: string }> {
  const ca = await readFile(emu.caFile!, "utf8");
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/v1.0/me", emu.info.url),
      { headers: { authorization: `Bearer ${token}` }, ca },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            challenge: String(res.headers["www-authenticate"] ?? ""),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("claims helpers", () => {
  test("cp1 is merged into a claims request, once, keeping what was there", () => {
    assert.equal(mergeClaims(undefined, false), undefined);
    assert.deepEqual(JSON.parse(mergeClaims(undefined, true)!), {
      access_token: { xms_cc: { values: ["cp1"] } },
    });
    const nbf = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
    assert.deepEqual(JSON.parse(mergeClaims(nbf, true)!), {
      access_token: {
        nbf: { essential: true, value: "1700000000" },
        xms_cc: { values: ["cp1"] },
      },
    });
    assert.equal(mergeClaims(nbf, false), nbf);
    const twice = mergeClaims(
      mergeClaims('{"access_token":{"xms_cc":{"values":["CP1"]}}}', true),
      true,
    );
    assert.deepEqual(JSON.parse(twice!).access_token.xms_cc.values, ["CP1"]);
  });

  test("a challenge is read from the header, its base64 (either alphabet) or JSON; nonsense is refused", () => {
    const json = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}';
    const b64 = Buffer.from(json).toString("base64");
    const header = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${b64}"`;
    assert.equal(readClaimsChallenge(header), json);
    assert.equal(readClaimsChallenge(b64), json);
    assert.equal(readClaimsChallenge(Buffer.from(json).toString("base64url")), json);
    assert.equal(readClaimsChallenge(` ${json} `), json);
    for (const bad of ['Bearer error="insufficient_claims"', "not a challenge!", "{nope", "WzFd"])
      assert.throws(() => readClaimsChallenge(bad), { code: "ERR_INVALID_ARGUMENT" }, bad);
    assert.throws(() => readClaimsChallenge("x".repeat(9000)), /longer than/);
  });

  test("Graph and Exchange are CAE-capable; Partner Center, ARM and Key Vault are not", () => {
    assert.ok(isCaeResource([GRAPH]));
    assert.ok(isCaeResource(["User.Read", "offline_access"]));
    assert.ok(isCaeResource(["00000003-0000-0000-c000-000000000000/.default"]));
    assert.ok(isCaeResource(["https://outlook.office365.com/.default"]));
    assert.ok(!isCaeResource(["https://api.partnercenter.microsoft.com/user_impersonation"]));
    assert.ok(!isCaeResource(["https://management.azure.com/.default"]));
    assert.ok(!isCaeResource(["https://vault.azure.net/.default"]));
    assert.ok(!isCaeResource(["openid", "offline_access"]));
  });
});

describe("CAE on the command line", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.close());

  test("token: a CAE Graph token by default, the hour with --no-cae, each cached apart", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const cae = await runCli(["token", "--scopes", GRAPH], { env });
    assert.equal(cae.code, 0, cae.stderr);
    const c = claimsOf(cae.json.accessToken);
    assert.deepEqual(c.xms_cc, ["cp1"]);
    assert.ok(Date.parse(cae.json.expiresOn) - Date.now() > 20 * 3600_000);
    const off = await runCli(["token", "--scopes", GRAPH, "--no-cae"], { env });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(claimsOf(off.json.accessToken).xms_cc, undefined);
    const before = refreshGrants(emu);
    for (const extra of [[], ["--no-cae"]]) {
      const again = await runCli(["token", "--scopes", GRAPH, ...extra], { env });
      assert.equal(
        again.json.accessToken,
        extra.length ? off.json.accessToken : cae.json.accessToken,
      );
    }
    assert.equal(refreshGrants(emu), before, "both from the cache");
  });

  test("token --claims: the challenge Graph sent skips the cache; after a revocation, exit 4", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const first = await runCli(["token", "--scopes", GRAPH], { env });
    assert.equal((await me(emu, first.json.accessToken)).status, 200);
    // A challenge with no revocation behind it: a new CAE token, not the cached one.
    const nbf = Buffer.from(
      JSON.stringify({ access_token: { nbf: { essential: true, value: "1" } } }),
    ).toString("base64");
    const renewed = await runCli(["token", "--scopes", GRAPH, "--claims", nbf], { env });
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.notEqual(renewed.json.accessToken, first.json.accessToken);
    assert.deepEqual(claimsOf(renewed.json.accessToken).xms_cc, ["cp1"]);

    emu.advanceClock(1);
    emu.revoke({ username: emu.info.user.username });
    const answer = await me(emu, renewed.json.accessToken);
    assert.equal(answer.status, 401);
    assert.match(answer.challenge, /error="insufficient_claims", claims="/);
    const refused = await runCli(["token", "--scopes", GRAPH, "--claims", answer.challenge], {
      env,
    });
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /AADSTS50173/);
    assert.match(refused.stderr, /Sign in/);
  });

  test("token --claims with something that is not a challenge: exit 2 naming it", async () => {
    const env = await sessionEnv();
    const r = await runCli(["token", "--scopes", GRAPH, "--claims", "not a challenge!"], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /claims challenge is neither JSON, base64 nor a WWW-Authenticate/);
  });
});
