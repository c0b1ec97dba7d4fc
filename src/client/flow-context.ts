/**
 * What every flow does around its grant: check the request where it enters, set up the HTTP
 * layer and the authority, authenticate the client, and turn the token response (or error) into
 * an AuthResult (or one of our errors).
 */
import * as oauth from "oauth4webapi";
import { resolveAuthority, type Authority } from "./authority.ts";
import { resolveEnvironment } from "./environments.ts";
import { clientAuthenticationFor } from "./client-authentication.ts";
import {
  CancelledError,
  PartnerTokenError,
  ServerError,
  UsageError,
  serverErrorFromBody,
} from "./errors.ts";
import { CLOCK_HINT } from "./error-hints.ts";
import { createHttp, type Http } from "./http.ts";
import { toAuthResult } from "./auth-result.ts";
import { retryAfterHint } from "./retry-after.ts";
import type { AuthResult, ClientOptions, FlowRequest } from "./types.ts";

export interface FlowContext {
  request: FlowRequest;
  options: ClientOptions;
  http: Http;
  authority: Authority;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  confidential: boolean;
}

/** The scopes that make a user flow return an id token and a refresh token. */
export const USER_FLOW_SCOPES = ["openid", "profile", "offline_access"];

/** `scopes` plus {@link USER_FLOW_SCOPES}, without duplicates, in order. */
export function withUserFlowScopes(scopes: readonly string[]): string[] {
  return [...new Set([...scopes, ...USER_FLOW_SCOPES])];
}

function checkRequest(request: FlowRequest): void {
  if (typeof request !== "object" || request === null)
    throw new UsageError("ERR_INVALID_ARGUMENT", "request must be an object.");
  if (typeof request.clientId !== "string" || request.clientId.trim() === "") {
    throw new UsageError("ERR_INVALID_ARGUMENT", "clientId (the application id) is required.");
  }
  if (
    !Array.isArray(request.scopes) ||
    request.scopes.length === 0 ||
    request.scopes.some((s) => typeof s !== "string" || s.trim() === "")
  ) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "scopes must be a non-empty list of scopes, e.g. ['https://graph.microsoft.com/.default'].",
    );
  }
}

/** Sets up a flow: validated request, HTTP layer, authority, client authentication. */
export async function openFlow(
  request: FlowRequest,
  options: ClientOptions = {},
  secrets: (string | undefined)[] = [],
): Promise<FlowContext> {
  checkRequest(request);
  if (options.signal?.aborted) throw new CancelledError();
  const environment = resolveEnvironment(request);
  const http = createHttp({
    caFile: environment.caFile,
    ...(options.debug ? { debug: options.debug } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onThrottled ? { onThrottled: options.onThrottled } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    ...(options.maxResponseBytes !== undefined
      ? { maxResponseBytes: options.maxResponseBytes }
      : {}),
    secrets: [request.clientSecret, request.certificate?.password, ...secrets].filter(
      (s): s is string => s !== undefined,
    ),
  });
  const authority = await resolveAuthority(request, environment, http);
  const { auth, confidential } = await clientAuthenticationFor(request);
  return {
    request,
    options,
    http,
    authority,
    // Entra's allowance for clock differences, as MSAL's and our id-token check (oauth4webapi: 30 s).
    client: { client_id: request.clientId.trim(), [oauth.clockTolerance]: 300 },
    clientAuth: auth,
    confidential,
  };
}

/** Extra token-request parameters for Entra user flows: `client_info=1` returns the home account ids. */
export function userFlowParameters(context: FlowContext): Record<string, string> {
  return context.authority.entra ? { client_info: "1" } : {};
}

/**
 * Runs a grant (request + oauth4webapi processing), verifies the id token if any, and maps the
 * response to an AuthResult. Errors come out as our error classes.
 */
export async function completeGrant(
  context: FlowContext,
  grant: () => Promise<oauth.TokenEndpointResponse>,
  check: { nonce?: string; scopes?: string[] } = {},
): Promise<AuthResult> {
  const requestedAt = new Date();
  let tokens: oauth.TokenEndpointResponse;
  try {
    tokens = await grant();
  } catch (err) {
    throw await toLibraryError(err, context);
  }
  let idTokenClaims: Record<string, unknown> | undefined;
  if (tokens.id_token !== undefined) {
    // Loaded here, not up front: it brings jose, which app-only flows never need.
    const { verifyIdToken } = await import("./id-token.ts");
    idTokenClaims = await verifyIdToken(tokens.id_token, {
      authority: context.authority,
      clientId: context.client.client_id,
      http: context.http,
      ...(check.nonce === undefined ? {} : { nonce: check.nonce }),
    });
  }
  return toAuthResult(tokens, {
    ...(idTokenClaims ? { idTokenClaims } : {}),
    loginHost: context.authority.loginHost,
    tenant: context.authority.tenant,
    requestedScopes: check.scopes ?? context.request.scopes,
    correlationId: context.http.serverCorrelationId ?? context.http.correlationId,
    requestedAt,
  });
}

/** Maps oauth4webapi's errors (and anything else thrown in a flow) to the library's errors. */
export async function toLibraryError(
  err: unknown,
  context: Pick<FlowContext, "http">,
): Promise<Error> {
  if (err instanceof PartnerTokenError) return err;
  // Our own error (a timeout, an answer too large, a reset connection) wrapped by oauth4webapi or
  // jose, e.g. as "failed to parse body as JSON": the real cause is the one to report.
  for (let cause = (err as { cause?: unknown })?.cause, depth = 0; cause && depth < 4; depth++) {
    if (cause instanceof PartnerTokenError) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  if (err instanceof oauth.ResponseBodyError) {
    const body = { ...(err.cause as Record<string, unknown>) };
    body.correlation_id ??= context.http.serverCorrelationId ?? context.http.correlationId;
    return serverErrorFromBody(body, err.status, err.response);
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    const body: Record<string, unknown> = Object.fromEntries(err.cause.entries());
    body.correlation_id ??= context.http.correlationId;
    return serverErrorFromBody(body, undefined);
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    // Entra answers invalid_client with 401 + WWW-Authenticate and the error in the body.
    const body = await err.response
      .clone()
      .json()
      .catch(() => undefined);
    if (body && typeof body === "object" && typeof body.error === "string") {
      body.correlation_id ??= context.http.serverCorrelationId ?? context.http.correlationId;
      return serverErrorFromBody(body, err.status, err.response);
    }
    return new ServerError(
      "ERR_HTTP_CHALLENGE",
      `The server refused the request with HTTP ${err.status} (WWW-Authenticate challenge).`,
      {
        status: err.status,
        response: err.response,
        correlationId: context.http.correlationId,
      },
    );
  }
  if (err instanceof oauth.OperationProcessingError) {
    // An HTTP error status without an OAuth error body (none, or not JSON): say the status.
    if (
      err.cause instanceof Response &&
      (err.code === oauth.RESPONSE_IS_NOT_CONFORM ||
        (err.code === oauth.RESPONSE_IS_NOT_JSON && err.cause.status >= 400))
    ) {
      const status = err.cause.status;
      return new ServerError(
        "ERR_HTTP_STATUS",
        `The server answered HTTP ${status} ${err.cause.statusText} without an OAuth error.`,
        {
          status,
          response: err.cause,
          correlationId: context.http.serverCorrelationId ?? context.http.correlationId,
          hint:
            retryAfterHint(err.cause) ??
            (status >= 500 || status === 429
              ? "The service is unavailable or throttling; try again later."
              : undefined),
        },
      );
    }
    return new PartnerTokenError(
      "ERR_INVALID_RESPONSE",
      `The server's response is invalid: ${err.message}.`,
      {
        cause: err,
        correlationId: context.http.correlationId,
        // The id token's nbf/exp refused here: the clocks differ (the token itself is fine).
        ...(err.code === oauth.JWT_TIMESTAMP_CHECK ? { hint: CLOCK_HINT } : {}),
      },
    );
  }
  if (err instanceof Error && err.name === "AbortError") return new CancelledError();
  return err instanceof Error ? err : new PartnerTokenError("ERR_UNEXPECTED", String(err));
}
