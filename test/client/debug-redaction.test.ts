import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import {
  acquireTokenByClientCredentials,
  acquireTokenByDeviceCode,
  acquireTokenByRefreshToken,
  newPartnerAccessToken,
  redact,
} from "../../src/index.ts";
import { followingBrowser, GRAPH, startEmulatorWithBase, type EmulatorBase } from "./helpers.ts";

describe("redaction", () => {
  test("redact() hides the secret names in forms, JSON, headers, and anything shaped like a JWT", () => {
    const form = redact(
      "grant_type=refresh_token&refresh_token=0.AXo-abc&client_secret=s3cr3t&scope=openid&code=xyz&code_verifier=v",
    );
    assert.equal(
      form,
      "grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]&scope=openid&code=[REDACTED]&code_verifier=[REDACTED]",
    );
    assert.equal(
      redact('{"access_token":"abc","id_token":"def","token_type":"Bearer"}'),
      '{"access_token":"[REDACTED]","id_token":"[REDACTED]","token_type":"Bearer"}',
    );
    assert.equal(
      redact("authorization: Bearer abc\naccept: */*"),
      "authorization: [REDACTED]\naccept: */*",
    );
    assert.equal(
      redact("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here"),
      "token [REDACTED] here",
    );
    assert.equal(redact("my secret is hunter22", ["hunter22"]), "my secret is [REDACTED]");
  });
});

describe("--debug shows the exchange with no secret or token (every flow)", () => {
  let emu: RunningEmulator;
  let base: EmulatorBase;
  before(async () => {
    ({ emu, base } = await startEmulatorWithBase());
  });
  after(() => emu.close());

  test("client credentials, authorization code, refresh, device code", async () => {
    const lines: string[] = [];
    const debug = (line: string) => lines.push(line);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const tenant = emu.info.partnerTenant.id;
    const secrets: string[] = [clientSecret];
    const keep = (result: {
      accessToken: string;
      refreshToken: string | null;
      idToken: string | null;
    }) => {
      for (const value of [result.accessToken, result.refreshToken, result.idToken])
        if (value) secrets.push(value);
    };
    keep(
      await acquireTokenByClientCredentials(
        { ...base, clientId, clientSecret, tenant, scopes: [GRAPH] },
        { debug },
      ),
    );
    const signedIn = await newPartnerAccessToken(
      {
        ...base,
        applicationId: clientId,
        credential: { userName: clientId, password: clientSecret },
        scopes: [GRAPH],
        tenant,
        servicePrincipal: true,
        useAuthorizationCode: true,
      },
      { debug, openBrowser: followingBrowser(emu) },
    );
    keep(signedIn);
    keep(
      await acquireTokenByRefreshToken(
        {
          ...base,
          clientId,
          clientSecret,
          tenant,
          scopes: [GRAPH],
          refreshToken: signedIn.refreshToken!,
        },
        { debug },
      ),
    );
    keep(
      await acquireTokenByDeviceCode(
        { ...base, clientId: emu.info.apps.public.clientId, scopes: [GRAPH] },
        { debug, log: () => {} },
      ),
    );
    const output = lines.join("\n");
    assert.ok(output.includes("/oauth2/v2.0/token"), "the exchange is shown");
    assert.ok(output.includes("client-request-id"), "headers are shown");
    for (const secret of secrets)
      assert.ok(!output.includes(secret), `a secret or token leaked: ${secret.slice(0, 12)}…`);
    for (const name of [
      "device_code",
      "code",
      "code_verifier",
      "client_secret",
      "refresh_token",
      "access_token",
      "id_token",
    ]) {
      const leaked = new RegExp(
        `(^|[&?"\\s])${name}"?[=:]\\s*"?(?!\\[REDACTED\\])[A-Za-z0-9._~-]{6,}`,
        "m",
      ).exec(output);
      assert.equal(leaked, null, `value of ${name} shown: ${leaked?.[0]}`);
    }
  });
});
