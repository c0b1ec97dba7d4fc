/** `partner-token decode`: header and claims of a token from a source; literals refused. */
import assert from "node:assert/strict";
import { generateKeyPair, SignJWT } from "jose";
import { describe, it } from "node:test";
import { runCli, secretFile } from "./helpers.ts";

const { privateKey } = await generateKeyPair("RS256");
const token = await new SignJWT({ tid: "t1", scp: "user_impersonation" })
  .setProtectedHeader({ alg: "RS256", kid: "k1" })
  .setAudience("https://api.partnercenter.microsoft.com")
  .setExpirationTime("1h")
  .sign(privateKey);

describe("partner-token decode", () => {
  it("reads a token from stdin", async () => {
    const r = await runCli(["decode", "-"], { input: token + "\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.header.kid, "k1");
    assert.equal(r.json.claims.aud, "https://api.partnercenter.microsoft.com");
    assert.equal(r.stderr, "");
  });

  it("reads stdin when no source is given and stdin is not a terminal", async () => {
    const r = await runCli(["decode", "--query", "claims.scp", "-o", "tsv"], { input: token });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "user_impersonation\n");
  });

  it("reads @file and env:NAME", async () => {
    const file = await runCli([
      "decode",
      await secretFile(token),
      "--query",
      "claims.tid",
      "-o",
      "tsv",
    ]);
    assert.equal(file.stdout, "t1\n", file.stderr);
    const env = await runCli(["decode", "env:MY_TOKEN", "--query", "header.alg", "-o", "tsv"], {
      env: { MY_TOKEN: token },
    });
    assert.equal(env.stdout, "RS256\n", env.stderr);
  });

  it("refuses the token itself on the command line, without echoing it", async () => {
    const r = await runCli(["decode", token]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not the token itself/);
    assert.match(r.stderr, /decode -   \(stdin\)  \|  decode @path  \|  decode env:NAME/);
    assert.ok(!r.stderr.includes(token.split(".")[1]!), "the literal must not be echoed");
    assert.equal(r.stdout, "");
  });

  it("says an opaque token is not a JWT (exit 1)", async () => {
    const r = await runCli(["decode", "-"], { input: "0.AXoAopaque-refresh-token" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a JWT \(refresh tokens/);
    assert.ok(!r.stderr.includes("AXoAopaque"));
  });
});
