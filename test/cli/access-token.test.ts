/** AccessToken set: no network call, the token is decoded; an expired one is refused. */
import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { describe, it } from "node:test";
import { runCli } from "./helpers.ts";

const { privateKey } = await generateKeyPair("RS256");
const tid = "475cad49-99e1-453e-8ff2-ae87738d9b23";
const make = (exp: number) =>
  new SignJWT({
    tid,
    oid: "0a1b",
    upn: "admin@contoso-partner.onmicrosoft.com",
    scp: "user_impersonation",
    ver: "1.0",
  })
    .setProtectedHeader({ alg: "RS256", kid: "k" })
    .setAudience("https://api.partnercenter.microsoft.com")
    .setIssuer(`https://login.microsoftonline.com/${tid}/`)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(privateKey);

const args = [
  "new",
  "--access-token",
  "-",
  "--application-id",
  "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  "--scopes",
  "https://api.partnercenter.microsoft.com/user_impersonation",
  "--authority-host",
  "http://127.0.0.1:9",
];

describe("new --access-token", () => {
  it("returns the token given, with its expiry and tenant, without calling the network", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await make(exp);
    // The authority host is a closed port: any network call would fail.
    const r = await runCli(args, { input: token });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.accessToken, token);
    assert.equal(r.json.tenantId, tid);
    assert.equal(Date.parse(r.json.expiresOn), exp * 1000);
  });

  it("an expired token: 'The access token has expired. Generate a new one and try again.'", async () => {
    const token = await make(Math.floor(Date.now() / 1000) - 60);
    const r = await runCli(args, { input: token });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /The access token has expired\. Generate a new one and try again\./);
    assert.equal(r.stdout, "");
    assert.ok(!r.stderr.includes(token.split(".")[1]!));
  });
});
