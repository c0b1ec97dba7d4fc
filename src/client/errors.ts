/**
 * The library's errors: a few classes, each with a stable `code`, an `exitCode` matching
 * `src/cli/exit-codes.ts`, and a `hint` (the next step). Server errors keep Entra's fields
 * verbatim; the raw HTTP response is kept on a non-enumerable property so that loggers and
 * `JSON.stringify` never print it. Messages pass through {@link redact}.
 */
import { hintFor } from "./error-hints.ts";
import { redact } from "./redact.ts";
import { retryAfterHint } from "./retry-after.ts";

/** The fields of an OAuth / Entra ID error response, kept verbatim. */
export interface ServerErrorFields {
  /** HTTP status of the response. */
  status?: number;
  /** OAuth `error`, e.g. `invalid_grant`. */
  error?: string;
  /** OAuth `error_description` (Entra: `AADSTSnnnnn: … Trace ID: … Correlation ID: …`). */
  errorDescription?: string;
  /** Entra `error_codes`. */
  errorCodes?: number[];
  /** The AADSTS number, from `error_codes` or the description. */
  aadsts?: number;
  traceId?: string;
  correlationId?: string;
  timestamp?: string;
}

export interface PartnerTokenErrorOptions extends ServerErrorFields {
  hint?: string;
  /**
   * The library option the hint names in parentheses, e.g. `caFile` in "… (caFile).", so that a
   * command line can name its own flag there instead (`--ca-file`).
   */
  option?: string;
  cause?: unknown;
  /** The raw response; kept out of sight (non-enumerable). */
  response?: Response;
}

/**
 * Base class of every error the library throws. `exitCode` 1.
 *
 * @example
 * ```ts
 * try {
 *   await newPartnerAccessToken(params);
 * } catch (err) {
 *   if (err instanceof PartnerTokenError) {
 *     console.error(`${err.message}${err.hint ? `\n${err.hint}` : ""}`);
 *     process.exitCode = err.exitCode;
 *   } else throw err;
 * }
 * ```
 */
export class PartnerTokenError extends Error {
  /** Stable, machine-readable code, e.g. `ERR_CERTIFICATE_NOT_FOUND`. */
  readonly code: string;
  /** The next step for the user, when there is one. */
  readonly hint: string | undefined;
  /** The library option named in {@link hint}, e.g. `caFile`; see {@link PartnerTokenErrorOptions.option}. */
  readonly option: string | undefined;
  readonly status: number | undefined;
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  readonly errorCodes: number[] | undefined;
  readonly aadsts: number | undefined;
  readonly traceId: string | undefined;
  readonly correlationId: string | undefined;
  readonly timestamp: string | undefined;
  declare readonly response: Response | undefined;

  constructor(code: string, message: string, options: PartnerTokenErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint ?? hintFor(options.error, options.aadsts);
    this.option = options.option;
    this.status = options.status;
    this.error = options.error;
    this.errorDescription =
      options.errorDescription === undefined ? undefined : redact(options.errorDescription);
    this.errorCodes = options.errorCodes;
    this.aadsts = options.aadsts;
    this.traceId = options.traceId;
    this.correlationId = options.correlationId;
    this.timestamp = options.timestamp;
    Object.defineProperty(this, "response", {
      value: options.response,
      enumerable: false,
      writable: false,
    });
  }

  /** Process exit code for this kind of error (`src/cli/exit-codes.ts`). */
  get exitCode(): number {
    return 1;
  }
}

/**
 * The arguments are wrong: no parameter set fits, an unknown environment, an insecure authority,
 * a malformed value. `exitCode` 2.
 *
 * @example
 * ```ts
 * try {
 *   resolveParameterSet({ scopes: ["https://graph.microsoft.com/.default"] });
 * } catch (err) {
 *   if (err instanceof UsageError) console.error(err.message); // lists the parameter sets
 * }
 * ```
 */
export class UsageError extends PartnerTokenError {
  override get exitCode(): number {
    return 2;
  }
}

/**
 * The authorization server refused the request (wrong secret, unknown app or tenant, reply URL
 * not registered, consent missing…). Entra's fields are kept verbatim. `exitCode` 1.
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof ServerError && err.aadsts === 7000215) rotateSecret();
 * }
 * ```
 */
export class ServerError extends PartnerTokenError {}

/**
 * A person must sign in (again): the refresh token expired or was revoked, MFA is required, the
 * device code expired or was declined, the given access token has expired. `exitCode` 4.
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof SignInRequiredError) console.error(`Sign in again: ${err.hint}`);
 * }
 * ```
 */
export class SignInRequiredError extends PartnerTokenError {
  override get exitCode(): number {
    return 4;
  }
}

/**
 * The operation was cancelled through `options.signal` (Ctrl+C in the CLI). `exitCode` 130.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * process.once("SIGINT", () => controller.abort());
 * await newPartnerAccessToken(params, { signal: controller.signal }); // throws CancelledError
 * ```
 */
export class CancelledError extends PartnerTokenError {
  constructor(message = "The operation was cancelled.") {
    super("ERR_CANCELLED", message);
  }
  override get exitCode(): number {
    return 130;
  }
}

/**
 * A server did not answer in time: the operation's deadline (`timeoutMs`, every attempt and
 * retry together) passed, or the server sent nothing for `idleTimeoutMs` on the last attempt.
 * Code `ERR_TIMEOUT`, `exitCode` 1 (as a network error).
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof TimeoutError) console.error(`${err.url} did not answer within ${err.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends PartnerTokenError {
  /** The URL (without its query) that did not answer in time. */
  readonly url: string;
  /** The deadline or idle time that passed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, fields: { url: string; timeoutMs: number; option: string }) {
    super("ERR_TIMEOUT", message, {
      hint: `The server is slow or not answering. Check the network and the server, or allow more time (${fields.option}).`,
      option: fields.option,
    });
    this.url = fields.url;
    this.timeoutMs = fields.timeoutMs;
  }
}

/**
 * A server's answer was larger than the limit (`maxResponseBytes`, a few MB: far above any real
 * token, discovery, key set or Partner Center answer). Reading stopped at the limit, so memory
 * stays bounded. Code `ERR_RESPONSE_TOO_LARGE`, `exitCode` 1.
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof ResponseTooLargeError) console.error(`${err.url} sent more than ${err.limitBytes} bytes`);
 * }
 * ```
 */
export class ResponseTooLargeError extends PartnerTokenError {
  /** The URL (without its query) whose answer was too large. */
  readonly url: string;
  /** The limit, in bytes. */
  readonly limitBytes: number;
  constructor(fields: { method: string; url: string; limitBytes: number }) {
    super(
      "ERR_RESPONSE_TOO_LARGE",
      `The answer to ${fields.method} ${fields.url} is larger than the limit of ${fields.limitBytes} bytes; reading stopped there.`,
      {
        hint: "The server (or a proxy in between) sent far more than any real answer; check that the endpoint is the right one. The limit is maxResponseBytes.",
        option: "maxResponseBytes",
      },
    );
    this.url = fields.url;
    this.limitBytes = fields.limitBytes;
  }
}

/** Errors that mean "a person has to sign in again" rather than "something is misconfigured". */
const signInErrors = new Set([
  "invalid_grant",
  "interaction_required",
  "login_required",
  "consent_required",
  "expired_token",
  "authorization_declined",
  "bad_verification_code",
]);
const signInAadsts = new Set([50076, 50079, 50078, 700082, 50173, 700084, 54005, 70008, 65001]);

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Builds the error for an OAuth error response body (`{error, error_description, error_codes,
 * trace_id, correlation_id, timestamp}`).
 */
export function serverErrorFromBody(
  body: Record<string, unknown>,
  status: number | undefined,
  response?: Response,
): ServerError | SignInRequiredError {
  const error = stringField(body, "error");
  const errorDescription = stringField(body, "error_description");
  const errorCodes = Array.isArray(body.error_codes)
    ? body.error_codes.filter((code): code is number => typeof code === "number")
    : undefined;
  const fromDescription = /AADSTS(\d+)/.exec(errorDescription ?? "")?.[1];
  const aadsts =
    errorCodes?.[0] ?? (fromDescription === undefined ? undefined : Number(fromDescription));
  const firstLine = (errorDescription ?? "")
    .split(/\r?\n/)[0]
    ?.replace(/\s*Trace ID:.*$/, "")
    .trim();
  const message = firstLine
    ? `${error ?? "error"}: ${firstLine}`
    : `The server answered ${error ?? `HTTP ${status}`}.`;
  const fields: PartnerTokenErrorOptions = {
    status,
    error,
    errorDescription,
    errorCodes,
    aadsts,
    traceId: stringField(body, "trace_id"),
    correlationId: stringField(body, "correlation_id"),
    timestamp: stringField(body, "timestamp"),
    response,
  };
  // A throttled answer says how long the server asked to wait, not "try again in a moment".
  const throttled = retryAfterHint(response);
  if (throttled !== undefined) fields.hint = throttled;
  const code =
    aadsts === undefined ? `ERR_OAUTH_${(error ?? "error").toUpperCase()}` : `ERR_AADSTS${aadsts}`;
  const needsSignIn =
    (aadsts !== undefined && signInAadsts.has(aadsts)) ||
    (error !== undefined &&
      signInErrors.has(error) &&
      (aadsts === undefined || !configurationAadsts.has(aadsts)));
  return needsSignIn
    ? new SignInRequiredError(code, message, fields)
    : new ServerError(code, message, fields);
}

/** invalid_grant errors that a new sign-in would not fix. */
const configurationAadsts = new Set([
  50011, 7000218, 7000215, 7000222, 700016, 90002, 700024, 700027, 70011, 500011,
]);
