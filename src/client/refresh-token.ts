/** The refresh token grant: trade a refresh token for new tokens (public or confidential client). */
import * as oauth from "oauth4webapi";
import { UsageError } from "./errors.ts";
import { completeGrant, openFlow, userFlowParameters, withUserFlowScopes } from "./flow-context.ts";
import type { AuthResult, ClientOptions, RefreshTokenRequest } from "./types.ts";

/**
 * Redeems a refresh token for an access token for `scopes`, in `tenant` (a customer's tenant
 * works when the user's tenant is its partner). Refresh tokens rotate: store `result.refreshToken`
 * in place of the one sent, every time.
 *
 * @example
 * ```ts
 * const result = await acquireTokenByRefreshToken({
 *   clientId: appId,
 *   clientSecret, // for an "App + User" refresh token; omit for a public client
 *   refreshToken: await store.get("refresh-token"),
 *   tenant: customerTenantId,
 *   scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
 * });
 * await store.set("refresh-token", result.refreshToken);
 * ```
 */
export async function acquireTokenByRefreshToken(
  request: RefreshTokenRequest,
  options: ClientOptions = {},
): Promise<AuthResult> {
  if (typeof request.refreshToken !== "string" || request.refreshToken.trim() === "") {
    throw new UsageError("ERR_INVALID_ARGUMENT", "refreshToken is required.");
  }
  const refreshToken = request.refreshToken.trim();
  const context = await openFlow(request, options, [refreshToken]);
  const { authority, client, clientAuth } = context;
  return completeGrant(context, async () => {
    const response = await oauth.refreshTokenGrantRequest(
      authority.as,
      client,
      clientAuth,
      refreshToken,
      {
        ...authority.requestOptions,
        additionalParameters: {
          scope: withUserFlowScopes(request.scopes).join(" "),
          ...(request.claims ? { claims: request.claims } : {}),
          ...userFlowParameters(context),
        },
      },
    );
    return oauth.processRefreshTokenResponse(authority.as, client, response);
  });
}
