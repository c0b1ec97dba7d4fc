/**
 * `partner-token exec` and `serve` as separate processes, over a session made by `connect` from
 * a partner's App + User refresh token against the emulator: Microsoft's @azure/identity,
 * unmodified, in the command gets the customer's tokens; exit codes and signals pass through.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { MAIN, runCli, secretFile, tempDir, type CliResult } from "../cli/helpers.ts";
import { verifyAccessToken } from "../client/helpers.ts";
import {
  get,
  GRAPH,
  IDENTITY_CHILD,
  KEYVAULT_CHILD,
  PYTHON_CHILD,
  startWithPartner,
} from "./helpers.ts";

describe("partner-token exec and serve", () => {
  let emu: RunningEmulator;
  let cacheDir: string;
  let env: Record<string, string>;
  let refreshToken: string;

  before(async () => {
    ({ emu, refreshToken } = await startWithPartner());
    cacheDir = await tempDir("pt-sidecar-cache-");
    env = { PARTNER_TOKEN_KEYRING: "off", PARTNER_TOKEN_CACHE_DIR: cacheDir };
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const connect = await runCli(
      [
        "connect",
        "--refresh-token",
        await secretFile(refreshToken),
        "--application-id",
        clientId,
        "--credential",
        "env:APP_SECRET",
        "--tenant",
        emu.info.partnerTenant.id,
        "--authority-host",
        emu.url,
        "--ca-file",
        emu.caFile!,
      ],
      { env: { ...env, APP_SECRET: clientSecret } },
    );
    assert.equal(connect.code, 0, connect.stderr);
  });
  after(() => emu?.close());

  /** What a partner's shell would hold: decoys that would make an SDK pick another credential. */
  const decoys = (): Record<string, string> => ({
    AZURE_CLIENT_SECRET: "decoy-secret-that-must-not-be-used",
    AZURE_CLIENT_ID: emu.info.apps.confidential.clientId,
    AZURE_TENANT_ID: emu.info.partnerTenant.id,
    MSI_ENDPOINT: "http://127.0.0.1:9/decoy",
    MSI_SECRET: "decoy",
    IMDS_ENDPOINT: "http://127.0.0.1:9/decoy",
    IDENTITY_SERVER_THUMBPRINT: "decoy",
  });

  for (const kind of ["managed", "default"]) {
    test(`@azure/identity ${kind === "managed" ? "ManagedIdentityCredential" : "DefaultAzureCredential"}, unmodified, under exec --tenant <customer>`, async () => {
      const customer = emu.info.customers[1]!;
      const r = await runCli(
        [
          "exec",
          "--tenant",
          customer.domain,
          "--log-requests",
          "--",
          process.execPath,
          IDENTITY_CHILD,
          kind,
          `${GRAPH}/.default`,
        ],
        { env: { ...env, ...decoys() } },
      );
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.equal(out.sawClientSecret, false, "AZURE_CLIENT_SECRET was removed");
      assert.match(out.identityEndpoint, /^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
      // The endpoint lived as long as the command.
      await assert.rejects(get(out.identityEndpoint), /ECONNREFUSED/);
      const claims = await verifyAccessToken(emu, out.token, customer.id);
      assert.equal(claims.tid, customer.id);
      assert.equal(claims.aud, GRAPH);
      assert.equal(claims.appid, emu.info.apps.confidential.clientId);
      assert.match(
        r.stderr,
        /partner-token sidecar: GET \/msi\/token 200 .*resource=https:\/\/graph\.microsoft\.com/,
      );
      assert.ok(!r.stderr.includes(out.token), "the token in the request log");
      // The decoy secret never reached the emulator: every token request there was the session's.
      const decoyUsed = emu
        .requests()
        .some((q) => JSON.stringify(q).includes("decoy-secret-that-must-not-be-used"));
      assert.equal(decoyUsed, false);
    });
  }

  for (const kind of ["managed", "default"]) {
    test(`Python's azure-identity ${kind === "managed" ? "ManagedIdentityCredential" : "DefaultAzureCredential"}, unmodified, under exec`, async () => {
      // Debian's python3-azure (brought by azure-cli, see scripts/install-system-deps.sh).
      const python = "/usr/bin/python3";
      const customer = emu.info.customers[0]!;
      const r = await runCli(
        ["exec", "--tenant", customer.id, "--", python, PYTHON_CHILD, kind, `${GRAPH}/.default`],
        { env: { ...env, ...decoys() } },
      );
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n(needs python3-azure for ${python})`);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.equal(out.sawClientSecret, false);
      await verifyAccessToken(emu, out.token, customer.id);
      assert.ok(
        out.expiresOn * 1000 > Date.now() + 30 * 60_000,
        "expires_on read as epoch seconds",
      );
    });
  }

  test("@azure/keyvault-secrets, unmodified, writes and reads a secret in the emulator's vault through exec", async () => {
    const r = await runCli(
      ["exec", "--", process.execPath, KEYVAULT_CHILD, "sidecar-secret", "the secret's value"],
      { env: { ...env, ...decoys(), VAULT_URL: emu.url, NODE_EXTRA_CA_CERTS: emu.caFile! } },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(out, { name: "sidecar-secret", value: "the secret's value" });
    // The vault saw the session's user, through a token for Key Vault from the sidecar.
    const vaultCalls = emu.requests().filter((q) => q.path.includes("/secrets/sidecar-secret"));
    assert.ok(vaultCalls.some((q) => q.status === 200));
  });

  test("without a session: the refresh token from a store (--refresh-token-store file:…)", async () => {
    const store = join(await tempDir("pt-sidecar-store-"), "rt");
    await writeFile(store, refreshToken + "\n", { mode: 0o600 });
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const customer = emu.info.customers[2]!;
    const r = await runCli(
      [
        "exec",
        "--refresh-token-store",
        `file:${store}`,
        "--application-id",
        clientId,
        "--credential",
        "env:APP_SECRET",
        "--authority-host",
        emu.url,
        "--ca-file",
        emu.caFile!,
        "--tenant",
        customer.id,
        "--",
        process.execPath,
        IDENTITY_CHILD,
        "managed",
        `${GRAPH}/.default`,
      ],
      { env: { ...decoys(), APP_SECRET: clientSecret, PARTNER_TOKEN_KEYRING: "off" } },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    await verifyAccessToken(emu, out.token, customer.id);
    const rotated = (await readFile(store, "utf8")).trim();
    assert.notEqual(
      rotated,
      refreshToken,
      "the rotated refresh token was written back to the store",
    );
  });

  test("exits with the command's exit code", async () => {
    const r = await runCli(["exec", "--", process.execPath, "-e", "process.exit(9)"], { env });
    assert.equal(r.code, 9, r.stderr);
  });

  for (const [signal, code] of [
    ["SIGTERM", 42],
    ["SIGINT", 43],
    ["SIGHUP", 44],
  ] as const) {
    test(`passes ${signal} on to the command and exits with its code`, async () => {
      const script =
        `process.on('${signal}', () => { console.log('got ${signal}'); process.exit(${code}); });` +
        "console.log('ready'); setInterval(() => {}, 1000);";
      const r = await spawnUntil(
        ["exec", "--", process.execPath, "-e", script],
        env,
        "ready",
        signal,
      );
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stdout, new RegExp(`got ${signal}`));
    });
  }

  test("serve on a terminal also shows the export lines a shell needs", async () => {
    // script(1) gives serve a terminal; timeout(1) stops it with SIGTERM after a few seconds.
    const command = `timeout --preserve-status -s TERM 4 '${process.execPath}' '${MAIN}' serve --quiet`;
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, out }));
    });
    const lines = r.out.replace(/\r/g, "").split("\n");
    const ready = JSON.parse(lines.find((l) => l.startsWith("{"))!);
    assert.ok(lines.includes(`export IDENTITY_ENDPOINT='${ready.identityEndpoint}'`), r.out);
    assert.ok(lines.includes(`export IDENTITY_HEADER='${ready.identityHeader}'`), r.out);
    assert.ok(
      lines.some((l) => /^unset AZURE_CLIENT_SECRET .*IMDS_ENDPOINT$/.test(l)),
      r.out,
    );
    assert.equal(r.code, 0);
  });

  test("a command that does not exist: 127; no command: usage, 2", async () => {
    const missing = await runCli(["exec", "--", "partner-token-no-such-command"], { env });
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /command not found: partner-token-no-such-command/);
    const badTenant = await runCli(["exec", "--tenant", "not a tenant", "--", "true"], { env });
    assert.equal(badTenant.code, 2);
    assert.match(badTenant.stderr, /--tenant takes a tenant id or domain name, not 'not a tenant'/);
    const none = await runCli(["exec", "--tenant", "x"], { env });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /exec needs a command after '--'/);
    const unsplit = await runCli(["exec", "node", "app.js"], { env });
    assert.equal(unsplit.code, 2);
    assert.match(unsplit.stderr, /put the command after '--'/);
  });

  test("no session: exit 4 before the command runs", async () => {
    const empty = await tempDir("pt-sidecar-empty-");
    const r = await runCli(["exec", "--", process.execPath, "-e", "console.log('ran')"], {
      env: { ...env, PARTNER_TOKEN_CACHE_DIR: empty },
    });
    assert.equal(r.code, 4, r.stderr);
    assert.doesNotMatch(r.stdout, /ran/);
  });

  test("serve: one JSON ready line, tokens per tenant by path, stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [MAIN, "serve", "--tenant", emu.info.customers[0]!.id], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const ready = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
      });
      setTimeout(() => reject(new Error(`no ready line: ${stderr}`)), 30_000);
    });
    try {
      const info = JSON.parse(ready);
      assert.deepEqual(Object.keys(info).sort(), [
        "identityEndpoint",
        "identityHeader",
        "pid",
        "port",
        "tenant",
      ]);
      assert.equal(info.identityEndpoint, `http://127.0.0.1:${info.port}/msi/token`);
      const query = `?api-version=2019-08-01&resource=${encodeURIComponent(GRAPH)}`;
      const own = await get(info.identityEndpoint + query, {
        "X-IDENTITY-HEADER": info.identityHeader,
      });
      assert.equal(own.status, 200, own.body);
      await verifyAccessToken(emu, own.json.access_token, emu.info.customers[0]!.id);
      const other = emu.info.customers[2]!;
      const byPathUrl = (tenant: string): string =>
        `http://127.0.0.1:${info.port}/tenants/${tenant}/msi/token`;
      const byPath = await get(byPathUrl(other.id) + query, {
        "X-IDENTITY-HEADER": info.identityHeader,
      });
      assert.equal(byPath.status, 200, byPath.body);
      await verifyAccessToken(emu, byPath.json.access_token, other.id);
      assert.equal((await get(info.identityEndpoint + query)).status, 401);

      // Twenty programs asking at once for a token nobody has yet: one request to Entra ID.
      const tokenCalls = (): number =>
        emu.requests().filter((q) => q.path.endsWith("/oauth2/v2.0/token")).length;
      const before = tokenCalls();
      const exchange = `?api-version=2019-08-01&resource=${encodeURIComponent("https://outlook.office365.com")}`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          get(byPathUrl(other.id) + exchange, { "X-IDENTITY-HEADER": info.identityHeader }),
        ),
      );
      assert.ok(
        answers.every((a) => a.status === 200),
        answers.map((a) => a.body).join("\n"),
      );
      assert.equal(new Set(answers.map((a) => a.json.access_token)).size, 1);
      assert.equal(tokenCalls() - before, 1, "one renewal served every request");
      child.kill("SIGTERM");
      assert.equal(await exited, 0, stderr);
      assert.equal(stdout.trim().split("\n").length, 1, "stdout holds the ready line only");
      assert.match(stderr, /GET \/msi\/token 200/);
      assert.match(stderr, /GET \/msi\/token 401/);
      for (const token of [own.json.access_token, byPath.json.access_token, info.identityHeader])
        assert.ok(!stderr.includes(token), "a token or the secret in serve's log");
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("serve: a port in use is an error that says what to do", async () => {
    const first = await runServeReady(env);
    try {
      const r = await runCli(["serve", "--port", String(first.port)], { env, timeoutMs: 30_000 });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`port ${first.port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      first.child.kill("SIGTERM");
    }
  });
});

/** Spawns the CLI, sends `signal` once `marker` shows on stdout, and collects the result. */
function spawnUntil(
  args: string[],
  env: Record<string, string>,
  marker: string,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let sent = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (!sent && stdout.includes(marker)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, json: undefined });
    });
  });
}

/** A running `serve` and its port. */
async function runServeReady(
  env: Record<string, string>,
): Promise<{ port: number; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, [MAIN, "serve", "--quiet"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    setTimeout(() => reject(new Error("serve did not get ready")), 30_000);
  });
  return { port: JSON.parse(line).port, child };
}
