/**
 * Every HTTP request of the library goes through {@link createHttp}: it adds `client-request-id`,
 * trusts the configured CA, refuses plain http to any host but this machine, retries what is
 * worth retrying (408, 429, 5xx, network errors) a few times with bounded backoff honouring
 * `Retry-After`, turns aborts into {@link CancelledError}, and writes the exchange to
 * `options.debug` with every secret redacted.
 *
 * No server can hang or flood it: every answer's body is read here, before the caller sees it,
 * with a size limit (`maxResponseBytes`: reading stops there), an idle limit (`idleTimeoutMs`:
 * the longest silence) and one deadline for the whole operation (`timeoutMs`: every attempt,
 * retry wait and body together), on both paths (global `fetch` and the extra-CA `node:https` one).
 */
import { fetchTrustingCa, type FetchFunction } from "./ca-trust.ts";
import { isLoopbackUrl } from "./environments.ts";
import {
  CancelledError,
  PartnerTokenError,
  ResponseTooLargeError,
  TimeoutError,
  UsageError,
} from "./errors.ts";
import { redact, redactHeaders } from "./redact.ts";
import { retryAfterSeconds } from "./retry-after.ts";
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
  /** The operation's deadline: every attempt, retry wait and body read together. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The longest silence of a server (before its headers, or between two parts of its body). Default {@link DEFAULT_IDLE_TIMEOUT_MS}. */
  idleTimeoutMs?: number;
  /** The largest answer read; more is refused with `ERR_RESPONSE_TOO_LARGE`. Default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

export interface Http {
  /** A `fetch` for oauth4webapi's `[customFetch]` and jose's `[customFetch]`. */
  fetch: FetchFunction;
  /** The `client-request-id` sent with every request of this operation. */
  readonly correlationId: string;
  /** The correlation id the server sent back last (`client-request-id` response header), if any. */
  readonly serverCorrelationId: string | undefined;
  signal: AbortSignal | undefined;
  /**
   * Starts the deadline again, for the requests that follow a person's step (the sign-in in the
   * browser, each poll while a device code waits for approval): waiting for a person is not a
   * server being slow.
   */
  restartDeadline(): void;
}

/** Default deadline of one operation (a token request with its discovery, key set and retries). */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Default longest silence of a server while we wait for its answer or the rest of its body. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Default size limit of an answer: 4 MiB, far above any token, discovery, key set or Partner Center page. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** A server asking to wait longer than this is not retried: we fail fast and say so. */
const MAX_RETRY_AFTER_SECONDS = 10;
/** setTimeout's limit. */
const MAX_TIMER_MS = 2_147_483_647;

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

function describeBody(body: RequestInit["body"]): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  return "[binary body]";
}

function limitOption(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > MAX_TIMER_MS)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `${name} must be a number from 1 to ${MAX_TIMER_MS}; got ${String(value)}.`,
      { option: name },
    );
  return Math.floor(value);
}

/**
 * Where a request may go: https anywhere, plain http only to this machine. Decided for every
 * request's own URL, so that an http issuer on 127.0.0.1 cannot name a token endpoint elsewhere
 * and have a secret sent there in clear.
 */
function checkTarget(url: string, method: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new PartnerTokenError(
      "ERR_INSECURE_ENDPOINT",
      `Refused ${method} to '${url}': not a URL.`,
    );
  }
  if (target.protocol === "https:") return target;
  if (target.protocol === "http:" && isLoopbackUrl(target)) return target;
  throw new PartnerTokenError(
    "ERR_INSECURE_ENDPOINT",
    `Refused ${method} ${target.origin}${target.pathname}: ${target.protocol === "http:" ? "plain http to a host that is not this machine" : `the scheme '${target.protocol}'`} would send credentials unencrypted. Nothing was sent.`,
    {
      hint: "Every endpoint must be https; plain http is accepted only on localhost / 127.0.0.1 / [::1]. If the authority's discovery document names this endpoint, fix the document (or use an https issuer).",
    },
  );
}

/** One attempt's two clocks: the operation's deadline and the server's silence. */
class AttemptClock {
  readonly #controller = new AbortController();
  readonly #deadlineTimer: NodeJS.Timeout;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #idleMs: number;
  stopped: "deadline" | "idle" | undefined;

  constructor(deadline: number, idleMs: number) {
    this.#idleMs = idleMs;
    this.#deadlineTimer = setTimeout(
      () => this.#stop("deadline"),
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())),
    );
    this.progress();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The server sent something: the silence starts again. */
  progress(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#stop("idle"), this.#idleMs);
  }

  clear(): void {
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#idleTimer);
  }

  #stop(why: "deadline" | "idle"): void {
    this.stopped ??= why;
    this.clear();
    this.#controller.abort(new Error(`the ${why} timer fired`));
  }
}

/**
 * Creates the HTTP layer of one operation (one correlation id for all its requests, one deadline).
 *
 * @example
 * ```ts
 * const http = createHttp({ caFile: env.caFile, debug: console.error, timeoutMs: 30_000 });
 * const res = await http.fetch("https://login.microsoftonline.com/common/discovery/instance", { method: "GET" });
 * ```
 * @throws {UsageError} `ERR_INVALID_ARGUMENT` for a limit that is not a number from 1 to 2147483647.
 */
export function createHttp(options: HttpOptions = {}): Http {
  const timeoutMs = limitOption(options.timeoutMs, "timeoutMs", DEFAULT_TIMEOUT_MS);
  const idleMs = limitOption(options.idleTimeoutMs, "idleTimeoutMs", DEFAULT_IDLE_TIMEOUT_MS);
  const maxBytes = limitOption(
    options.maxResponseBytes,
    "maxResponseBytes",
    DEFAULT_MAX_RESPONSE_BYTES,
  );
  const base: FetchFunction = options.caFile
    ? fetchTrustingCa(options.caFile)
    : (url, init) => fetch(url, init);
  // node:crypto taken here rather than imported: this module loads with every command of the
  // CLI (scripts/build.ts), most of which send no request.
  const correlationId = process.getBuiltinModule("node:crypto").randomUUID();
  const retries = options.retries ?? 3;
  const secrets = (options.secrets ?? []).filter((s) => s.length > 0);
  const debug = options.debug ? (line: string) => options.debug!(redact(line, secrets)) : undefined;
  let serverCorrelationId: string | undefined;
  let deadline = Date.now() + timeoutMs;

  const send = async (url: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? "GET";
    const target = checkTarget(url, method);
    const where = `${target.origin}${target.pathname}`;
    const headers = new Headers(init.headers);
    headers.set("client-request-id", correlationId);
    headers.set("return-client-request-id", "true");
    headers.set("x-client-sku", "partner-token");
    const deadlinePassed = () =>
      new TimeoutError(
        `${method} ${where}: no complete answer within the operation's deadline of ${timeoutMs / 1000} s (all attempts together).`,
        { url: where, timeoutMs, option: "timeoutMs" },
      );

    /** After a failed attempt: resolves to retry, or throws the error that says what happened. */
    const failed = async (
      cause: unknown,
      clock: AttemptClock,
      attempt: number,
      reading: boolean,
    ): Promise<void> => {
      if (cause instanceof PartnerTokenError) throw cause;
      if (options.signal?.aborted) throw new CancelledError();
      // The caller's own signal (jose's time limit for a key set): its time is up, not ours.
      if (init.signal?.aborted)
        throw new TimeoutError(
          `${method} ${where}: no complete answer within the time its caller allows.`,
          { url: where, timeoutMs, option: "timeoutMs" },
        );
      if (clock.stopped === "deadline") {
        debug?.(`< ${method} ${url} stopped: the deadline of ${timeoutMs / 1000} s passed`);
        throw deadlinePassed();
      }
      const when = reading ? " while reading the answer" : "";
      const reason =
        clock.stopped === "idle"
          ? `the server sent nothing for ${idleMs / 1000} s${when}`
          : `${networkReason(cause)}${when}`;
      debug?.(`< ${method} ${url} failed: ${reason}`);
      const wait = backoffMs(attempt);
      if (attempt < retries && Date.now() + wait < deadline) {
        await sleep(wait, options.signal);
        return;
      }
      if (clock.stopped === "idle")
        throw new TimeoutError(`${method} ${where} failed: ${reason}.`, {
          url: where,
          timeoutMs: idleMs,
          option: "idleTimeoutMs",
        });
      throw new PartnerTokenError("ERR_NETWORK", `${method} ${where} failed: ${reason}.`, {
        cause,
        hint: "Check the network, proxy and the environment's authority host; with a private CA, pass its PEM file (caFile).",
        option: "caFile",
      });
    };

    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new CancelledError();
      if (Date.now() >= deadline) throw deadlinePassed();
      const clock = new AttemptClock(deadline, idleMs);
      const signal = AbortSignal.any([
        clock.signal,
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
        // No redirects: a token request is never redirected, and a redirect would take its
        // credentials to a URL no one checked.
        response = await base(url, { ...init, method, headers, signal, redirect: "manual" });
      } catch (cause) {
        clock.clear();
        await failed(cause, clock, attempt, false);
        continue;
      }
      clock.progress();
      serverCorrelationId = response.headers.get("client-request-id") ?? serverCorrelationId;
      let deferred = false;
      if (
        options.onThrottled &&
        (response.status === 429 ||
          (response.status === 503 && response.headers.has("retry-after")))
      ) {
        const after = retryAfterSeconds(response.headers);
        deferred =
          options.onThrottled({
            method,
            url: where,
            status: response.status,
            retryAfterMs: after === undefined ? undefined : after * 1000,
          }) === "defer";
      }
      if (!deferred && RETRY_STATUS.has(response.status) && attempt < retries) {
        const after = retryAfterSeconds(response.headers);
        const wait = after === undefined ? backoffMs(attempt) : after * 1000;
        // A long Retry-After is not slept on, nor a wait past the deadline: the answer goes back.
        if (
          (after === undefined || after <= MAX_RETRY_AFTER_SECONDS) &&
          Date.now() + wait < deadline
        ) {
          clock.clear();
          debug?.(
            `< ${response.status} ${response.statusText} ${method} ${url} (${Date.now() - started} ms); retrying in ${Math.round(wait)} ms`,
          );
          void response.body?.cancel().catch(() => undefined);
          await sleep(wait, options.signal);
          continue;
        }
      }
      let bytes: Uint8Array | null;
      try {
        bytes = await readBody(response, {
          method,
          where,
          maxBytes,
          progress: () => clock.progress(),
        });
      } catch (cause) {
        clock.clear();
        if (cause instanceof ResponseTooLargeError)
          debug?.(`< ${response.status} ${method} ${url}: ${cause.message}`);
        await failed(cause, clock, attempt, true);
        continue;
      }
      clock.clear();
      if (debug) logResponse(debug, method, url, response, bytes, Date.now() - started);
      return rebuild(response, bytes, method, where);
    }
  };

  return {
    fetch: send,
    correlationId,
    get serverCorrelationId() {
      return serverCorrelationId;
    },
    signal: options.signal,
    restartDeadline() {
      deadline = Date.now() + timeoutMs;
    },
  };
}

/** 0.5 s, 1 s, 2 s … with jitter, capped at 5 s. */
function backoffMs(attempt: number): number {
  return Math.min(5000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
}

const networkReasons: Record<string, string> = {
  ECONNRESET: "the connection was reset (ECONNRESET)",
  ECONNREFUSED: "the connection was refused (ECONNREFUSED)",
  EPIPE: "the connection was closed while sending (EPIPE)",
  ENOTFOUND: "the host name was not found (ENOTFOUND)",
  EAI_AGAIN: "the host name could not be resolved now (EAI_AGAIN)",
  ETIMEDOUT: "the connection timed out (ETIMEDOUT)",
  UND_ERR_SOCKET: "the server closed the connection (UND_ERR_SOCKET)",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out (UND_ERR_CONNECT_TIMEOUT)",
};

/** What went wrong on the wire, from Node's or undici's error (codes nested in `cause`). */
function networkReason(cause: unknown): string {
  type Coded = { code?: unknown; message?: unknown; cause?: unknown };
  let reason: string | undefined;
  for (let e = cause as Coded | undefined, depth = 0; e && depth < 4; depth++) {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && networkReasons[code]) return networkReasons[code];
    reason ??= code;
    e = e.cause as Coded | undefined;
  }
  const err = cause as Coded;
  const nested = (err.cause as Coded | undefined)?.message;
  return (
    reason ??
    (typeof nested === "string" ? nested : undefined) ??
    (typeof err.message === "string" ? err.message : String(cause))
  );
}

/**
 * Reads an answer's body, at most `maxBytes`: a declared length over the limit is refused before
 * reading, and reading stops as soon as the limit is passed (memory holds at most the limit).
 */
async function readBody(
  response: Response,
  limit: { method: string; where: string; maxBytes: number; progress: () => void },
): Promise<Uint8Array | null> {
  if (!response.body) return null;
  const tooLarge = () =>
    new ResponseTooLargeError({
      method: limit.method,
      url: limit.where,
      limitBytes: limit.maxBytes,
    });
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit.maxBytes) {
    void response.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    limit.progress();
    total += value.byteLength;
    if (total > limit.maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The answer again, with its body read: the callers (oauth4webapi, jose, ours) read it from memory. */
function rebuild(
  response: Response,
  bytes: Uint8Array | null,
  method: string,
  where: string,
): Response {
  const noBody = bytes === null || response.status === 204 || response.status === 304;
  try {
    return new Response(noBody ? null : (bytes as Uint8Array<ArrayBuffer>), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } catch (cause) {
    throw new PartnerTokenError(
      "ERR_INVALID_RESPONSE",
      `${method} ${where} answered with HTTP status ${response.status}, which is not a status an answer can have.`,
      { cause },
    );
  }
}

/**
 * The JSON of an answer that {@link createHttp}'s `fetch` returned (its body already read within
 * the limits): `undefined` for an empty body. A success (2xx) whose body is not JSON is refused
 * with the caller's own error, `notJson()`; an error answer's body that is not JSON is
 * `undefined`, and the caller describes the answer by its status.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(response, () => new GraphError("not JSON", { status: response.status }));
 * ```
 */
export async function readJsonBody(response: Response, notJson: () => Error): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (response.ok) throw notJson();
    return undefined;
  }
}

/** Debug output shows at most this much of a body. */
const DEBUG_BODY_CHARS = 64 * 1024;

function logResponse(
  debug: (line: string) => void,
  method: string,
  url: string,
  response: Response,
  bytes: Uint8Array | null,
  ms: number,
): void {
  let text = bytes === null ? "" : Buffer.from(bytes).toString("utf8");
  if (text.length > DEBUG_BODY_CHARS)
    text = `${text.slice(0, DEBUG_BODY_CHARS)}\n[… ${text.length - DEBUG_BODY_CHARS} more characters not shown]`;
  debug(
    `< ${response.status} ${response.statusText} ${method} ${url} (${ms} ms)\n${redactHeaders(response.headers)}${text ? `\n\n${text}` : ""}`,
  );
}
