/**
 * The Partner Center API client (SPEC §5): every call gets its Entra token for Partner Center from
 * a {@link TokenSource}, carries a new `MS-CorrelationId`, an `MS-RequestId` kept across the
 * retries of that call (Partner Center uses it for idempotency), and the client name header; the
 * HTTP layer retries 408, 429 and 5xx with backoff, honouring `Retry-After`. Refusals become a
 * {@link PartnerCenterError} with Partner Center's `code` and `description` kept.
 */
import { randomUUID } from "node:crypto";
import { PartnerTokenError, ServerError } from "../client/errors.ts";
import { createHttp, readJsonBody } from "../client/http.ts";
import { retryAfterHint } from "../client/retry-after.ts";
import type { TokenSource } from "../session/types.ts";

/** The scope of Partner Center's API in every cloud where it is `api.partnercenter.microsoft.com`. */
export const PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation";
/** Sent as `MS-PartnerCenter-Client` on every call, as Microsoft's SDKs name themselves. */
export const CLIENT_NAME = "partner-token";

export interface PartnerCenterClientOptions {
  /** Where the Entra token for Partner Center comes from (a session, a refresh-token store). */
  source: TokenSource;
  /** The environment's Partner Center API origin, e.g. `https://api.partnercenter.microsoft.com`. */
  endpoint: string;
  /** Scope of the Entra token; default {@link PARTNER_CENTER_SCOPE}. */
  scope?: string;
  /** Tenant of the Entra token; default the source's own (the partner's). */
  tenant?: string;
  /** PEM file of an extra certificate authority to trust (the emulator's). */
  caFile?: string;
  /** The HTTP exchange, one line per call, secrets redacted. */
  debug?: (line: string) => void;
  signal?: AbortSignal;
  /** Retries after the first attempt of a call (408, 429, 5xx, network). Default 3. */
  retries?: number;
  /**
   * The deadline of one call in milliseconds: its attempts, retry waits and body reads together
   * (the token from the source has its own). Default 60 000. Over it: `ERR_TIMEOUT`.
   */
  timeoutMs?: number;
  /** The longest silence of Partner Center within a call, in milliseconds. Default 30 000. */
  idleTimeoutMs?: number;
  /** The largest answer read, in bytes (`ERR_RESPONSE_TOO_LARGE` over it). Default 4 MiB. */
  maxResponseBytes?: number;
}

/** What a call sent and got back. */
export interface PartnerCenterResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  /** The `MS-CorrelationId` of the call (Partner Center's answer, else the one sent). */
  correlationId: string;
  /** The `MS-RequestId` sent (kept across retries). */
  requestId: string;
}

export interface PartnerCenterRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path under the endpoint, with its query: `/v1/customers?size=100`. */
  path: string;
  /** A form body (`application/x-www-form-urlencoded`) or JSON. */
  form?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
}

const statusHints: Record<number, string> = {
  400: "Partner Center refused the request as invalid; the description says which input.",
  401: "Partner Center did not accept the Entra token. Sign in again for Partner Center's scope (…/user_impersonation) with a user of the partner tenant, in the same environment as the endpoint.",
  403: "The signed-in user has no Partner Center role for this. Assign the Admin agent (or Sales agent, Helpdesk agent) role in Partner Center → Account settings → User management, then sign in again.",
  404: "Partner Center found no such resource: the signed-in tenant is not a Partner Center partner in this environment (check --environment), or the item does not exist.",
  408: "Partner Center did not answer in time, even after retries. Try again later.",
  409: "The request conflicts with the resource's current state.",
  429: "Partner Center is throttling this partner; the retries honoured its Retry-After. Slow down, or try again later.",
  500: "Partner Center or one of its dependencies failed, even after retries. Try again later; quote the correlation id to Microsoft support if it persists.",
};

/**
 * Partner Center refused a call (or failed it). Keeps Partner Center's `code` and `description`
 * (as {@link partnerCenterCode} and `errorDescription`), the HTTP `status` and the
 * `correlationId`. `exitCode` 1.
 *
 * @example
 * ```ts
 * try {
 *   await generatePartnerCenterToken(client);
 * } catch (err) {
 *   if (err instanceof PartnerCenterError && err.status === 403) console.error(err.hint);
 * }
 * ```
 */
export class PartnerCenterError extends ServerError {
  /** Partner Center's own error code (`900401`, `600001`, …), when it sent one. */
  readonly partnerCenterCode: number | string | undefined;
  /** The `MS-RequestId` of the call. */
  readonly requestId: string | undefined;

  constructor(
    message: string,
    fields: {
      status: number;
      partnerCenterCode?: number | string;
      description?: string;
      correlationId?: string;
      requestId?: string;
      response?: Response;
    },
  ) {
    super(`ERR_PARTNER_CENTER_${fields.status}`, message, {
      status: fields.status,
      ...(fields.partnerCenterCode !== undefined
        ? { error: String(fields.partnerCenterCode) }
        : {}),
      ...(fields.description !== undefined ? { errorDescription: fields.description } : {}),
      ...(fields.correlationId !== undefined ? { correlationId: fields.correlationId } : {}),
      ...(fields.response ? { response: fields.response } : {}),
      hint:
        retryAfterHint(fields.response) ??
        statusHints[fields.status] ??
        (fields.status >= 500 ? statusHints[500] : undefined),
    });
    this.partnerCenterCode = fields.partnerCenterCode;
    this.requestId = fields.requestId;
  }
}

/**
 * A Partner Center API client over a token source.
 *
 * @example
 * ```ts
 * const session = await openSession();
 * const pc = new PartnerCenterClient({ source: session, endpoint: "https://api.partnercenter.microsoft.com" });
 * const { body } = await pc.request({ path: "/v1/profiles/organization" });
 * ```
 */
export class PartnerCenterClient {
  readonly endpoint: string;
  readonly #options: PartnerCenterClientOptions;

  constructor(options: PartnerCenterClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new PartnerTokenError(
        "ERR_INVALID_ARGUMENT",
        `endpoint is not a URL: '${options.endpoint}'.`,
      );
    }
    if (url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
      throw new PartnerTokenError(
        "ERR_INSECURE_ENDPOINT",
        `The Partner Center endpoint '${url.origin}' is not https; tokens would travel unencrypted.`,
      );
    this.endpoint = url.href.replace(/\/+$/, "");
    this.#options = options;
  }

  /** One call: a token from the source, the headers, retries, and the answer parsed or refused. */
  async request<T = unknown>(request: PartnerCenterRequest): Promise<PartnerCenterResponse<T>> {
    const o = this.#options;
    const http = createHttp({
      ...(o.caFile ? { caFile: o.caFile } : {}),
      ...(o.debug ? { debug: o.debug } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
      ...(o.maxResponseBytes !== undefined ? { maxResponseBytes: o.maxResponseBytes } : {}),
    });
    const requestId = randomUUID();
    const url = `${this.endpoint}${request.path.startsWith("/") ? "" : "/"}${request.path}`;
    let body: string | undefined;
    const headers: Record<string, string> = {
      accept: "application/json",
      "ms-correlationid": http.correlationId,
      "ms-requestid": requestId,
      "ms-partnercenter-client": CLIENT_NAME,
      ...request.headers,
    };
    if (request.form) {
      body = new URLSearchParams(request.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers["content-type"] = "application/json";
    }
    const method = request.method ?? (body === undefined ? "GET" : "POST");
    // A 401 with a token from the cache may mean Partner Center saw it expire first: one retry
    // with a freshly redeemed token.
    for (let attempt = 0; ; attempt++) {
      const token = await o.source.getToken({
        scopes: [o.scope ?? PARTNER_CENTER_SCOPE],
        ...(o.tenant ? { tenant: o.tenant } : {}),
        ...(attempt > 0 ? { forceRefresh: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const response = await http.fetch(url, {
        method,
        headers: { ...headers, authorization: `Bearer ${token.accessToken}` },
        ...(body !== undefined ? { body } : {}),
      });
      const correlationId = response.headers.get("ms-correlationid") ?? http.correlationId;
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel();
        continue;
      }
      const parsed = await readJsonBody(
        response,
        () =>
          new PartnerCenterError(
            `Partner Center answered ${request.path.split("?")[0]} with a body that is not JSON.`,
            { status: response.status, correlationId, requestId },
          ),
      );
      if (response.ok)
        return {
          status: response.status,
          headers: response.headers,
          body: parsed as T,
          correlationId,
          requestId,
        };
      throw partnerCenterErrorFrom(response, parsed, {
        path: request.path,
        correlationId,
        requestId,
      });
    }
  }
}

/** Partner Center's error shape (`code`, `description`), or Entra's, or an empty body. */
function partnerCenterErrorFrom(
  response: Response,
  body: unknown,
  call: { path: string; correlationId: string; requestId: string },
): PartnerCenterError {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code =
    typeof b["code"] === "number" || typeof b["code"] === "string"
      ? (b["code"] as number | string)
      : typeof b["error"] === "string"
        ? b["error"]
        : undefined;
  const description =
    typeof b["description"] === "string"
      ? b["description"]
      : typeof b["error_description"] === "string"
        ? b["error_description"]
        : typeof b["message"] === "string"
          ? b["message"]
          : undefined;
  const where = call.path.split("?")[0];
  const message = description
    ? `Partner Center refused ${where} (HTTP ${response.status}${code !== undefined ? `, code ${code}` : ""}): ${description.split(/\r?\n/)[0]}`
    : `Partner Center answered ${where} with HTTP ${response.status} ${response.statusText}.`;
  return new PartnerCenterError(message, {
    status: response.status,
    ...(code !== undefined ? { partnerCenterCode: code } : {}),
    ...(description !== undefined ? { description } : {}),
    correlationId: call.correlationId,
    requestId: call.requestId,
    response,
  });
}
