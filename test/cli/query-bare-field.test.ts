/** `--query` with a bare field name is read without JMESPath: the same value as JMESPath's. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { search } from "@jmespath-community/jmespath";
import { applyQuery, compileQuery } from "../../src/cli/output.ts";

const result = {
  accessToken: "eyJ.a.b",
  expiresOn: 1765000000,
  account: { username: "admin@contoso.example" },
  scopes: ["https://graph.microsoft.com/.default"],
  idToken: null,
  true: "a field named true",
  _x1: 0,
};

it("a bare field gives JMESPath's value for fields present, absent, nested, null and inherited", async () => {
  for (const query of [
    "accessToken",
    "expiresOn",
    "account",
    "scopes",
    "idToken",
    "true",
    "_x1",
    "missing",
    "null",
    "let",
    "constructor",
    "account.username",
    "scopes[0]",
    "{t: accessToken}",
  ]) {
    const expected = search(result as Parameters<typeof search>[0], query);
    assert.deepEqual(await applyQuery(result, query), expected, query);
  }
  // Not an object: JMESPath's null, not a property of a string or an array.
  assert.equal(await applyQuery("text", "length"), null);
  assert.equal(await applyQuery(["a"], "length"), null);
});

it("a bad expression is still a usage error; a bare field passes the check", async () => {
  await compileQuery("accessToken");
  await assert.rejects(compileQuery("accessToken["), /--query/);
});
