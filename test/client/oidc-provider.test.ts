/**
 * The standard flows against an independent OpenID Connect server (panva's oidc-provider),
 * found through `authority` (discovery): client credentials with a secret and with a signed
 * assertion, authorization code + PKCE, refresh, device code.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import {
  acquireTokenByAuthorizationCode,
  acquireTokenByClientCredentials,
  acquireTokenByDeviceCode,
  acquireTokenByRefreshToken,
} from "../../src/index.ts";
import {
  API,
  API_SCOPE,
  startOidcProvider,
  type OidcServer,
} from "../cli/fixtures/oidc-provider.ts";

/** A browser stand-in over plain http that keeps cookies and follows redirects to the loopback page. */
async function browse(start: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hops = 0; hops < 15; hops++) {
    const res = await new Promise<{
      status: number;
      location?: string;
      setCookie: string[];
      body: string;
    }>((resolve, reject) => {
      const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join("; ");
      const req = request(url, { headers: cookie ? { cookie } : {} }, (r) => {
        let body = "";
        r.setEncoding("utf8").on("data", (d: string) => (body += d));
        r.on("end", () =>
          resolve({
            status: r.statusCode ?? 0,
            location: r.headers.location,
            setCookie: r.headers["set-cookie"] ?? [],
            body,
          }),
        );
      });
      req.on("error", reject);
      req.end();
    });
    for (const line of res.setCookie) {
      const [pair] = line.split(";");
      const [name, ...value] = pair!.split("=");
      cookies.set(name!.trim(), value.join("="));
    }
    if (res.status >= 300 && res.status < 400 && res.location) {
      url = new URL(res.location, url).href;
      continue;
    }
    return res.body;
  }
  throw new Error("too many redirects");
}

describe("against oidc-provider through authority (discovery)", () => {
  let op: OidcServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  before(async () => {
    op = await startOidcProvider();
    jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
  });
  after(() => op.close());

  async function verify(token: string) {
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: API });
    return payload;
  }

  test("client credentials with a secret", async () => {
    const result = await acquireTokenByClientCredentials({
      authority: op.issuer,
      clientId: op.clients.secret.id,
      clientSecret: op.clients.secret.secret,
      scopes: [API_SCOPE],
    });
    const claims = await verify(result.accessToken);
    assert.equal(claims.client_id, op.clients.secret.id);
    assert.equal(claims.scope, API_SCOPE);
  });

  test("client credentials with a signed client assertion (private_key_jwt)", async () => {
    const result = await acquireTokenByClientCredentials({
      authority: op.issuer,
      clientId: op.clients.jwt.id,
      certificate: { path: op.certificatePem },
      scopes: [API_SCOPE],
    });
    assert.equal((await verify(result.accessToken)).client_id, op.clients.jwt.id);
  });

  test("authorization code + PKCE, then refresh (rotated)", async () => {
    let page: Promise<string> | undefined;
    const result = await acquireTokenByAuthorizationCode(
      { authority: op.issuer, clientId: op.clients.public.id, scopes: [API_SCOPE] },
      { openBrowser: async (url) => void (page = browse(url)) },
    );
    assert.match(await page!, /Authentication complete/);
    assert.equal((await verify(result.accessToken)).sub, "tester");
    assert.ok(result.idToken && result.refreshToken);
    assert.equal(result.account?.homeAccountId.objectId, "tester");
    assert.equal(result.account?.environment, new URL(op.issuer).host);
    const refreshed = await acquireTokenByRefreshToken({
      authority: op.issuer,
      clientId: op.clients.public.id,
      scopes: [API_SCOPE],
      refreshToken: result.refreshToken,
    });
    assert.ok(await verify(refreshed.accessToken));
    assert.ok(refreshed.refreshToken && refreshed.refreshToken !== result.refreshToken);
  });

  test("device code", async () => {
    const result = await acquireTokenByDeviceCode(
      { authority: op.issuer, clientId: op.clients.public.id, scopes: [API_SCOPE] },
      {
        log: (message) => {
          const code = /code ([A-Z0-9-]+)/i.exec(message)?.[1];
          assert.ok(code, message);
          setTimeout(() => void op.approveDeviceCode(code), 100);
        },
      },
    );
    assert.ok(await verify(result.accessToken));
    assert.ok(result.refreshToken);
  });
});
