/**
 * Every flow with --debug: the HTTP exchange is shown on stderr, and no secret or token appears
 * anywhere in stdout + stderr except the result's own fields on stdout.
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
  tokensOf,
  writeFetchBrowser,
  type CliResult,
  type Emulator,
} from "./helpers.ts";

describe("--debug never shows a secret", () => {
  let emu: Emulator;
  let browser: string;
  let pem: string;
  /** Every secret seen so far: sent by us, or issued by the server. */
  const secrets = new Set<string>();

  before(async () => {
    emu = await startTestEmulator();
    browser = await writeFetchBrowser(emu.info.caFile);
    const { certificate, confidential } = emu.info.apps;
    pem = join(await tempDir(), "app.pem");
    const key = await readFile(certificate.keyFile, "utf8");
    await writeFile(pem, (await readFile(certificate.certificateFile, "utf8")) + key);
    secrets.add(confidential.clientSecret);
    secrets.add(emu.info.user.password);
    // The key's base64 body, a line of it is enough to spot a leak.
    secrets.add(key.split("\n")[1]!);
  });
  after(() => emu?.close());

  /** Checks one run and adds its tokens to the secrets for the next runs. */
  function check(r: CliResult, label: string): void {
    assert.equal(r.code, 0, `${label}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /POST .*\/oauth2\/v2\.0\/(token|devicecode)/,
      `${label}: the exchange is shown`,
    );
    const result = r.json as Record<string, unknown>;
    // stdout is exactly the result
    assert.equal(r.stdout.trim(), JSON.stringify(result, null, 2));
    for (const token of tokensOf(result)) secrets.add(token);
    for (const secret of secrets) {
      assert.ok(
        !r.stderr.includes(secret),
        `${label}: stderr shows a secret (${secret.slice(0, 6)}…)`,
      );
      if (!tokensOf(result).includes(secret))
        assert.ok(!r.stdout.includes(secret), `${label}: stdout shows a secret besides the result`);
    }
    // No JWT-shaped text at all on stderr.
    assert.doesNotMatch(r.stderr, /eyJ[\w-]{10,}\.[\w-]{10,}/, `${label}: a JWT on stderr`);
  }

  it("client credentials (secret), certificate, device code, browser, App + User, refresh", async () => {
    const { confidential, certificate, public: pub } = emu.info.apps;
    const tenant = ["--tenant", emu.info.partnerTenant.id];
    const env = { AZURE_CLIENT_SECRET: confidential.clientSecret, BROWSER: browser };
    const run = (args: string[], input?: string) =>
      runCli(["new", "--debug", ...args, ...emuFlags(emu)], { env, ...(input ? { input } : {}) });

    check(
      await run([
        "--service-principal",
        "--application-id",
        confidential.clientId,
        ...tenant,
        "--scopes",
        GRAPH,
      ]),
      "client credentials",
    );
    check(
      await run([
        "--service-principal",
        "--application-id",
        certificate.clientId,
        "--certificate-path",
        pem,
        ...tenant,
        "--scopes",
        GRAPH,
      ]),
      "certificate",
    );
    const device = await run([
      "--device",
      "--application-id",
      pub.clientId,
      "--scopes",
      PARTNER_CENTER,
    ]);
    check(device, "device code");
    check(await run(["--application-id", pub.clientId, "--scopes", PARTNER_CENTER]), "browser");
    const appUser = await run([
      "--service-principal",
      "--use-authorization-code",
      "--application-id",
      confidential.clientId,
      "--credential",
      ...tenant,
      "--scopes",
      PARTNER_CENTER,
    ]);
    check(appUser, "App + User");
    check(
      await run(
        ["--refresh-token", "-", "--application-id", pub.clientId, "--scopes", GRAPH],
        device.json.refreshToken,
      ),
      "refresh (public)",
    );
    check(
      await run(
        [
          "--refresh-token",
          "-",
          "--service-principal",
          "--application-id",
          confidential.clientId,
          "--credential",
          ...tenant,
          "--scopes",
          PARTNER_CENTER,
        ],
        appUser.json.refreshToken,
      ),
      "refresh (confidential)",
    );
    check(await run(["--module", "ExchangeOnline"]), "ByModule");
  });

  it("a failing flow: the error and its debug trace show no secret either", async () => {
    const { confidential } = emu.info.apps;
    await emu.revoke({ all: true });
    const staleRefresh = [...secrets].find((s) => !s.startsWith("eyJ") && s.length > 20) ?? "x";
    const r = await runCli(
      [
        "new",
        "--debug",
        "--refresh-token",
        "env:RT",
        "--application-id",
        emu.info.apps.public.clientId,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { env: { RT: staleRefresh, AZURE_CLIENT_SECRET: confidential.clientSecret } },
    );
    assert.notEqual(r.code, 0);
    for (const secret of secrets)
      assert.ok(!r.stderr.includes(secret), `stderr shows a secret (${secret.slice(0, 6)}…)`);
  });
});
