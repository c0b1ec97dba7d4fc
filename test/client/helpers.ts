/**
 * Shared by the client library's tests: a fresh emulator per suite (trusted only through its CA
 * file), token verification against its JWKS with an HTTPS client of the test's own, and a
 * stand-in browser that follows the emulator's auto-approved sign-in to the loopback redirect.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, type JWTPayload } from "jose";
import { defaultSeed, startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";

export const GRAPH = "https://graph.microsoft.com/.default";
export const PARTNER_CENTER = "https://api.partnercenter.microsoft.com/user_impersonation";

/** Starts an emulator on a free port with a fresh data folder; device codes poll every second. */
export async function startTestEmulator(
  options: { autoApprove?: boolean; settings?: Record<string, number> } = {},
): Promise<RunningEmulator> {
  const dataDir = await mkdtemp(join(tmpdir(), "partner-token-client-"));
  return startEmulator({
    port: 0,
    dataDir,
    autoApprove: options.autoApprove ?? true,
    seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1, ...options.settings } },
    log: () => {},
  });
}

/** What points the client at an emulator: its URL as the authority host, its CA file trusted. */
export interface EmulatorBase {
  authorityHost: string;
  caFile: string;
}

/** Starts an emulator as startTestEmulator does, with the base options that point the client at it. */
export async function startEmulatorWithBase(
  options: Parameters<typeof startTestEmulator>[0] = {},
): Promise<{ emu: RunningEmulator; base: EmulatorBase }> {
  const emu = await startTestEmulator(options);
  return { emu, base: { authorityHost: emu.url, caFile: emu.caFile! } };
}

/** A GET or POST through node:https trusting only the emulator's CA; no redirects followed. */
export async function rawRequest(
  emu: RunningEmulator,
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const ca = emu.caFile ? await readFile(emu.caFile, "utf8") : undefined;
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      target,
      { method: init.method ?? "GET", headers: init.headers, ...(ca ? { ca } : {}) },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Verifies an access token's signature against the emulator's JWKS and returns its claims. */
export async function verifyAccessToken(
  emu: RunningEmulator,
  token: string,
  tenant: string,
): Promise<JWTPayload> {
  const keys = await rawRequest(emu, `${emu.url}/${tenant}/discovery/v2.0/keys`);
  const jwks = createLocalJWKSet(JSON.parse(keys.body));
  const { payload } = await jwtVerify(token, jwks);
  return payload;
}

/**
 * A stand-in for the browser: opens the authorize URL (the emulator signs in at once with
 * autoApprove), follows its redirect to the loopback listener, and keeps the page it answered.
 */
export function followingBrowser(
  emu: RunningEmulator,
  seen: { url?: string; page?: string; status?: number } = {},
) {
  return async (url: string): Promise<void> => {
    seen.url = url;
    // Like a real browser, the page loads after the opener returns.
    setImmediate(async () => {
      let next = url;
      for (let hops = 0; hops < 5; hops++) {
        const res = await rawRequest(emu, next);
        const location = res.headers.location;
        if (res.status >= 300 && res.status < 400 && typeof location === "string") {
          next = new URL(location, next).href;
          continue;
        }
        seen.status = res.status;
        seen.page = res.body;
        return;
      }
    });
  };
}
