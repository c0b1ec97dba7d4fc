/**
 * The requests that could once stop the emulator or earn a 500, each sent on purpose (the fuzz
 * test sends them among thousands of others, at random): malformed request targets, bytes that
 * are not HTTP, Basic credentials that are not form-encoded, a clock pushed past what dates can
 * hold. Each gets a 4xx in Entra's shape, and the emulator goes on answering.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { Harness, aadsts } from "./harness.ts";

let h: Harness;
before(async () => {
  h = await Harness.start();
});
after(() => h.close());

/** Writes bytes straight to a TLS connection; resolves with the status and body of the answer. */
function raw(bytes: string): Promise<{ status: number; body: string }> {
  const url = new URL(h.emu.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: h.ca }, () =>
      socket.end(bytes),
    );
    let out = "";
    socket.on("data", (c: Buffer) => (out += c.toString("utf8")));
    socket.on("close", () =>
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0),
        body: out.slice(out.indexOf("\r\n\r\n") + 4),
      }),
    );
    socket.on("error", reject);
  });
}

const stillServing = async () =>
  assert.equal((await h.fetch("/common/v2.0/.well-known/openid-configuration")).status, 200);

describe("hostile requests", () => {
  for (const [name, bytes, status] of [
    ["a target starting with //", "GET //evil/x HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    [
      "an absolute-form target",
      "GET http://login.microsoftonline.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
      400,
    ],
    ["an asterisk target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["bytes that are not HTTP", "\x00\x01\x02 nonsense\r\n\r\n", 400],
    [
      "a negative Content-Length",
      "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      400,
    ],
    ["headers too large", `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
  ] as const)
    test(`${name}: ${status} in Entra's shape`, async () => {
      const res = await raw(bytes);
      assert.equal(res.status, status, res.body);
      aadsts(JSON.parse(res.body));
      await stillServing();
    });

  test("Basic credentials that are not form-encoded: 400, not 500", async () => {
    const res = await h.fetch(`/${h.info.partnerTenant.id}/oauth2/v2.0/token`, {
      form: { grant_type: "client_credentials", scope: "https://graph.microsoft.com/.default" },
      headers: { authorization: `Basic ${Buffer.from("%E0%A4%A:%zz").toString("base64")}` },
    });
    assert.equal(res.status, 400);
    aadsts(res.json);
  });

  test("grant types and hosts named like Object's own properties: 400 and 404, not 500", async () => {
    for (const grantType of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      const res = await h.token(h.info.partnerTenant.id, {
        ...h.confidential(),
        grant_type: grantType,
        scope: "https://graph.microsoft.com/.default",
      });
      assert.equal(res.status, 400, `${grantType}: ${res.text}`);
      assert.equal(aadsts(res.json), 70003);
    }
    for (const host of ["constructor", "toString"]) {
      const res = await raw(`GET /nowhere HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(res.status, 404);
      aadsts(JSON.parse(res.body));
    }
  });

  test("a vault path that is not validly percent-encoded: 400 in Key Vault's shape", async () => {
    const token = await h.credentials(h.info.partnerTenant.id, "https://vault.azure.net/.default");
    for (const name of ["%zz", "%E0%A4%A"]) {
      const res = await h.fetch(`/secrets/${name}?api-version=7.4`, {
        headers: { authorization: `Bearer ${token.json["access_token"]}` },
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json["error"]["code"], "BadRequest");
    }
  });

  test("a clock pushed past year 9999 is refused, and dates keep working", async () => {
    const res = await h.fetch("/_emulator/clock", { json: { advanceSeconds: 1e308 } });
    assert.equal(res.status, 400);
    await stillServing();
    const token = await h.credentials(h.info.partnerTenant.id);
    assert.equal(token.status, 200);
  });
});
