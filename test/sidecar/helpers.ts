/**
 * Shared by the sidecar's tests: an emulator with a partner's App + User refresh token, a
 * TokenSource over it, plain HTTP requests to the endpoint, and @azure/identity run unmodified
 * in a child process.
 */
import { spawn } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { acquireTokenByAuthorizationCode, acquireTokenByRefreshToken } from "../../src/index.ts";
import type { AuthResult, GetTokenOptions, TokenSource } from "../../src/session/types.ts";
import { followingBrowser, startEmulatorWithBase, type EmulatorBase } from "../client/helpers.ts";

export const GRAPH = "https://graph.microsoft.com";
export const IDENTITY_CHILD = fileURLToPath(
  new URL("./fixtures/identity-child.ts", import.meta.url),
);
export const KEYVAULT_CHILD = fileURLToPath(
  new URL("./fixtures/keyvault-child.ts", import.meta.url),
);
export const PYTHON_CHILD = fileURLToPath(new URL("./fixtures/identity_child.py", import.meta.url));

/**
 * A session stand-in: the partner's refresh token, redeemed per (tenant, scope), rotated on every
 * use, access tokens kept in memory. Counts redemptions, so that tests see cache hits.
 */
export class RefreshTokenSource implements TokenSource {
  redemptions = 0;
  calls = 0;
  readonly issued: string[] = [];
  private readonly cache = new Map<string, AuthResult>();
  private refreshToken: string;
  private readonly emu: RunningEmulator;
  private readonly base: EmulatorBase;

  constructor(emu: RunningEmulator, base: EmulatorBase, refreshToken: string) {
    this.emu = emu;
    this.base = base;
    this.refreshToken = refreshToken;
  }

  async getToken(options: GetTokenOptions): Promise<AuthResult> {
    this.calls++;
    const tenant = options.tenant ?? this.emu.info.partnerTenant.id;
    const key = `${tenant} ${options.scopes.join(" ")}`;
    const hit = this.cache.get(key);
    if (hit && Date.parse(hit.expiresOn) - Date.now() > 300_000) return hit;
    const { clientId, clientSecret } = this.emu.info.apps.confidential;
    this.redemptions++;
    const result = await acquireTokenByRefreshToken({
      ...this.base,
      clientId,
      clientSecret,
      refreshToken: this.refreshToken,
      tenant,
      scopes: options.scopes,
    });
    if (result.refreshToken) this.refreshToken = result.refreshToken;
    const kept = { ...result, refreshToken: null };
    this.cache.set(key, kept);
    this.issued.push(result.accessToken, result.refreshToken ?? "");
    return kept;
  }
}

/** An emulator and a partner signed in once, App + User, as partners get their refresh token. */
export async function startWithPartner(): Promise<{
  emu: RunningEmulator;
  base: EmulatorBase;
  source: RefreshTokenSource;
  refreshToken: string;
}> {
  const { emu, base } = await startEmulatorWithBase();
  const { clientId, clientSecret } = emu.info.apps.confidential;
  const first = await acquireTokenByAuthorizationCode(
    {
      ...base,
      clientId,
      clientSecret,
      tenant: emu.info.partnerTenant.id,
      scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
    },
    { openBrowser: followingBrowser(emu) },
  );
  const refreshToken = first.refreshToken!;
  return { emu, base, source: new RefreshTokenSource(emu, base, refreshToken), refreshToken };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/** A GET over plain HTTP, as the SDKs send it; `host` overrides the address connected to. */
export function get(
  url: string,
  headers: Record<string, string> = {},
  options: { host?: string; method?: string } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host ?? target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? "GET",
        headers,
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs `node args…` with exactly `env` (plus PATH), collecting its output. */
export function runNode(args: string[], env: Record<string, string>): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim().split("\n").pop() ?? "");
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** The claims of a JWT, unverified (tests verify against the emulator's JWKS separately). */
export function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}
