/**
 * `connect`, `token`, `status`, `disconnect` as a user runs them, against the emulator: every
 * parameter set, the cache, profiles side by side, nothing in clear on disk.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  GRAPH,
  PARTNER_CENTER,
  emuFlags,
  runCli,
  secretFile,
  startTestEmulator,
  verifyEmulatorToken,
  writeFetchBrowser,
  type Emulator,
} from "../cli/helpers.ts";
import { connectDevice, filesUnder, refreshGrants, sessionEnv } from "./helpers.ts";

const AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

describe("sessions on the command line", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.close());

  test("connect with a device code and the default app; token answers from the cache, renews in a customer tenant", async () => {
    const env = await sessionEnv();
    const connected = await connectDevice(emu, env);
    assert.equal(connected.json.applicationId, AZURE_CLI);
    assert.equal(connected.json.account, emu.info.user.username);
    assert.equal(connected.json.tenantId, emu.info.partnerTenant.id);

    // Partner Center's token was cached by connect: no flags, no request.
    const before = refreshGrants(emu);
    const pc = await runCli(["token"], { env });
    assert.equal(pc.code, 0, pc.stderr);
    assert.equal(pc.json.refreshToken, null, "the refresh token stays in the session");
    await verifyEmulatorToken(emu, pc.json.accessToken, {
      audience: "https://api.partnercenter.microsoft.com",
      scp: "user_impersonation",
    });
    assert.equal(refreshGrants(emu), before, "answered from the cache");

    const customer = emu.info.customers[0]!.id;
    const graph = await runCli(["token", "--scopes", GRAPH, "--tenant", customer], { env });
    assert.equal(graph.code, 0, graph.stderr);
    await verifyEmulatorToken(emu, graph.json.accessToken, {
      tenantId: customer,
      audience: "https://graph.microsoft.com",
    });
    assert.equal(refreshGrants(emu), before + 1);
    const again = await runCli(
      ["token", "--scopes", GRAPH, "--tenant", customer, "--query", "accessToken", "-o", "tsv"],
      { env },
    );
    assert.equal(again.stdout.trim(), graph.json.accessToken, "the bare token, from the cache");
    assert.equal(refreshGrants(emu), before + 1);

    const forced = await runCli(
      ["token", "--scopes", GRAPH, "--tenant", customer, "--force-refresh"],
      { env },
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(forced.json.accessToken, graph.json.accessToken);
    assert.equal(refreshGrants(emu), before + 2);

    // --min-validity larger than the token's life (a CAE token's day) forces a renewal.
    const longer = await runCli(
      ["token", "--scopes", GRAPH, "--tenant", customer, "--min-validity", "90000"],
      { env },
    );
    assert.equal(longer.code, 0, longer.stderr);
    assert.equal(refreshGrants(emu), before + 3);

    const status = await runCli(["status", "-o", "json"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.json.state, "ok");
    assert.equal(status.json.refreshToken.location, "local cache");
    assert.ok(status.json.refreshToken.daysLeft > 89);
    assert.ok(status.json.tokens.some((t: any) => t.tenant === customer));
    assert.doesNotMatch(status.stdout, /eyJ|1\.AQ/, "status shows nothing secret");
    const amr = JSON.parse(
      Buffer.from(forced.json.accessToken.split(".")[1], "base64url").toString(),
    ).amr as string[];
    assert.ok(Array.isArray(amr), "the emulator's user tokens carry amr");
    assert.equal(status.json.mfa, amr.includes("mfa"), "status says whether the sign-in was MFA");

    const table = await runCli(["status", "-o", "table"], { env });
    assert.match(table.stdout, /Days left\s+\d/);
    assert.match(table.stdout, new RegExp(`MFA sign-in\\s+${amr.includes("mfa") ? "yes" : "no"}`));

    const gone = await runCli(["disconnect"], { env });
    assert.equal(gone.code, 0);
    const after = await runCli(["token"], { env });
    assert.equal(after.code, 4);
    assert.match(after.stderr, /No session for profile 'default'[\s\S]*partner-token connect/);
    const noStatus = await runCli(["status"], { env });
    assert.equal(noStatus.code, 4);
    const files = await filesUnder(env.PARTNER_TOKEN_KEY_DIR);
    assert.equal(files.filter((f) => !f.isDir).length, 0, "disconnect removes the key");
  });

  test("nothing in the cache folder is a token in clear; folders 0700, files 0600", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const t = await runCli(["token", "--scopes", GRAPH], { env });
    assert.equal(t.code, 0, t.stderr);
    const signature = t.json.accessToken.split(".")[2];
    for (const dir of [env.PARTNER_TOKEN_CACHE_DIR, env.PARTNER_TOKEN_KEY_DIR])
      for (const f of await filesUnder(dir)) {
        assert.equal(f.mode, f.isDir ? 0o700 : 0o600, `${f.path} mode ${f.mode.toString(8)}`);
        if (dir === env.PARTNER_TOKEN_CACHE_DIR) {
          assert.doesNotMatch(f.text, /eyJ0eX|1\.AQ/, `${f.path} holds a token in clear`);
          assert.ok(!f.text.includes(signature), `${f.path} holds the access token`);
          assert.ok(
            !f.text.includes(emu.info.user.username),
            `${f.path} names the account in clear`,
          );
        }
      }
  });

  test("profiles side by side: a service principal and a refresh-token session; the environment is remembered", async () => {
    const env = await sessionEnv({ S: emu.info.apps.confidential.clientSecret });
    const app = emu.info.apps.confidential.clientId;
    const sp = await runCli(
      [
        "connect",
        "--service-principal",
        "--application-id",
        app,
        "--credential",
        "env:S",
        "--tenant",
        emu.info.partnerTenant.id,
        "--profile",
        "ci",
        ...emuFlags(emu),
      ],
      { env },
    );
    assert.equal(sp.code, 0, sp.stderr);
    assert.equal(sp.json.kind, "servicePrincipal");

    // A refresh token from `new`, handed to connect (RefreshToken set).
    const first = await runCli(
      [
        "new",
        "--device",
        "--application-id",
        emu.info.apps.public.clientId,
        "--scopes",
        PARTNER_CENTER,
        ...emuFlags(emu),
      ],
      { env },
    );
    assert.equal(first.code, 0, first.stderr);
    const rt = await secretFile(first.json.refreshToken);
    const user = await runCli(
      [
        "connect",
        "--refresh-token",
        rt,
        "--application-id",
        emu.info.apps.public.clientId,
        ...emuFlags(emu),
      ],
      { env: { ...env, PARTNER_TOKEN_PROFILE: "partner" } },
    );
    assert.equal(user.code, 0, user.stderr);
    assert.equal(user.json.profile, "partner");

    const appToken = await runCli(["token", "--profile", "ci", "--scopes", GRAPH], { env });
    assert.equal(appToken.code, 0, appToken.stderr);
    const claims = await verifyEmulatorToken(emu, appToken.json.accessToken, { appId: app });
    assert.equal(claims.idtyp ?? "app", "app");
    const customer = emu.info.customers[1]!.id;
    const userToken = await runCli(["token", "--scopes", GRAPH, "--tenant", customer], {
      env: { ...env, PARTNER_TOKEN_PROFILE: "partner" },
    });
    assert.equal(userToken.code, 0, userToken.stderr);
    await verifyEmulatorToken(emu, userToken.json.accessToken, { tenantId: customer });

    const defaultProfile = await runCli(["status"], { env });
    assert.equal(defaultProfile.code, 4, "no default profile was made");
  });

  test("connect through the browser (the default) and with a certificate (ServicePrincipalCertificate)", async () => {
    const env = await sessionEnv({ BROWSER: await writeFetchBrowser(emu.caFile) });
    const browser = await runCli(["connect", ...emuFlags(emu), "--profile", "web"], { env });
    assert.equal(browser.code, 0, browser.stderr);
    assert.equal(browser.json.applicationId, AZURE_CLI);
    assert.equal(browser.json.account, emu.info.user.username);
    const pc = await runCli(["token", "--profile", "web", "--query", "accessToken", "-o", "tsv"], {
      env,
    });
    assert.equal(pc.code, 0, pc.stderr);
    await verifyEmulatorToken(emu, pc.stdout.trim(), { scp: "user_impersonation" });

    const cert = emu.info.apps.certificate;
    const withCert = await runCli(
      [
        "connect",
        "--service-principal",
        "--application-id",
        cert.clientId,
        "--certificate-path",
        cert.certificateFile,
        "--tenant",
        emu.info.partnerTenant.id,
        "--profile",
        "cert",
        ...emuFlags(emu),
      ],
      { env },
    );
    assert.equal(withCert.code, 0, withCert.stderr);
    const before = refreshGrants(emu);
    const app = await runCli(["token", "--profile", "cert", "--scopes", GRAPH, "--force-refresh"], {
      env,
    });
    assert.equal(app.code, 0, app.stderr);
    await verifyEmulatorToken(emu, app.json.accessToken, { appId: cert.clientId });
    assert.equal(
      refreshGrants(emu),
      before,
      "app-only tokens are renewed with the certificate, not a refresh token",
    );
  });

  test("connect with a store that refuses the write: exit 1, and the session keeps the token locally", async () => {
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const env = await sessionEnv({
      AZURE_AUTHORITY_HOST: emu.info.url,
      AZURE_TENANT_ID: emu.info.partnerTenant.id,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
      NODE_EXTRA_CA_CERTS: emu.caFile!,
    });
    emu.injectFault({ path: "/secrets/", method: "PUT", status: 403, count: 5 });
    try {
      const r = await runCli(
        [
          "connect",
          "--use-device-authentication",
          "--application-id",
          AZURE_CLI,
          "--refresh-token-store",
          `keyvault:${emu.info.url}/secrets/session-rt`,
          ...emuFlags(emu),
        ],
        { env },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /could not be written to keyvault:/);
      assert.match(
        r.stderr,
        /keeps the new refresh token in its local cache instead, so nothing is lost/,
      );
    } finally {
      emu.clearFaults();
    }
    const t = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(t.code, 0, t.stderr);
    const status = await runCli(["status", "-o", "json"], { env });
    assert.equal(status.json.refreshToken.location, "local cache");
  });

  test("an access-token session gives its token until it expires, then asks for a sign-in", async () => {
    const env = await sessionEnv();
    const got = await runCli(
      [
        "new",
        "--service-principal",
        "--application-id",
        emu.info.apps.confidential.clientId,
        "--credential",
        "env:S",
        "--tenant",
        emu.info.partnerTenant.id,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { env: { ...env, S: emu.info.apps.confidential.clientSecret } },
    );
    assert.equal(got.code, 0, got.stderr);
    const at = await secretFile(got.json.accessToken);
    const c = await runCli(
      [
        "connect",
        "--access-token",
        at,
        "--application-id",
        emu.info.apps.confidential.clientId,
        "--scopes",
        GRAPH,
      ],
      { env },
    );
    assert.equal(c.code, 0, c.stderr);
    const t = await runCli(["token", "--scopes", GRAPH, "--query", "accessToken", "-o", "tsv"], {
      env,
    });
    assert.equal(t.stdout.trim(), got.json.accessToken);
    const tooLong = await runCli(["token", "--scopes", GRAPH, "--min-validity", "999999"], { env });
    assert.equal(tooLong.code, 4);
    assert.match(tooLong.stderr, /cannot be renewed/);
  });

  test("bad input: a clear message and a documented exit code", async () => {
    const env = await sessionEnv();
    const cases: Array<[string[], number, RegExp]> = [
      [["token", "--min-validity", "soon"], 2, /--min-validity takes a number/],
      [["token", "--warn-days", "-3"], 2, /--warn-days/],
      [["token", "--tenant", " "], 2, /--tenant needs/],
      [["status", "-o", "xml"], 2, /--output takes json or table/],
      [["token", "--profile", "../etc"], 2, /not a profile name/],
      [["connect", "--module", "ExchangeOnline"], 2, /--module belongs to 'partner-token new'/],
      [["disconnect", "extra"], 2, /unexpected argument 'extra'/],
      [["token", "--no-such-flag"], 2, /unknown option '--no-such-flag'/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args, { env });
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
    }
  });

  test("a corrupt cache is set aside with a warning and sign-in is asked for (exit 4); an unreadable cache folder is an error", async () => {
    const env = await sessionEnv();
    await connectDevice(emu, env);
    const file = join(env.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.json");
    const shape = JSON.parse(await readFile(file, "utf8"));
    shape.sealed.data = shape.sealed.data.slice(0, -8) + "AAAAAAAA";
    await writeFile(file, JSON.stringify(shape));
    const r = await runCli(["token"], { env });
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      r.stderr,
      /could not be read: it does not decrypt[\s\S]*set aside as .*default\.json\.unreadable-/,
    );
    assert.match(r.stderr, /partner-token connect/);
    const aside = (await filesUnder(env.PARTNER_TOKEN_CACHE_DIR)).filter((f) =>
      /unreadable-/.test(f.path),
    );
    assert.equal(aside.length, 1, "the unreadable file is kept for inspection");
    assert.equal(aside[0]!.mode, 0o600);

    await writeFile(file, "{ not json");
    const r2 = await runCli(["status"], { env });
    assert.equal(r2.code, 4);
    assert.match(r2.stderr, /not valid JSON/);

    await writeFile(file, JSON.stringify({ schema: 99, profile: "default", sealed: {} }));
    const r3 = await runCli(["token"], { env });
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /newer partner-token \(cache schema 99/);
    assert.equal(
      JSON.parse(await readFile(file, "utf8")).schema,
      99,
      "a newer cache is left alone",
    );
  });
});
