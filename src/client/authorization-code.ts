/**
 * Interactive sign-in: authorization code + PKCE (S256) + `state` + `nonce` through the loopback
 * redirect, redeemed as a public client, or with the app's secret or certificate ("App + User":
 * how partners get their refresh token).
 */
import * as oauth from "oauth4webapi";
import { openSystemBrowser } from "./browser.ts";
import { PartnerTokenError } from "./errors.ts";
import {
  completeGrant,
  openFlow,
  toLibraryError,
  userFlowParameters,
  withUserFlowScopes,
} from "./flow-context.ts";
import { LOOPBACK_FIRST_PORT, LOOPBACK_LAST_PORT, startLoopbackListener } from "./loopback.ts";
import type { AuthResult, AuthorizationCodeRequest, ClientOptions } from "./types.ts";

/**
 * Signs a user in through the browser and returns tokens, including a refresh token. The app
 * must have `http://localhost:8400/` (and following ports, if 8400 may be busy) registered as a
 * redirect URI.
 *
 * @example
 * ```ts
 * const result = await acquireTokenByAuthorizationCode(
 *   { clientId: appId, clientSecret, tenant: "contoso.onmicrosoft.com", scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"] },
 *   { log: (line) => process.stderr.write(line + "\n") },
 * );
 * await saveRefreshToken(result.refreshToken);
 * ```
 */
export async function acquireTokenByAuthorizationCode(
  request: AuthorizationCodeRequest,
  options: ClientOptions = {},
): Promise<AuthResult> {
  const context = await openFlow(request, options);
  const { authority, client, clientAuth } = context;
  const listener = await startLoopbackListener(
    request.ports?.first ?? LOOPBACK_FIRST_PORT,
    request.ports?.last ?? LOOPBACK_LAST_PORT,
  );
  try {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(authority.as.authorization_endpoint!);
    const params: Record<string, string> = {
      client_id: client.client_id,
      response_type: "code",
      redirect_uri: listener.redirectUri,
      scope: withUserFlowScopes(request.scopes).join(" "),
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
      // OpenID Connect grants offline_access (a refresh token) only with prompt=consent (Core §11);
      // Entra ID issues it anyway, and the cmdlet sends prompt=login there.
      prompt: request.prompt ?? (authority.entra ? "login" : "login consent"),
      ...(request.loginHint ? { login_hint: request.loginHint } : {}),
      ...userFlowParameters(context),
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);

    options.log?.(`Opening your browser to sign in. If it does not open, go to:\n${url.href}`);
    const opened = options.openBrowser
      ? options.openBrowser(url.href).then(() => true)
      : openSystemBrowser(url.href);
    const callbackPromise = listener.waitForCallback((received) => {
      if (received.get("state") !== state)
        return ["state_mismatch", "The state parameter does not match the sign-in request."];
      const error = received.get("error");
      if (error !== null) return [error, received.get("error_description") ?? ""];
      if (!received.get("code"))
        return ["invalid_response", "The redirect carried no authorization code."];
      return undefined;
    }, options.signal);
    if (!(await opened.catch(() => false)))
      options.log?.("No browser could be opened; open the address above yourself.");
    const callback = await callbackPromise;
    // The person's step is over: the token request and key set get a whole deadline of their own.
    context.http.restartDeadline();

    let validated: URLSearchParams;
    try {
      validated = oauth.validateAuthResponse(authority.as, client, callback, state);
    } catch (err) {
      if (err instanceof oauth.OperationProcessingError && callback.get("state") !== state) {
        throw new PartnerTokenError(
          "ERR_STATE_MISMATCH",
          "The sign-in redirect carried a state that does not match the request; it was refused.",
          {
            cause: err,
            hint: "Run the sign-in again, and complete it in the browser tab this command opened.",
          },
        );
      }
      throw await toLibraryError(err, context);
    }
    return await completeGrant(
      context,
      async () => {
        const response = await oauth.authorizationCodeGrantRequest(
          authority.as,
          client,
          clientAuth,
          validated,
          listener.redirectUri,
          codeVerifier,
          {
            ...authority.requestOptions,
            additionalParameters: userFlowParameters(context),
          },
        );
        return oauth.processAuthorizationCodeResponse(authority.as, client, response, {
          expectedNonce: nonce,
          requireIdToken: true,
        });
      },
      { nonce },
    );
  } finally {
    await listener.close();
  }
}
