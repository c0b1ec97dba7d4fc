/**
 * Test harness for the emulator's own tests: start one on a free port with a fresh data folder,
 * and speak HTTPS to it with node:https, trusting its CA (never disabling certificate checks).
 * Deliberately independent of src/client: the emulator is checked from outside.
 */
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, type JWTPayload } from "jose";
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from "../../src/emulator/index.ts";

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, any>;
}

export class Harness {
  readonly emu: RunningEmulator;
  readonly ca: string | undefined;

  private constructor(emu: RunningEmulator, ca: string | undefined) {
    this.emu = emu;
    this.ca = ca;
  }

  static async start(options: EmulatorOptions = {}): Promise<Harness> {
    const dataDir = await mkdtemp(join(tmpdir(), "emu-test-"));
    const emu = await startEmulator({ port: 0, dataDir, log: () => {}, ...options });
    return new Harness(emu, emu.caFile ? await readFile(emu.caFile, "utf8") : undefined);
  }

  get info() {
    return this.emu.info;
  }

  fetch(
    path: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      json?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const url = new URL(path, this.emu.url);
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers["content-type"] = "application/json";
    }
    const method = init.method ?? (body !== undefined ? "POST" : "GET");
    const send = url.protocol === "https:" ? request : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers, ...(this.ca ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, any> = {};
          try {
            json = JSON.parse(text);
          } catch {
            // HTML or empty
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  token(tenant: string, form: Record<string, string>): Promise<Response> {
    return this.fetch(`/${tenant}/oauth2/v2.0/token`, { form });
  }

  /** Verifies a JWT against the emulator's JWKS (fetched over HTTPS) with jose. */
  async verify(jwt: string, tenant = this.info.partnerTenant.id): Promise<JWTPayload> {
    const jwks = await this.fetch(`/${tenant}/discovery/v2.0/keys`);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks.json as any), {
      algorithms: ["RS256"],
      currentDate: new Date(Date.now() + 1000 * clockOffsetSeconds(this)),
    });
    return payload;
  }

  /** The public app's refresh-token grant at `tenant`. */
  refresh(refreshToken: string, scope: string, tenant = "organizations"): Promise<Response> {
    return this.token(tenant, {
      client_id: this.info.apps.public.clientId,
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      scope,
    });
  }

  /** The confidential app's client-credentials grant at `tenant` (secret overridable). */
  credentials(
    tenant: string,
    scope = "https://graph.microsoft.com/.default",
    extra: Record<string, string> = {},
  ): Promise<Response> {
    return this.token(tenant, {
      ...this.confidential(extra),
      grant_type: "client_credentials",
      scope,
    });
  }

  /** The confidential app's client-credentials form. */
  confidential(extra: Record<string, string> = {}): Record<string, string> {
    return {
      client_id: this.info.apps.confidential.clientId,
      client_secret: this.info.apps.confidential.clientSecret,
      ...extra,
    };
  }

  /** Signs the default user in through authorize (auto-approve) and returns the code. */
  async authorizeCode(params: Record<string, string>, tenant = "organizations"): Promise<URL> {
    const q = new URLSearchParams({
      response_type: "code",
      redirect_uri: "http://localhost:8400/",
      ...params,
    });
    const res = await this.fetch(`/${tenant}/oauth2/v2.0/authorize?${q}`);
    if (res.status !== 302)
      throw new Error(`authorize answered ${res.status}: ${res.text.slice(0, 300)}`);
    return new URL(String(res.headers["location"]));
  }

  close(): Promise<void> {
    return this.emu.close();
  }
}

const offsets = new WeakMap<Harness, number>();
function clockOffsetSeconds(h: Harness): number {
  return offsets.get(h) ?? 0;
}
/** Keeps jose's notion of "now" in step with the emulator's advanced clock. */
export function advance(h: Harness, seconds: number): void {
  h.emu.advanceClock(seconds);
  offsets.set(h, clockOffsetSeconds(h) + seconds);
}

/** The AADSTS number of an Entra error body, asserting the shape on the way. */
export function aadsts(body: Record<string, any>): number {
  const description = String(body["error_description"]);
  const m =
    /^AADSTS(\d+): .+ Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-zA-Z-]+ Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s.exec(
      description,
    );
  if (!m) throw new Error(`not an Entra error description: ${description}`);
  const code = Number(m[1]);
  if (!Array.isArray(body["error_codes"]) || body["error_codes"][0] !== code)
    throw new Error("error_codes does not match");
  for (const k of ["timestamp", "trace_id", "correlation_id", "error"])
    if (typeof body[k] !== "string") throw new Error(`missing ${k}`);
  return code;
}
