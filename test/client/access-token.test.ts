import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateKeyPair, SignJWT } from "jose";
import {
  decodeAccessToken,
  newPartnerAccessToken,
  SignInRequiredError,
  UsageError,
} from "../../src/index.ts";

const tid = "475cad49-99e1-453e-8ff2-ae87738d9b23";
const oid = "1524eef1-f150-44b3-b48a-44a68e0de1d1";

async function token(expiresIn: number): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    tid,
    oid,
    scp: "User.Read Directory.Read.All",
    upn: "admin@contoso-partner.onmicrosoft.com",
  })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setAudience("https://graph.microsoft.com")
    .setIssuer(`https://sts.windows.net/${tid}/`)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + expiresIn)
    .sign(privateKey);
}

describe("AccessToken parameter set (no network)", () => {
  test("a valid token comes back as an AuthResult read from its claims", async () => {
    const accessToken = await token(3600);
    // an unreachable authority proves no request is made
    const result = await newPartnerAccessToken({
      accessToken,
      applicationId: "8041dc5f-49f9-4351-a3dd-dbc24f56f68e",
      scopes: ["https://graph.microsoft.com/.default"],
      authorityHost: "https://127.0.0.1:1",
    });
    assert.equal(result.accessToken, accessToken);
    assert.equal(result.refreshToken, null);
    assert.equal(result.tenantId, tid);
    assert.equal(result.uniqueId, oid);
    assert.equal(result.account?.username, "admin@contoso-partner.onmicrosoft.com");
    assert.deepEqual(result.scopes, ["User.Read", "Directory.Read.All"]);
    assert.equal(result.expiresOn, decodeAccessToken(accessToken).expiresOn);
  });

  test("an expired token: the cmdlet's exact message, exit code 4", async () => {
    const accessToken = await token(-10);
    await assert.rejects(
      newPartnerAccessToken({
        accessToken,
        applicationId: "x",
        scopes: ["https://graph.microsoft.com/.default"],
      }),
      (e: SignInRequiredError) =>
        e instanceof SignInRequiredError &&
        e.message === "The access token has expired. Generate a new one and try again." &&
        e.exitCode === 4,
    );
  });

  test("decodeAccessToken: header, claims, expiry; an opaque value is a usage error", async () => {
    const decoded = decodeAccessToken(`Bearer ${await token(600)}`);
    assert.equal(decoded.header.kid, "k1");
    assert.equal(decoded.claims.tid, tid);
    assert.equal(decoded.expired, false);
    assert.throws(
      () => decodeAccessToken("not-a-jwt"),
      (e: UsageError) => e instanceof UsageError && e.code === "ERR_INVALID_TOKEN",
    );
  });
});
