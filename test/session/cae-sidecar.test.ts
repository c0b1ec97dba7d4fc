/**
 * CAE through serve/exec's managed-identity endpoint, over a real session: it hands out CAE
 * tokens (cp1, a day long); the protocol carries no claims, so after a revocation the app's
 * SDK (MSAL) sends `token_sha256_to_refresh` with the SHA-256 of the token Graph refused — the
 * endpoint then renews instead of answering the same token: a new token after a new sign-in, a
 * 400 sign-in-needed answer otherwise.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request } from "node:https";
import { readFile } from "node:fs/promises";
import { startSidecar } from "../../src/sidecar/server.ts";
import { connectSession, openSession } from "../../src/index.ts";
import { startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { get } from "../sidecar/helpers.ts";
import { sessionEnv } from "./helpers.ts";

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("CAE through the managed-identity endpoint", () => {
  let emu: Emulator;
  let cacheDir: string;
  const connect = () =>
    connectSession(
      { useDeviceAuthentication: true, authorityHost: emu.info.url, caFile: emu.caFile! },
      { cacheDir, profile: "sidecar", clientOptions: { log: () => {} } },
    );
  before(async () => {
    emu = await startTestEmulator();
    const env = await sessionEnv();
    cacheDir = env.PARTNER_TOKEN_CACHE_DIR;
    process.env.PARTNER_TOKEN_KEY_DIR = env.PARTNER_TOKEN_KEY_DIR;
    process.env.PARTNER_TOKEN_KEYRING = "off";
  });
  after(() => emu.close());

  async function graphStatus(token: string): Promise<number> {
    const ca = await readFile(emu.caFile!, "utf8");
    return new Promise((resolve, reject) => {
      const req = request(
        new URL("/v1.0/me", emu.info.url),
        { headers: { authorization: `Bearer ${token}` }, ca },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  test("a CAE token; after a revocation, token_sha256_to_refresh renews it or says sign-in is needed", async () => {
    await connect();
    const session = await openSession({
      cacheDir,
      profile: "sidecar",
      clientOptions: { log: () => {} },
    });
    const sidecar = await startSidecar({ source: session, log: () => {} });
    try {
      const url = (extra = "") =>
        `${sidecar.identityEndpoint}?api-version=2019-08-01&resource=https://graph.microsoft.com${extra}`;
      const headers = { "X-IDENTITY-HEADER": sidecar.identityHeader };
      const first = await get(url(), headers);
      assert.equal(first.status, 200, first.body);
      const token = first.json.access_token as string;
      assert.deepEqual(claimsOf(token).xms_cc, ["cp1"]);
      assert.ok(Number(first.json.expires_on) * 1000 - Date.now() > 20 * 3600_000);
      // Another token's hash changes nothing: the cached token is answered.
      const other = await get(url(`&token_sha256_to_refresh=${sha256("other")}`), headers);
      assert.equal(other.json.access_token, token);

      emu.advanceClock(1);
      emu.revoke({ username: emu.info.user.username });
      assert.equal(await graphStatus(token), 401);
      // Without the signal the endpoint cannot know: the same token.
      assert.equal((await get(url(), headers)).json.access_token, token);
      // With it, and no new sign-in: 400, sign-in needed.
      const refused = await get(url(`&token_sha256_to_refresh=${sha256(token)}`), headers);
      assert.equal(refused.status, 400, refused.body);
      assert.equal(refused.json.error, "invalid_grant");
      assert.match(refused.json.error_description, /AADSTS50173/);

      // The partner signs in again: the same signal now brings a new token Graph accepts.
      await connect();
      const renewed = await get(url(`&token_sha256_to_refresh=${sha256(token)}`), headers);
      assert.equal(renewed.status, 200, renewed.body);
      assert.notEqual(renewed.json.access_token, token);
      assert.equal(await graphStatus(renewed.json.access_token), 200);

      const bad = await get(url("&token_sha256_to_refresh=xyz"), headers);
      assert.equal(bad.status, 400);
      assert.match(bad.json.error_description, /token_sha256_to_refresh/);
    } finally {
      await sidecar.close();
    }
  });
});
