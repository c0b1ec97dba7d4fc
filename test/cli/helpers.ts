/**
 * Shared by the CLI's end-to-end tests: run `partner-token` as a separate process, start the
 * emulator, verify tokens against its JWKS.
 */
import { spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, type JWTPayload } from "jose";
import type { startEmulator } from "../../src/emulator/index.ts";
import { cliEntry } from "./bundle.ts";

/**
 * The script that runs `partner-token` (`node MAIN …args`): the bundle of the current sources,
 * built on first use (see bundle.ts), or src/cli/main.ts with PARTNER_TOKEN_TEST_CLI=sources.
 */
export const MAIN = await cliEntry();

export const GRAPH = "https://graph.microsoft.com/.default";
export const PARTNER_CENTER = "https://api.partnercenter.microsoft.com/user_impersonation";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined. */
  json: any;
}

export interface RunOptions {
  /** Added to a clean environment (no AZURE_* nor PARTNER_TOKEN_* from the parent). */
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  /** Called with each chunk of stderr as it arrives (to read a device code or URL). */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
}

/** Runs `node MAIN …args` (the CLI of the current sources) as a child process. */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|NODE_EXTRA_CA_CERTS|BROWSER$)/.test(k))
      env[k] = v;
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`timed out: partner-token ${args.join(" ")}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
    child.stdin.end(options.input ?? "");
  });
}

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/**
 * A fresh emulator over HTTPS on a free port, with its own data folder. Unless `options.seed`
 * says otherwise, its device codes ask for a poll every second rather than Entra's five: an
 * auto-approved device sign-in takes two polls, so 2 s instead of 10 s of waiting.
 */
export async function startTestEmulator(
  options: Partial<Parameters<typeof startEmulator>[0]> = {},
): Promise<Emulator> {
  const dataDir = await mkdtemp(join(tmpdir(), "pt-cli-emu-"));
  const { defaultSeed, startEmulator } = await import("../../src/emulator/index.ts");
  const seed = {
    ...defaultSeed,
    settings: { ...defaultSeed.settings, deviceCodeIntervalSeconds: 1 },
  };
  return startEmulator({ port: 0, dataDir, autoApprove: true, seed, ...options });
}

/** The flags that point `partner-token new` at an emulator (a custom environment). */
export function emuFlags(emu: Emulator): string[] {
  return [
    "--authority-host",
    emu.info.url,
    ...(emu.info.caFile ? ["--ca-file", emu.info.caFile] : []),
  ];
}

/**
 * `partner-token new --service-principal` for the emulator's confidential app in its partner
 * tenant, asking for Graph. `secret` says where the secret comes from (`["--credential", "env:S"]`,
 * or `[]` to leave it to AZURE_CLIENT_SECRET); `extra` flags go last.
 */
export function servicePrincipalArgs(
  emu: Emulator,
  secret: string[],
  ...extra: string[]
): string[] {
  return [
    "new",
    "--service-principal",
    "--application-id",
    emu.info.apps.confidential.clientId,
    ...secret,
    "--tenant",
    emu.info.partnerTenant.id,
    "--scopes",
    GRAPH,
    ...emuFlags(emu),
    ...extra,
  ];
}

function httpsGet(url: string, ca: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Verifies `token` against the emulator's JWKS (RS256) and checks audience and tenant.
 * Returns the claims.
 */
export async function verifyEmulatorToken(
  emu: Emulator,
  token: string,
  expect: { audience?: string; tenantId?: string; scp?: string; appId?: string; at?: Date },
): Promise<JWTPayload & Record<string, unknown>> {
  const ca = emu.info.caFile ? await readFile(emu.info.caFile, "utf8") : undefined;
  const jwks = JSON.parse(await httpsGet(`${emu.info.url}/common/discovery/v2.0/keys`, ca));
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    ...(expect.audience ? { audience: expect.audience } : {}),
    ...(expect.at ? { currentDate: expect.at } : {}),
  });
  const claims = payload as JWTPayload & Record<string, unknown>;
  if (expect.tenantId && claims.tid !== expect.tenantId)
    throw new Error(`tid ${String(claims.tid)} is not ${expect.tenantId}`);
  if (
    expect.scp &&
    !String(claims.scp ?? "")
      .split(" ")
      .includes(expect.scp)
  )
    throw new Error(`scp '${String(claims.scp)}' lacks ${expect.scp}`);
  if (expect.appId && (claims.appid ?? claims.azp) !== expect.appId)
    throw new Error(`appid ${String(claims.appid ?? claims.azp)} is not ${expect.appId}`);
  return claims;
}

export async function tempDir(prefix = "pt-cli-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Writes a secret to a file with mode 0600 and returns `@path`. */
export async function secretFile(value: string): Promise<string> {
  const path = join(await tempDir(), "secret");
  await writeFile(path, value + "\n", { mode: 0o600 });
  return `@${path}`;
}

/**
 * A "browser" for `BROWSER`: fetches the sign-in URL and follows redirects (and an auto-submit
 * `form_post` page) until the loopback redirect, as a browser would with the emulator's
 * auto-approve. It trusts the CA given in its environment.
 */
export async function writeFetchBrowser(caFile: string | null): Promise<string> {
  const dir = await tempDir("pt-browser-");
  const path = join(dir, "browser.mjs");
  await writeFile(
    path,
    `#!${process.execPath}
// Follows redirects by hand so that cookies are not needed and each hop is plain to see.
let url = process.argv[process.argv.length - 1];
let init = {};
const jar = new Map(); // a lax cookie jar: name → value, sent to every path of the host
for (let hop = 0; hop < 20; hop++) {
  const host = new URL(url).host;
  const cookie = [...jar].filter(([k]) => k.startsWith(host + " ")).map(([k, v]) => k.slice(host.length + 1) + "=" + v).join("; ");
  const res = await fetch(url, { ...init, redirect: "manual", headers: cookie ? { cookie } : {} });
  for (const c of res.headers.getSetCookie()) { const [pair] = c.split(";"); const i = pair.indexOf("="); jar.set(host + " " + pair.slice(0, i), pair.slice(i + 1)); }
  const location = res.headers.get("location");
  if (location) { url = new URL(location, url).href; init = {}; continue; }
  const body = await res.text();
  const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(body);
  if (form && !url.startsWith("http://localhost")) {
    const fields = new URLSearchParams();
    for (const m of body.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) fields.append(m[1], m[2].replace(/&amp;/g, "&").replace(/&quot;/g, '"'));
    url = new URL(form[1].replace(/&amp;/g, "&"), url).href;
    init = { method: "POST", body: fields };
    continue;
  }
  process.stderr.write("browser: " + res.status + " " + url.replace(/[?#].*/, "") + "\\n");
  process.exit(res.ok ? 0 : 1);
}
process.exit(1);
`,
  );
  await chmod(path, 0o755);
  if (caFile) {
    // The script runs under our node; NODE_EXTRA_CA_CERTS makes fetch trust the emulator.
    const wrapper = join(dir, "browser.sh");
    await writeFile(wrapper, `#!/bin/sh\nNODE_EXTRA_CA_CERTS='${caFile}' exec '${path}' "$@"\n`);
    await chmod(wrapper, 0o755);
    return wrapper;
  }
  return path;
}

/** Every secret-looking string of a result, to look for in logs. */
export function tokensOf(result: Record<string, unknown>): string[] {
  return ["accessToken", "refreshToken", "idToken"]
    .map((k) => result[k])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

/** Signs in the emulator's default user with a device code (auto-approved) and returns the result. */
export async function deviceSignIn(
  emu: Emulator,
  appId: string,
  scopes: string[],
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<any> {
  const r = await runCli(
    [
      "new",
      "--device",
      "--application-id",
      appId,
      "--scopes",
      ...scopes,
      ...extra,
      ...emuFlags(emu),
    ],
    { env },
  );
  if (r.code !== 0) throw new Error(`device sign-in failed (${r.code}): ${r.stderr}`);
  return r.json;
}

/** The emulator's certificate app as one PEM file, certificate then key, in a new folder. */
export async function writePemWithKey(emu: Emulator, prefix = "pt-certs-"): Promise<string> {
  const { certificate } = emu.info.apps;
  const path = join(await tempDir(prefix), "app.pem");
  await writeFile(
    path,
    (await readFile(certificate.certificateFile, "utf8")) +
      (await readFile(certificate.keyFile, "utf8")),
  );
  return path;
}

/**
 * The emulator's certificate app as a PFX file protected by `password`, made by `openssl pkcs12`
 * (the password goes to it through its environment, not its arguments).
 */
export async function writePfx(emu: Emulator, password: string): Promise<string> {
  const { certificate } = emu.info.apps;
  const path = join(await tempDir("pt-pfx-"), "app.pfx");
  const { execFileSync } = await import("node:child_process");
  execFileSync(
    "openssl",
    [
      "pkcs12",
      "-export",
      "-in",
      certificate.certificateFile,
      "-inkey",
      certificate.keyFile,
      "-out",
      path,
      "-passout",
      "env:PT_PFX_PASSWORD",
    ],
    { env: { ...process.env, PT_PFX_PASSWORD: password } },
  );
  return path;
}
