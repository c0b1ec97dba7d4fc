/**
 * Client assertions in every form Microsoft's libraries send: `x5t` as base64url (MSAL.js,
 * MSAL.NET), padded (MSAL for Python) or standard base64, `x5t#S256`, an `x5c` chain with or
 * without a thumbprint, RS256 and PS256; and malformed headers of the wrong types, refused with
 * Entra's 401 rather than a server error.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { importPKCS8, SignJWT } from "jose";
import { Harness, aadsts } from "./harness.ts";

let h: Harness;
let partner: string;
let der: Buffer;

before(async () => {
  h = await Harness.start();
  partner = h.info.partnerTenant.id;
  der = new X509Certificate(await readFile(h.info.apps.certificate.certificateFile)).raw;
});
after(() => h.close());

const sha1 = () => createHash("sha1").update(der).digest();
const sha256 = () => createHash("sha256").update(der).digest();

async function assertion(alg: "RS256" | "PS256", header: Record<string, unknown>) {
  const key = await importPKCS8(await readFile(h.info.apps.certificate.keyFile, "utf8"), alg);
  const id = h.info.apps.certificate.clientId;
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg, typ: "JWT", ...header })
    .setIssuer(id)
    .setSubject(id)
    .setAudience(`${h.emu.url}/${partner}/oauth2/v2.0/token`)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);
}

function redeem(clientAssertion: string) {
  return h.token(partner, {
    client_id: h.info.apps.certificate.clientId,
    grant_type: "client_credentials",
    scope: "https://graph.microsoft.com/.default",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: clientAssertion,
  });
}

describe("client assertion forms", () => {
  const forms: [string, "RS256" | "PS256", () => Record<string, unknown>][] = [
    ["x5t base64url", "RS256", () => ({ x5t: sha1().toString("base64url") })],
    [
      "x5t padded, as MSAL for Python sends it",
      "RS256",
      () => ({ x5t: sha1().toString("base64").replace(/\+/g, "-").replace(/\//g, "_") }),
    ],
    ["x5t standard base64", "PS256", () => ({ x5t: sha1().toString("base64") })],
    ["x5t as hex", "RS256", () => ({ x5t: sha1().toString("hex") })],
    ["x5t#S256 padded", "PS256", () => ({ "x5t#S256": sha256().toString("base64") })],
    [
      "x5c chain with x5t",
      "RS256",
      () => ({ x5t: sha1().toString("base64url"), x5c: [der.toString("base64")] }),
    ],
    ["x5c chain alone", "PS256", () => ({ x5c: [der.toString("base64")] })],
  ];
  for (const [name, alg, header] of forms)
    test(`${name}, ${alg}`, async () => {
      const res = await redeem(await assertion(alg, header()));
      assert.equal(res.status, 200, res.text);
      assert.equal((await h.verify(String(res.json["access_token"])))["appidacr"], "2");
    });

  test("nbf and exp as strings of digits, as MSAL.NET writes them; other strings: AADSTS700024", async () => {
    const key = await importPKCS8(await readFile(h.info.apps.certificate.keyFile, "utf8"), "PS256");
    const id = h.info.apps.certificate.clientId;
    const now = Math.floor(Date.now() / 1000);
    const signed = (times: Record<string, string>) =>
      new SignJWT({ jti: randomUUID(), ...times } as Record<string, unknown>)
        .setProtectedHeader({
          alg: "PS256",
          typ: "JWT",
          "x5t#S256": sha256().toString("base64url"),
        })
        .setIssuer(id)
        .setSubject(id)
        .setAudience(`${h.emu.url}/${partner}/oauth2/v2.0/token`)
        .sign(key);
    const ok = await redeem(await signed({ nbf: String(now), exp: String(now + 600) }));
    assert.equal(ok.status, 200, ok.text);
    const refused: Record<string, string>[] = [
      { nbf: String(now), exp: String(now - 3600) },
      { exp: "soon" },
      { exp: `${now + 600}.5` },
    ];
    for (const times of refused) {
      const res = await redeem(await signed(times));
      assert.equal(res.status, 401, JSON.stringify(times));
      assert.equal(aadsts(res.json), 700024);
    }
  });

  test("an unknown certificate names its thumbprint: AADSTS700027", async () => {
    const res = await redeem(
      await assertion("RS256", { x5t: Buffer.alloc(20, 7).toString("base64url") }),
    );
    assert.equal(res.status, 401);
    assert.equal(aadsts(res.json), 700027);
    assert.match(String(res.json["error_description"]), /0707070707/);
  });

  test("header and claim fields of the wrong type get Entra's 401, never a 500", async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const id = h.info.apps.certificate.clientId;
    const payloads = [{ iss: id, sub: id, aud: [{}], exp: "soon" }, [], 5, { iss: 1, sub: null }];
    const headers = [
      { alg: "RS256", x5t: 5 },
      { alg: ["RS256"] },
      { alg: "RS256", x5c: "abc" },
      { alg: "RS256", x5c: [7] },
      { alg: "PS256", "x5t#S256": {} },
      null,
    ];
    for (const header of headers)
      for (const payload of payloads) {
        const res = await redeem(
          `${b64(header)}.${b64(payload)}.${Buffer.from("sig").toString("base64url")}`,
        );
        assert.equal(res.status, 401, `${JSON.stringify(header)} ${res.text}`);
        aadsts(res.json);
      }
  });
});
