/**
 * The standard flows against an independent server, panva's oidc-provider, through
 * `--authority` (discovery): client credentials with a secret and with a signed assertion,
 * device code, refresh (rotated), authorization code + PKCE through the loopback redirect.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { runCli, writeFetchBrowser } from "./helpers.ts";
import { API, API_SCOPE, startOidcProvider, type OidcServer } from "./fixtures/oidc-provider.ts";

describe("new --authority <oidc-provider>", () => {
  let op: OidcServer;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let browser: string;
  before(async () => {
    op = await startOidcProvider();
    jwks = createRemoteJWKSet(new URL(`${op.issuer}/jwks`));
    browser = await writeFetchBrowser(null);
  });
  after(() => op?.close());

  // No --tenant anywhere: with --authority the issuer decides, and no parameter set needs one.

  const verify = async (token: string) => {
    const { payload } = await jwtVerify(token, jwks, { issuer: op.issuer, audience: API });
    assert.equal(payload.scope, API_SCOPE);
    return payload;
  };

  it("client credentials with a secret", async () => {
    const r = await runCli(
      [
        "new",
        "--authority",
        op.issuer,
        "--service-principal",
        "--application-id",
        op.clients.secret.id,
        "--credential",
        "env:S",
        "--scopes",
        API_SCOPE,
      ],
      { env: { S: op.clients.secret.secret } },
    );
    assert.equal(r.code, 0, r.stderr);
    const claims = await verify(r.json.accessToken);
    assert.equal(claims.client_id, op.clients.secret.id);
    assert.equal(r.json.refreshToken, null);
  });

  it("client credentials with a signed client assertion (private_key_jwt, --certificate-path)", async () => {
    const r = await runCli([
      "new",
      "--authority",
      op.issuer,
      "--service-principal",
      "--application-id",
      op.clients.jwt.id,
      "--certificate-path",
      op.certificatePem,
      "--scopes",
      API_SCOPE,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const claims = await verify(r.json.accessToken);
    assert.equal(claims.client_id, op.clients.jwt.id);
  });

  let refreshToken: string;

  it("device code (public client): approved, with a refresh token", async () => {
    let approving: Promise<void> | undefined;
    const r = await runCli(
      [
        "new",
        "--authority",
        op.issuer,
        "--device",
        "--application-id",
        op.clients.public.id,
        "--scopes",
        API_SCOPE,
      ],
      {
        onStderr: (text) => {
          const m = /\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b/.exec(text);
          if (m && !approving) approving = op.approveDeviceCode(m[1]!);
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(approving, "the user code was shown on stderr");
    await verify(r.json.accessToken);
    assert.ok(r.json.refreshToken, "the server issued a refresh token; the result carries it");
    assert.ok(op.issuedRefreshTokens.has(r.json.refreshToken));
    assert.ok(r.json.idToken);
    refreshToken = r.json.refreshToken;
  });

  it("refresh: a new access token and a rotated refresh token", async () => {
    assert.ok(refreshToken, "needs the device code test");
    const r = await runCli(
      [
        "new",
        "--authority",
        op.issuer,
        "--refresh-token",
        "-",
        "--application-id",
        op.clients.public.id,
        "--scopes",
        API_SCOPE,
      ],
      { input: refreshToken },
    );
    assert.equal(r.code, 0, r.stderr);
    await verify(r.json.accessToken);
    assert.ok(r.json.refreshToken);
    assert.notEqual(r.json.refreshToken, refreshToken);
    assert.ok(op.issuedRefreshTokens.has(r.json.refreshToken));
  });

  it("authorization code + PKCE through the loopback redirect (public client)", async () => {
    const before = new Set(op.issuedRefreshTokens.keys());
    const r = await runCli(
      [
        "new",
        "--authority",
        op.issuer,
        "--use-authorization-code",
        "--application-id",
        op.clients.public.id,
        "--scopes",
        API_SCOPE,
      ],
      {
        env: { BROWSER: browser },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    await verify(r.json.accessToken);
    assert.ok(r.json.idToken);
    // oidc-provider drops offline_access unless prompt=consent (OIDC Core §11): then there is
    // no refresh token, and the result says so with null. Either way it matches the server.
    const issued = [...op.issuedRefreshTokens.keys()].filter((k) => !before.has(k));
    assert.equal(r.json.refreshToken, issued[0] ?? null);
  });

  it("App + User: authorization code redeemed with the secret", async () => {
    const r = await runCli(
      [
        "new",
        "--authority",
        op.issuer,
        "--service-principal",
        "--use-authorization-code",
        "--application-id",
        op.clients.secret.id,
        "--credential",
        "env:S",
        "--scopes",
        API_SCOPE,
      ],
      { env: { S: op.clients.secret.secret, BROWSER: browser } },
    );
    assert.equal(r.code, 0, r.stderr);
    await verify(r.json.accessToken);
  });
});
