/**
 * Interactive sign-in through the loopback redirect (authorization code + PKCE): the User set
 * (public client), and App + User (-ServicePrincipal -UseAuthorizationCode with a secret or a
 * certificate), which is how partners get their refresh token. The "browser" is a small script
 * given as BROWSER that follows the emulator's auto-approved redirects.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  PARTNER_CENTER,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  writeFetchBrowser,
  type Emulator,
} from "./helpers.ts";

describe("new, interactive (authorization code + PKCE)", () => {
  let emu: Emulator;
  let browser: string;
  before(async () => {
    emu = await startTestEmulator();
    browser = await writeFetchBrowser(emu.info.caFile);
  });
  after(() => emu?.close());

  const expectUserTokens = async (
    r: { code: number | null; stderr: string; json: any },
    appId: string,
  ) => {
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://api.partnercenter.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      scp: "user_impersonation",
      appId,
    });
    assert.ok(r.json.refreshToken, "the refresh token is always returned");
    assert.ok(r.json.idToken);
    assert.equal(r.json.account.username, emu.info.user.username);
  };

  it("User set, no switch: the browser flow with a public client", async () => {
    const appId = emu.info.apps.public.clientId;
    const r = await runCli(
      ["new", "--application-id", appId, "--scopes", PARTNER_CENTER, ...emuFlags(emu)],
      {
        env: { BROWSER: browser },
      },
    );
    await expectUserTokens(r, appId);
    assert.match(r.stderr, /redirect_uri=http%3A%2F%2Flocalhost%3A8[4-9]\d\d%2F/);
    // The address printed for copying by hand must work as is.
    assert.match(r.stderr, /client_info=1/);
  });

  it("User set with -UseAuthorizationCode", async () => {
    const appId = emu.info.apps.public.clientId;
    const r = await runCli(
      [
        "new",
        "-UseAuthorizationCode",
        "-ApplicationId",
        appId,
        "-Scopes",
        PARTNER_CENTER,
        ...emuFlags(emu),
      ],
      { env: { BROWSER: browser } },
    );
    await expectUserTokens(r, appId);
  });

  it("App + User: -ServicePrincipal -UseAuthorizationCode with the secret (the partners' refresh token)", async () => {
    const { confidential } = emu.info.apps;
    const r = await runCli(
      [
        "new",
        "--application-id",
        confidential.clientId,
        "--credential",
        "env:APP_SECRET",
        "--scopes",
        PARTNER_CENTER,
        "--service-principal",
        "--tenant",
        emu.info.partnerTenant.id,
        "--use-authorization-code",
        ...emuFlags(emu),
      ],
      { env: { BROWSER: browser, APP_SECRET: confidential.clientSecret } },
    );
    await expectUserTokens(r, confidential.clientId);
  });

  it("App + User with a certificate: --certificate-path --auth-code", async () => {
    const { certificate } = emu.info.apps;
    const pem = join(await tempDir(), "app.pem");
    await writeFile(
      pem,
      (await readFile(certificate.certificateFile, "utf8")) +
        (await readFile(certificate.keyFile, "utf8")),
    );
    const r = await runCli(
      [
        "new",
        "--application-id",
        certificate.clientId,
        "--certificate-path",
        pem,
        "--scopes",
        PARTNER_CENTER,
        "--tenant",
        emu.info.partnerTenant.id,
        "--auth-code",
        ...emuFlags(emu),
      ],
      { env: { BROWSER: browser } },
    );
    await expectUserTokens(r, certificate.clientId);
  });

  it("--no-browser prints the address on stderr instead of opening a browser", async () => {
    const appId = emu.info.apps.public.clientId;
    const { spawn } = await import("node:child_process");
    let opened = false;
    const r = await runCli(
      ["new", "--no-browser", "--application-id", appId, "--scopes", GRAPH, ...emuFlags(emu)],
      {
        env: { BROWSER: "/bin/false" },
        onStderr: (text) => {
          const m = /(https:\/\/\S+\/oauth2\/v2\.0\/authorize\S+)/.exec(text);
          if (m && !opened) {
            opened = true;
            spawn(browser, [m[1]!], { stdio: "ignore" });
          }
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(opened);
    assert.ok(r.json.refreshToken);
  });
});
