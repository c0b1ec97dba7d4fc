/**
 * RefreshToken set: the unattended, many-times-a-day flow. The refresh token rotates: each run
 * returns a new one, different from the one sent, and the result always carries it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  deviceSignIn,
  emuFlags,
  GRAPH,
  PARTNER_CENTER,
  runCli,
  secretFile,
  startTestEmulator,
  verifyEmulatorToken,
  writeFetchBrowser,
  type Emulator,
} from "./helpers.ts";

describe("new --refresh-token", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  /** `new --refresh-token env:RT` for the public app, the refresh token given in RT. */
  const refreshFromEnv = (refreshToken: string, scope: string, ...extra: string[]) =>
    runCli(
      [
        "new",
        "--refresh-token",
        "env:RT",
        "--application-id",
        emu.info.apps.public.clientId,
        "--scopes",
        scope,
        ...extra,
        ...emuFlags(emu),
      ],
      { env: { RT: refreshToken } },
    );

  it("public client, token from @file: a new access token and a rotated refresh token", async () => {
    const appId = emu.info.apps.public.clientId;
    const first = await deviceSignIn(emu, appId, [PARTNER_CENTER]);
    const r = await runCli([
      "new",
      "--refresh-token",
      await secretFile(first.refreshToken),
      "--application-id",
      appId,
      "--scopes",
      PARTNER_CENTER,
      ...emuFlags(emu),
    ]);
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://api.partnercenter.microsoft.com",
      tenantId: emu.info.partnerTenant.id,
      scp: "user_impersonation",
    });
    assert.ok(r.json.refreshToken);
    assert.notEqual(r.json.refreshToken, first.refreshToken, "the refresh token rotates");
  });

  it("chains: each run's refresh token feeds the next (stdin), for another resource", async () => {
    const appId = emu.info.apps.public.clientId;
    let rt = (await deviceSignIn(emu, appId, [PARTNER_CENTER])).refreshToken as string;
    for (const scope of [GRAPH, PARTNER_CENTER]) {
      const r = await runCli(
        ["new", "-RefreshToken", "-", "-ApplicationId", appId, "-Scopes", scope, ...emuFlags(emu)],
        { input: rt },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.json.refreshToken);
      assert.notEqual(r.json.refreshToken, rt);
      rt = r.json.refreshToken;
    }
  });

  it("into a customer tenant (GDAP-style): the access token is for the customer", async () => {
    const appId = emu.info.apps.public.clientId;
    const first = await deviceSignIn(emu, appId, [PARTNER_CENTER]);
    const customer = emu.info.customers[0]!;
    const r = await refreshFromEnv(first.refreshToken, GRAPH, "--tenant", customer.id);
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://graph.microsoft.com",
      tenantId: customer.id,
    });
    assert.notEqual(r.json.refreshToken, first.refreshToken);
  });

  it("confidential (App + User): -Credential's user name is the client id, -ServicePrincipal", async () => {
    const { confidential } = emu.info.apps;
    const browser = await writeFetchBrowser(emu.info.caFile);
    const common = [
      "--credential",
      "env:S",
      "--scopes",
      PARTNER_CENTER,
      "--service-principal",
      "--tenant",
      emu.info.partnerTenant.id,
      ...emuFlags(emu),
    ];
    const first = await runCli(
      ["new", "--application-id", confidential.clientId, "--use-authorization-code", ...common],
      {
        env: { BROWSER: browser, S: confidential.clientSecret },
      },
    );
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.json.refreshToken);
    const r = await runCli(
      ["new", "--refresh-token", "env:RT", "--credential-user", confidential.clientId, ...common],
      {
        env: { RT: first.json.refreshToken, S: confidential.clientSecret },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    await verifyEmulatorToken(emu, r.json.accessToken, {
      audience: "https://api.partnercenter.microsoft.com",
      appId: confidential.clientId,
      tenantId: emu.info.partnerTenant.id,
      scp: "user_impersonation",
    });
    assert.ok(r.json.refreshToken);
    assert.notEqual(r.json.refreshToken, first.json.refreshToken);
  });

  it("a revoked refresh token: invalid_grant AADSTS50173, sign-in needed (exit 4) with the next step", async () => {
    const appId = emu.info.apps.public.clientId;
    const first = await deviceSignIn(emu, appId, [PARTNER_CENTER]);
    await emu.revoke({ refreshToken: first.refreshToken });
    const r = await refreshFromEnv(first.refreshToken, PARTNER_CENTER);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /AADSTS50173/);
    assert.equal(r.stdout, "");
    assert.ok(!r.stderr.includes(first.refreshToken));
  });

  it("90 days without use: AADSTS700082, exit 4", async () => {
    const appId = emu.info.apps.public.clientId;
    const first = await deviceSignIn(emu, appId, [PARTNER_CENTER]);
    await emu.advanceClock(91 * 86400);
    const r = await refreshFromEnv(first.refreshToken, PARTNER_CENTER);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /AADSTS700082/);
  });
});
