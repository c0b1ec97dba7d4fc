/**
 * The token sidecar: a local endpoint that speaks Azure App Service's managed-identity protocol
 * (api-version 2019-08-01), so that any Azure SDK — in any language, unmodified — gets partner
 * tokens (App + User, customer tenants) the way it would get a managed identity's.
 *
 * ```
 * GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R[&client_id=…]
 * X-IDENTITY-HEADER: {IDENTITY_HEADER}
 * → 200 {"access_token", "expires_on": "<epoch seconds>", "resource": R, "token_type": "Bearer", "client_id"}
 * ```
 *
 * Security by construction: the listener is bound to 127.0.0.1 only; the header secret is 32
 * random bytes per start, compared in constant time, and a request without it gets 401 before
 * anything else is looked at; the request log names the resource and tenant, never a token.
 *
 * Errors are shaped for the SDKs' retry logic: 400 for what will not succeed by retrying (no
 * session, sign-in needed, consent missing, a bad request), 503 with `Retry-After` for what may
 * (throttling, the service or network down). Never 404 or 410: MSAL and the Azure SDKs retry
 * those for about a minute, which would turn a clear error into a long hang.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthResult, TokenSource } from "../session/types.ts";

/** The only api-version spoken: App Service's, used by every current Azure SDK. */
export const API_VERSION = "2019-08-01";
/** The request header that carries the secret (`IDENTITY_HEADER`). */
export const SECRET_HEADER = "x-identity-header";
/** The endpoint's path; `/tenants/{tenant}` before it selects a customer tenant. */
export const TOKEN_PATH = "/msi/token";

/** Only loopback: a managed-identity endpoint must never be reachable from another machine. */
const LOOPBACK = "127.0.0.1";

export interface SidecarOptions {
  /** Where tokens come from: a session, or a refresh-token store (through its cache). */
  source: TokenSource;
  /** The customer tenant for requests whose path names none; default the source's own tenant. */
  tenant?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Answered as `client_id`; default the token's `appid`/`azp` claim. */
  clientId?: string;
  /** One line per request (method, path, resource, tenant, status, time) — never a token. */
  log?: (line: string) => void;
}

export interface RunningSidecar {
  /** `http://127.0.0.1:{port}/msi/token`: the value of `IDENTITY_ENDPOINT`. */
  identityEndpoint: string;
  /** The random secret of this start: the value of `IDENTITY_HEADER`. */
  identityHeader: string;
  /** The endpoint for another tenant: `http://127.0.0.1:{port}/tenants/{tenant}/msi/token`. */
  endpointFor(tenant: string): string;
  address: AddressInfo;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Thrown (and answered) for a request that is wrong in itself. */
class BadRequest extends Error {}

/**
 * Starts the managed-identity endpoint on 127.0.0.1.
 *
 * @example
 * ```ts
 * const sidecar = await startSidecar({ source: session, tenant: customerTenantId });
 * const child = spawn("python3", ["job.py"], {
 *   stdio: "inherit",
 *   env: { ...process.env, IDENTITY_ENDPOINT: sidecar.identityEndpoint, IDENTITY_HEADER: sidecar.identityHeader },
 * });
 * child.on("exit", () => sidecar.close());
 * ```
 */
export async function startSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const secret = randomBytes(32).toString("base64url");
  const secretDigest = digest(secret);
  const log = options.log ?? (() => {});
  const context = { ...options, secretDigest };

  const server = createServer((request, response) => {
    const started = performance.now();
    handle(request, response, context).then(
      (note) => log(requestLine(request, response.statusCode, note, started)),
      (error: unknown) => {
        // handle() answers every failure itself; this is a bug guard, not a code path.
        if (!response.headersSent) send(response, 500, { error: "server_error" });
        log(requestLine(request, 500, (error as Error).message, started));
      },
    );
  });
  // Clients such as MSAL keep connections alive between token requests.
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: LOOPBACK, port: options.port ?? 0, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const origin = `http://${LOOPBACK}:${address.port}`;
  return {
    identityEndpoint: `${origin}${TOKEN_PATH}`,
    identityHeader: secret,
    endpointFor: (tenant) => `${origin}/tenants/${encodeURIComponent(tenant)}${TOKEN_PATH}`,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A command that has exited (or a stopped service) leaves nothing worth waiting for.
        server.closeAllConnections();
      }),
  };
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/** Constant time whatever the length: both sides are hashed to 32 bytes first. */
function secretMatches(given: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof given !== "string" || given === "") return false;
  return timingSafeEqual(digest(given), expected);
}

/** Answers one request; resolves to a note for the log line. */
async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: SidecarOptions & { secretDigest: Buffer },
): Promise<string> {
  if (!secretMatches(request.headers[SECRET_HEADER], options.secretDigest)) {
    // Nothing else is looked at, and nothing is said about what the endpoint serves.
    send(response, 401, { error: "unauthorized", error_description: "X-IDENTITY-HEADER." });
    return "no or wrong X-IDENTITY-HEADER";
  }
  let parsed: ReturnType<typeof parseRequest>;
  try {
    if (request.method !== "GET") {
      response.setHeader("allow", "GET");
      throw new BadRequest(`${request.method} is not supported: use GET.`);
    }
    parsed = parseRequest(request.url ?? "/", options.tenant);
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    send(response, request.method === "GET" ? 400 : 405, {
      error: "invalid_request",
      error_description: error.message,
    });
    return error.message;
  }

  let result: AuthResult;
  try {
    const ask = {
      scopes: [parsed.scope],
      ...(parsed.tenant === undefined ? {} : { tenant: parsed.tenant }),
    };
    result = await options.source.getToken(ask);
    // MSAL's revocation signal (the protocol carries no claims): the SHA-256 of the token a
    // resource refused. When that is the token at hand, renew it instead of handing it out again.
    if (
      parsed.tokenSha256ToRefresh !== undefined &&
      createHash("sha256").update(result.accessToken).digest("hex") === parsed.tokenSha256ToRefresh
    )
      result = await options.source.getToken({ ...ask, forceRefresh: true });
  } catch (error) {
    const answer = errorAnswer(error);
    if (answer.retryAfter !== undefined) response.setHeader("retry-after", answer.retryAfter);
    send(response, answer.status, answer.body);
    // For whoever runs the endpoint: what the SDK was told (the library's messages are redacted).
    const why = answer.body.error_description.split("\n")[0]!.slice(0, 300);
    return `${parsed.tenant ? `tenant=${parsed.tenant} ` : ""}resource=${parsed.resource} ${answer.body.error}: ${why}`;
  }
  send(response, 200, {
    access_token: result.accessToken,
    expires_on: String(Math.floor(Date.parse(result.expiresOn) / 1000)),
    resource: parsed.resource,
    token_type: "Bearer",
    client_id: options.clientId ?? clientIdOf(result.accessToken),
  });
  return `${parsed.tenant ? `tenant=${parsed.tenant} ` : ""}resource=${parsed.resource}`;
}

/** A tenant id (GUID) or domain name, as accepted in the path and by `--tenant`. */
export const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/;

/**
 * The path (`/msi/token` or `/tenants/{tenant}/msi/token`) and query of a token request.
 * Parameters other than api-version and resource (`client_id`, `mi_res_id`, `object_id`,
 * `principal_id`: a user-assigned identity) are ignored: the sidecar has one identity.
 */
export function parseRequest(
  url: string,
  defaultTenant?: string,
): {
  resource: string;
  scope: string;
  tenant: string | undefined;
  tokenSha256ToRefresh?: string;
} {
  let target: URL;
  try {
    target = new URL(url, "http://sidecar.invalid");
  } catch {
    throw new BadRequest("The request target is not a URL path.");
  }
  const path = target.pathname.replace(/\/+$/, "");
  let tenant = defaultTenant;
  const byPath = /^\/tenants\/([^/]+)(\/.*)$/.exec(path);
  const rest = byPath?.[2] ?? path;
  if (rest.toLowerCase() !== TOKEN_PATH)
    throw new BadRequest(
      `Unknown path '${target.pathname}': ask ${TOKEN_PATH} or /tenants/{tenant}${TOKEN_PATH}.`,
    );
  if (byPath) {
    try {
      tenant = decodeURIComponent(byPath[1]!);
    } catch {
      throw new BadRequest("The tenant in the path is not valid percent-encoding.");
    }
    if (!TENANT.test(tenant))
      throw new BadRequest(`'${tenant}' is not a tenant id or domain name.`);
  }
  const version = target.searchParams.get("api-version");
  if (version !== API_VERSION)
    throw new BadRequest(
      version === null
        ? `api-version is missing: this endpoint speaks api-version=${API_VERSION}.`
        : `api-version ${version} is not supported: this endpoint speaks ${API_VERSION}.`,
    );
  const resource = target.searchParams.get("resource")?.trim();
  if (!resource)
    throw new BadRequest("resource is missing, e.g. resource=https://graph.microsoft.com.");
  const hash = target.searchParams.get("token_sha256_to_refresh");
  if (hash !== null && !/^[0-9a-f]{64}$/i.test(hash))
    throw new BadRequest("token_sha256_to_refresh must be the SHA-256 of a token, in hex.");
  return {
    resource,
    scope: scopeForResource(resource),
    tenant,
    ...(hash !== null ? { tokenSha256ToRefresh: hash.toLowerCase() } : {}),
  };
}

/**
 * A v1 resource as a v2 scope: `R/.default`. A trailing slash is dropped first — ARM is asked for
 * as `https://management.azure.com/` (PowerShell's Az) or `https://management.core.windows.net/`,
 * and `R//.default` is not what a partner's app was consented for. A value that is already a
 * `.default` scope is kept.
 *
 * @example
 * scopeForResource("https://management.azure.com/"); // "https://management.azure.com/.default"
 */
export function scopeForResource(resource: string): string {
  if (/\/\.default$/i.test(resource)) return resource;
  return `${resource.replace(/\/+$/, "")}/.default`;
}

interface ErrorAnswer {
  status: 400 | 503;
  body: { error: string; error_description: string };
  retryAfter?: string;
}

interface ErrorFields {
  message?: unknown;
  hint?: unknown;
  error?: unknown;
  status?: unknown;
  exitCode?: unknown;
  code?: unknown;
  response?: { headers?: Headers } | undefined;
}

/**
 * What the SDK is told when no token could be had. The library's errors keep Entra's fields;
 * their message and hint are already redacted and say what to do next.
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorFields;
  const message = typeof e.message === "string" ? e.message : String(error);
  const hint = typeof e.hint === "string" ? ` ${e.hint}` : "";
  const status = typeof e.status === "number" ? e.status : undefined;
  const oauthError = typeof e.error === "string" ? e.error : undefined;
  const description = `${message}${hint}`;
  const transient =
    status === 429 ||
    (status !== undefined && status >= 500) ||
    oauthError === "temporarily_unavailable" ||
    // Another process is renewing the same token and has not finished: ask again shortly.
    (error as { name?: unknown } | null)?.name === "LockTimeoutError" ||
    isNetworkError(error);
  if (transient) {
    const fromServer = e.response?.headers?.get?.("retry-after") ?? undefined;
    return {
      status: 503,
      body: { error: oauthError ?? "temporarily_unavailable", error_description: description },
      retryAfter: fromServer && /^\d+$/.test(fromServer) ? fromServer : "5",
    };
  }
  const signIn = e.exitCode === 4;
  return {
    status: 400,
    body: {
      error: oauthError ?? (signIn ? "interaction_required" : "invalid_request"),
      error_description: description,
    },
  };
}

function isNetworkError(error: unknown): boolean {
  const codes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN"]);
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e;) {
    if (typeof e.code === "string" && (codes.has(e.code) || e.code === "ERR_NETWORK")) return true;
    e = typeof e.cause === "object" && e.cause !== null ? (e.cause as typeof e) : undefined;
  }
  return false;
}

/** The application id in an access token (`appid` v1, `azp` v2), for `client_id`. */
function clientIdOf(accessToken: string): string {
  try {
    const payload = accessToken.split(".")[1] ?? "";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      appid?: unknown;
      azp?: unknown;
    };
    const id = claims.appid ?? claims.azp;
    return typeof id === "string" ? id : "";
  } catch {
    return "";
  }
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

/** `GET /msi/token 200 3.1ms tenant=… resource=…`: no query string, so nothing unexpected is logged. */
function requestLine(
  request: IncomingMessage,
  status: number,
  note: string,
  started: number,
): string {
  const path = (request.url ?? "/").split("?")[0];
  const ms = (performance.now() - started).toFixed(1);
  return `partner-token sidecar: ${request.method} ${path} ${status} ${ms}ms ${note}`.trimEnd();
}
