/**
 * Shared by the bulk job's tests and benchmark: an emulator with generated customers (some
 * without delegated access, some without consent, the token endpoint throttled), a partner
 * agent's refresh token for the Azure CLI's app (installed in every tenant), and a token source
 * over it.
 */
import { mkdtemp } from "node:fs/promises";
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireTokenByRefreshToken } from "../../src/client/refresh-token.ts";
import type { AuthResult, ClientOptions } from "../../src/client/types.ts";
import { defaultSeed, startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import type { GetTokenOptions, TokenSource } from "../../src/session/types.ts";

export const GRAPH = "https://graph.microsoft.com/.default";
/** `Connect-PartnerCenter`'s app; in the default seed it is installed in every tenant. */
export const AZURE_CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
export const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";

export interface ScaleSeed {
  count: number;
  withoutAccess?: number;
  withoutConsent?: number;
  tokenRequestsPerSecond?: number;
  latencyMs?: number;
  /** The seed's own partner–customer relationships (default the seed's 3; [] for none). */
  relationships?: [];
  /** Sign in without a form, approve device codes (polled every second) at once. */
  autoApprove?: boolean;
}

/** An emulator whose partner has `count` generated customers. */
export async function startScaleEmulator(s: ScaleSeed): Promise<RunningEmulator> {
  const dataDir = await mkdtemp(join(tmpdir(), "pt-customers-"));
  return startEmulator({
    port: 0,
    dataDir,
    log: () => {},
    autoApprove: s.autoApprove ?? false,
    seed: {
      ...defaultSeed,
      ...(s.relationships ? { relationships: s.relationships } : {}),
      settings: {
        deviceCodeIntervalSeconds: 1,
        ...(s.latencyMs ? { latencyMs: s.latencyMs } : {}),
        ...(s.tokenRequestsPerSecond
          ? { throttle: { tokenRequestsPerSecond: s.tokenRequestsPerSecond } }
          : {}),
      },
      generatedCustomers: {
        partner: PARTNER,
        count: s.count,
        withoutAccess: s.withoutAccess ?? 0,
        withoutConsent: s.withoutConsent ?? 0,
      },
    },
  });
}

/** A POST to the emulator over HTTPS, trusting its CA; the JSON answer. */
export function post(
  emu: RunningEmulator,
  path: string,
  form: Record<string, string>,
): Promise<{ status: number; json: Record<string, any> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, emu.url),
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        ...(emu.caFile ? { ca: readFileSync(emu.caFile, "utf8") } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || "{}") }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The partner admin's refresh token for the Azure CLI app (password grant: no MFA for this user),
 * or another user's of the partner tenant.
 */
export async function partnerRefreshToken(
  emu: RunningEmulator,
  user: { username: string; password: string } = emu.info.user,
): Promise<string> {
  const form = {
    grant_type: "password",
    client_id: AZURE_CLI_APP,
    username: user.username,
    password: user.password,
    scope: "https://api.partnercenter.microsoft.com/user_impersonation offline_access openid",
  };
  let r = await post(emu, `/${PARTNER}/oauth2/v2.0/token`, form);
  // A throttled emulator may be busy with the test before: wait for its window, as a client would.
  for (let i = 0; i < 10 && r.status === 429; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    r = await post(emu, `/${PARTNER}/oauth2/v2.0/token`, form);
  }
  if (r.status !== 200 || typeof r.json.refresh_token !== "string")
    throw new Error(`no refresh token: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.refresh_token;
}

/**
 * A token source over one refresh token, kept rotated: the smallest thing that is one. It counts
 * redemptions so that tests can see what was asked.
 */
export class RefreshTokenSource implements TokenSource {
  #refreshToken: string;
  readonly #emu: RunningEmulator;
  readonly #options: ClientOptions;
  redemptions = 0;

  constructor(emu: RunningEmulator, refreshToken: string, options: ClientOptions = {}) {
    this.#emu = emu;
    this.#refreshToken = refreshToken;
    this.#options = options;
  }

  async getToken(o: GetTokenOptions): Promise<AuthResult> {
    this.redemptions++;
    const result = await acquireTokenByRefreshToken(
      {
        clientId: AZURE_CLI_APP,
        refreshToken: this.#refreshToken,
        scopes: o.scopes,
        tenant: o.tenant ?? PARTNER,
        authorityHost: this.#emu.url,
        caFile: this.#emu.caFile!,
      },
      { ...this.#options, ...(o.signal ? { signal: o.signal } : {}) },
    );
    if (result.refreshToken) this.#refreshToken = result.refreshToken;
    return { ...result, refreshToken: null };
  }
}

/** The `tid` claim of a JWT (no verification: tests that need it verify separately). */
export function tidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")).tid;
}
