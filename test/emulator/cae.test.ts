/**
 * CAE in the emulator: cp1 in the claims request gets a long-lived token for Graph and Exchange
 * (xms_cc in it, refresh_in in the answer), the usual hour otherwise; Graph answers a revoked
 * user's or session's CAE token with Microsoft's claims challenge; the refresh grant carrying it
 * after the revocation is refused (sign-in needed).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Harness, aadsts, advance } from "./harness.ts";
import { parseSeed } from "../../src/emulator/seed.ts";
import { GRAPH, PARTNER } from "./graph-helpers.ts";

const CP1 = JSON.stringify({ access_token: { xms_cc: { values: ["cp1"] } } });
// msal-common's claims with the default id_token claims merged in, cp1 upper-case.
const MSAL_CLAIMS = JSON.stringify({
  id_token: { auth_time: { essential: true } },
  access_token: { xms_cc: { values: ["CP1"] } },
});

let h: Harness;
before(async () => {
  h = await Harness.start();
});
after(() => h.close());

function ropc(extra: Record<string, string> = {}, scope = `${GRAPH}/.default offline_access`) {
  return h.token(PARTNER, {
    client_id: h.info.apps.public.clientId,
    grant_type: "password",
    username: h.info.user.username,
    password: h.info.user.password,
    scope,
    ...extra,
  });
}

function me(token: string) {
  return h.fetch("/v1.0/me", { headers: { authorization: `Bearer ${token}` } });
}

function decode(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));
}

/** The claims challenge of a 401, decoded; asserts its shape. */
function challenge(res: { status: number; headers: Record<string, unknown>; json: any }) {
  assert.equal(res.status, 401);
  assert.equal(res.json.error.code, "InvalidAuthenticationToken");
  const header = String(res.headers["www-authenticate"]);
  const m =
    /^Bearer realm="", authorization_uri="([^"]+)", error="insufficient_claims", claims="([A-Za-z0-9+/=]+)"$/.exec(
      header,
    );
  assert.ok(m, header);
  assert.equal(m[1], `${h.emu.url}/common/oauth2/authorize`);
  const claims = JSON.parse(Buffer.from(m[2]!, "base64").toString("utf8"));
  assert.equal(claims.access_token.nbf.essential, true);
  assert.match(claims.access_token.nbf.value, /^\d+$/);
  return {
    raw: Buffer.from(m[2]!, "base64").toString("utf8"),
    nbf: Number(claims.access_token.nbf.value),
  };
}

describe("CAE tokens", () => {
  it("cp1 (any case, merged with id_token claims) gets a long-lived Graph token with xms_cc and refresh_in", async () => {
    for (const claims of [CP1, MSAL_CLAIMS]) {
      const res = await ropc({ claims });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json["expires_in"], 24 * 3600);
      assert.equal(res.json["refresh_in"], 12 * 3600);
      const t = decode(res.json["access_token"]);
      assert.deepEqual(t["xms_cc"], ["cp1"]);
      assert.equal(Number(t["exp"]) - Number(t["iat"]), 24 * 3600);
    }
  });

  it("without cp1, or for a resource that is not CAE-capable, the usual hour", async () => {
    const plain = await ropc();
    assert.equal(plain.json["expires_in"], 3600);
    assert.equal(plain.json["refresh_in"], undefined);
    assert.equal(decode(plain.json["access_token"])["xms_cc"], undefined);
    const idOnly = await ropc({
      claims: JSON.stringify({ id_token: { acrs: { essential: true } } }),
    });
    assert.equal(idOnly.json["expires_in"], 3600);
    const arm = await ropc({ claims: CP1 }, "https://management.azure.com/.default");
    assert.equal(arm.status, 200, arm.text);
    assert.equal(arm.json["expires_in"], 3600);
    assert.equal(decode(arm.json["access_token"])["xms_cc"], undefined);
  });

  it("the v1 endpoint answers in its shape: strings, refresh_in among them", async () => {
    const res = await h.fetch(`/${PARTNER}/oauth2/token`, {
      form: {
        client_id: h.info.apps.public.clientId,
        grant_type: "password",
        username: h.info.user.username,
        password: h.info.user.password,
        resource: GRAPH,
        claims: CP1,
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json["expires_in"], String(24 * 3600));
    assert.equal(res.json["refresh_in"], String(12 * 3600));
  });

  it("Exchange Online is CAE-capable too", async () => {
    const res = await ropc({ claims: CP1 }, "https://outlook.office365.com/.default");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json["expires_in"], 24 * 3600);
  });

  it("a claims parameter that is not a JSON object is invalid_request", async () => {
    for (const claims of ["{not json", "[1]", "x".repeat(9000)]) {
      const res = await ropc({ claims });
      assert.equal(res.status, 400, claims.slice(0, 20));
      assert.equal(res.json["error"], "invalid_request");
      assert.match(String(res.json["error_description"]), /'claims' parameter/);
    }
  });

  it("the seed sets the CAE lifetime, bounded by Entra's 28 hours", () => {
    assert.throws(
      () => parseSeed({ settings: { caeAccessTokenLifetimeSeconds: 29 * 3600 } }),
      /caeAccessTokenLifetimeSeconds/,
    );
  });
});

describe("Graph's claims challenge", () => {
  it("a revocation: the CAE token meets a challenge, the plain token lives out its hour, the refresh grant is refused", async () => {
    const cae = await ropc({ claims: CP1 });
    const plain = await ropc();
    assert.equal((await me(cae.json["access_token"])).status, 200);
    advance(h, 1);
    const revoked = await h.fetch("/_emulator/revoke", {
      json: { username: h.info.user.username },
    });
    assert.equal(revoked.status, 200, revoked.text);
    const c = challenge(await me(cae.json["access_token"]));
    assert.ok(c.nbf >= Number(decode(cae.json["access_token"])["iat"]));
    assert.equal((await me(plain.json["access_token"])).status, 200);
    // The refresh grant with the challenge's claims merged with cp1: sign-in needed.
    const refused = await h.token(PARTNER, {
      client_id: h.info.apps.public.clientId,
      grant_type: "refresh_token",
      refresh_token: cae.json["refresh_token"],
      scope: `${GRAPH}/.default offline_access`,
      claims: JSON.stringify({
        access_token: { ...JSON.parse(c.raw).access_token, xms_cc: { values: ["cp1"] } },
      }),
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json["error"], "invalid_grant");
    assert.equal(aadsts(refused.json), 50173);
    // A new sign-in, even in the second of the revocation, gets a CAE token Graph honours.
    const fresh = await ropc({ claims: CP1 });
    assert.equal((await me(fresh.json["access_token"])).status, 200);
  });

  it("a password reset revokes the refresh tokens and the CAE sessions", async () => {
    const user = h.info.user;
    const cae = await ropc({ claims: CP1 });
    advance(h, 1);
    const changed = await h.fetch("/_emulator/users", {
      json: { username: user.username, password: "Reset-Passw0rd!" },
    });
    assert.equal(changed.status, 200, changed.text);
    try {
      challenge(await me(cae.json["access_token"]));
      const refused = await h.refresh(cae.json["refresh_token"], `${GRAPH}/.default`, PARTNER);
      assert.equal(aadsts(refused.json), 50173);
    } finally {
      await h.fetch("/_emulator/users", {
        json: { username: user.username, password: user.password },
      });
    }
  });

  it("a disabled user: challenge, sign-in refused with AADSTS50057; enabled again, tokens work", async () => {
    const user = h.info.user;
    const cae = await ropc({ claims: CP1 });
    const disabled = await h.fetch("/_emulator/users", {
      json: { username: user.username, accountEnabled: false },
    });
    assert.equal(disabled.status, 200, disabled.text);
    try {
      challenge(await me(cae.json["access_token"]));
      const refused = await h.refresh(cae.json["refresh_token"], `${GRAPH}/.default`, PARTNER);
      assert.equal(refused.status, 400);
      assert.equal(aadsts(refused.json), 50057);
    } finally {
      await h.fetch("/_emulator/users", {
        json: { username: user.username, accountEnabled: true },
      });
    }
    assert.equal((await me(cae.json["access_token"])).status, 200);
  });

  it("the control API names a bad field", async () => {
    const res = await h.fetch("/_emulator/users", {
      json: { username: h.info.user.username, accountEnabled: "no" },
    });
    assert.equal(res.status, 400);
    assert.match(res.json["message"], /accountEnabled/);
  });
});
