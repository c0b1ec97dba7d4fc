/**
 * Every HTTP request of the library goes through {@link createHttp}: it adds `client-request-id`,
 * trusts the configured CA, retries what is worth retrying (408, 429, 5xx, network errors) a few
 * times with bounded backoff honouring `Retry-After`, turns aborts into {@link CancelledError},
 * and writes the exchange to `options.debug` with every secret redacted.
 */
import { randomUUID } from "node:crypto";
import { fetchTrustingCa, type FetchFunction } from "./ca-trust.ts";
import { CancelledError, PartnerTokenError } from "./errors.ts";
import { redact, redactHeaders } from "./redact.ts";
import type { ClientOptions } from "./types.ts";

export interface HttpOptions {
  caFile?: string | null;
  debug?: (line: string) => void;
  signal?: AbortSignal;
  /** Values to scrub from debug output wherever they appear (client secret, refresh token). */
  secrets?: string[];
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Told of every throttled answer before it is retried; `"defer"` returns it at once. */
  onThrottled?: ClientOptions["onThrottled"];
}

export interface Http {
  /** A `fetch` for oauth4webapi's `[customFetch]` and jose's `[customFetch]`. */
  fetch: FetchFunction;
  /** The `client-request-id` sent with every request of this operation. */
  readonly correlationId: string;
  /** The correlation id the server sent back last (`client-request-id` response header), if any. */
  readonly serverCorrelationId: string | undefined;
  signal: AbortSignal | undefined;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** A server asking to wait longer than this is not retried: we fail fast and say so. */
const MAX_RETRY_AFTER_SECONDS = 10;
const REQUEST_TIMEOUT_MS = 30_000;

/** Sleeps `ms`, or throws {@link CancelledError} as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date), or undefined. */
function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get("retry-after");
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function describeBody(body: RequestInit["body"]): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  return "[binary body]";
}

/**
 * Creates the HTTP layer of one operation (one correlation id for all its requests).
 *
 * @example
 * ```ts
 * const http = createHttp({ caFile: env.caFile, debug: console.error });
 * const res = await http.fetch("https://login.microsoftonline.com/common/discovery/instance", { method: "GET" });
 * ```
 */
export function createHttp(options: HttpOptions = {}): Http {
  const base: FetchFunction = options.caFile
    ? fetchTrustingCa(options.caFile)
    : (url, init) => fetch(url, init);
  const correlationId = randomUUID();
  const retries = options.retries ?? 3;
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const debug = options.debug ? (line: string) => options.debug!(redact(line, secrets)) : undefined;
  let serverCorrelationId: string | undefined;

  const send = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set("client-request-id", correlationId);
    headers.set("return-client-request-id", "true");
    headers.set("x-client-sku", "partner-token");
    const method = init.method ?? "GET";
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new CancelledError();
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      const signal = AbortSignal.any([
        timeout,
        ...(options.signal ? [options.signal] : []),
        ...(init.signal ? [init.signal] : []),
      ]);
      if (debug) {
        const body = describeBody(init.body);
        debug(
          `> ${method} ${url}${attempt > 0 ? ` (retry ${attempt})` : ""}\n${redactHeaders(headers)}${body ? `\n\n${body}` : ""}`,
        );
      }
      const started = Date.now();
      let response: Response;
      try {
        response = await base(url, { ...init, method, headers, signal });
      } catch (cause) {
        if (options.signal?.aborted) throw new CancelledError();
        const reason = timeout.aborted
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : networkReason(cause);
        debug?.(`< ${method} ${url} failed: ${reason}`);
        if (attempt < retries) {
          await sleep(backoffMs(attempt), options.signal);
          continue;
        }
        throw new PartnerTokenError(
          "ERR_NETWORK",
          `${method} ${new URL(url).origin}${new URL(url).pathname} failed: ${reason}.`,
          {
            cause,
            hint: "Check the network, proxy and the environment's authority host; with a private CA, pass its PEM file (caFile).",
            option: "caFile",
          },
        );
      }
      serverCorrelationId = response.headers.get("client-request-id") ?? serverCorrelationId;
      if (debug) response = await logResponse(debug, method, url, response, Date.now() - started);
      if (
        options.onThrottled &&
        (response.status === 429 ||
          (response.status === 503 && response.headers.has("retry-after")))
      ) {
        const after = retryAfterSeconds(response);
        const target = new URL(url);
        const decision = options.onThrottled({
          method,
          url: `${target.origin}${target.pathname}`,
          status: response.status,
          retryAfterMs: after === undefined ? undefined : after * 1000,
        });
        if (decision === "defer") return response;
      }
      if (RETRY_STATUS.has(response.status) && attempt < retries) {
        const after = retryAfterSeconds(response);
        if (after === undefined || after <= MAX_RETRY_AFTER_SECONDS) {
          await response.body?.cancel();
          await sleep(after === undefined ? backoffMs(attempt) : after * 1000, options.signal);
          continue;
        }
      }
      return response;
    }
  };

  return {
    fetch: send,
    correlationId,
    get serverCorrelationId() {
      return serverCorrelationId;
    },
    signal: options.signal,
  };
}

/** 0.5 s, 1 s, 2 s … with jitter, capped at 5 s. */
function backoffMs(attempt: number): number {
  return Math.min(5000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

function networkReason(cause: unknown): string {
  const err = cause as {
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  return err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(cause);
}

async function logResponse(
  debug: (line: string) => void,
  method: string,
  url: string,
  response: Response,
  ms: number,
): Promise<Response> {
  // The body can be read once; read it here and hand on an identical copy.
  const text = await response.text();
  debug(
    `< ${response.status} ${response.statusText} ${method} ${url} (${ms} ms)\n${redactHeaders(response.headers)}${text ? `\n\n${text}` : ""}`,
  );
  const noBody = response.status === 204 || response.status === 304;
  return new Response(noBody ? null : text, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
