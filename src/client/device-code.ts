/**
 * The device code flow (RFC 8628): show the server's message (URL + code), poll the token
 * endpoint at the given interval (5 s if none; kept within 1–60 s), slow down by 5 s on
 * `slow_down`, stop at the code's expiry (`expires_in`, at most an hour) without waiting past
 * it, and with a clear message on `expired_token`, `authorization_declined` and
 * `bad_verification_code`.
 */
import * as oauth from "oauth4webapi";
import { SignInRequiredError } from "./errors.ts";
import {
  completeGrant,
  openFlow,
  toLibraryError,
  userFlowParameters,
  withUserFlowScopes,
} from "./flow-context.ts";
import { sleep } from "./http.ts";
import type { AuthResult, ClientOptions, DeviceCodeRequest } from "./types.ts";

/** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval. */
const SLOW_DOWN_SECONDS = 5;
/** RFC 8628 §3.2: the interval when the server names none. */
const DEFAULT_INTERVAL_SECONDS = 5;
const MIN_INTERVAL_SECONDS = 1;
const MAX_INTERVAL_SECONDS = 60;
/** Entra's codes live 15 minutes; a server's "days" would keep the command polling for days. */
const MAX_EXPIRES_IN_SECONDS = 3600;

/**
 * Signs a user in with a device code: `options.log` receives the message to show (go to URL,
 * enter code); the promise resolves once the user has approved.
 *
 * @example
 * ```ts
 * const result = await acquireTokenByDeviceCode(
 *   { clientId: appId, scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"] },
 *   { log: (line) => process.stderr.write(line + "\n") },
 * );
 * ```
 */
export async function acquireTokenByDeviceCode(
  request: DeviceCodeRequest,
  options: ClientOptions = {},
): Promise<AuthResult> {
  const context = await openFlow(request, options);
  const { authority, client, clientAuth, http } = context;
  const scope = withUserFlowScopes(request.scopes).join(" ");

  let device: oauth.DeviceAuthorizationResponse & { message?: unknown };
  try {
    const response = await oauth.deviceAuthorizationRequest(
      authority.as,
      client,
      clientAuth,
      { scope },
      authority.requestOptions,
    );
    device = await oauth.processDeviceAuthorizationResponse(authority.as, client, response);
  } catch (err) {
    throw await toLibraryError(err, context);
  }
  const message =
    typeof device.message === "string" && device.message !== ""
      ? device.message
      : `To sign in, use a web browser to open the page ${device.verification_uri} and enter the code ${device.user_code} to authenticate.`;
  options.log?.(message);

  // RFC 8628 §3.2/§3.5: 5 s when the server names no interval. A server's interval is kept
  // within [1 s, 60 s] (a tiny one would flood it, a huge one would outlast the code), and no wait
  // goes past the code's expiry, itself held to an hour at most.
  let interval = Math.min(
    MAX_INTERVAL_SECONDS,
    Math.max(MIN_INTERVAL_SECONDS, device.interval ?? DEFAULT_INTERVAL_SECONDS),
  );
  const deadline = Date.now() + Math.min(device.expires_in, MAX_EXPIRES_IN_SECONDS) * 1000;
  const deviceCode = device.device_code;
  const expired = () =>
    new SignInRequiredError(
      "ERR_DEVICE_CODE_EXPIRED",
      "The device code expired before the sign-in was completed.",
      {
        error: "expired_token",
        hint: "Run the command again and enter the code sooner.",
      },
    );
  return completeGrant(context, async () => {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw expired();
      await sleep(Math.min(interval * 1000, left), http.signal);
      // Each poll is one server exchange with a whole deadline; the wait for the person is not one.
      http.restartDeadline();
      try {
        const response = await oauth.deviceCodeGrantRequest(
          authority.as,
          client,
          clientAuth,
          deviceCode,
          {
            ...authority.requestOptions,
            additionalParameters: userFlowParameters(context),
          },
        );
        return await oauth.processDeviceCodeResponse(authority.as, client, response);
      } catch (err) {
        if (err instanceof oauth.ResponseBodyError) {
          if (err.error === "authorization_pending" || err.error === "slow_down") {
            if (err.error === "slow_down") interval += SLOW_DOWN_SECONDS;
            if (Date.now() >= deadline) throw expired();
            continue;
          }
          throw await deviceCodeError(err, context);
        }
        throw err;
      }
    }
  });
}

const deviceMessages: Record<string, [code: string, message: string]> = {
  expired_token: [
    "ERR_DEVICE_CODE_EXPIRED",
    "The device code expired before the sign-in was completed.",
  ],
  authorization_declined: [
    "ERR_AUTHORIZATION_DECLINED",
    "The sign-in was declined on the device login page.",
  ],
  bad_verification_code: [
    "ERR_BAD_VERIFICATION_CODE",
    "The server did not recognize the device code.",
  ],
};

async function deviceCodeError(
  err: oauth.ResponseBodyError,
  context: Parameters<typeof toLibraryError>[1],
): Promise<Error> {
  const mapped = await toLibraryError(err, context);
  const known = deviceMessages[err.error];
  if (!known || !(mapped instanceof SignInRequiredError)) return mapped;
  return new SignInRequiredError(
    known[0],
    `${known[1]}${mapped.aadsts ? ` (AADSTS${mapped.aadsts})` : ""}`,
    {
      status: mapped.status,
      error: mapped.error,
      errorDescription: mapped.errorDescription,
      errorCodes: mapped.errorCodes,
      aadsts: mapped.aadsts,
      traceId: mapped.traceId,
      correlationId: mapped.correlationId,
      timestamp: mapped.timestamp,
      response: mapped.response,
      cause: err,
    },
  );
}
