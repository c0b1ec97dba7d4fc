/** `New-PartnerAccessToken`: cmdlet-style parameters, bound to a parameter set, run as its flow. */
import { authResultFromAccessToken } from "./access-token.ts";
import { acquireTokenByAuthorizationCode } from "./authorization-code.ts";
import { acquireTokenByClientCredentials } from "./client-credentials.ts";
import { acquireTokenByDeviceCode } from "./device-code.ts";
import { resolveParameterSet } from "./parameter-sets.ts";
import { acquireTokenByRefreshToken } from "./refresh-token.ts";
import type { AuthResult, ClientOptions, NewPartnerAccessTokenParams } from "./types.ts";

/**
 * Gets an access token (and the refresh token, whenever the server issues one) with the
 * parameters and parameter-set rules of PowerShell's `New-PartnerAccessToken`.
 *
 * @example
 * ```ts
 * // Once, interactively ("App + User"): get a refresh token for Partner Center.
 * const first = await newPartnerAccessToken(
 *   {
 *     applicationId: appId,
 *     credential: { userName: appId, password: process.env.AZURE_CLIENT_SECRET! },
 *     scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
 *     tenant: "contoso.onmicrosoft.com",
 *     servicePrincipal: true,
 *     useAuthorizationCode: true,
 *   },
 *   { log: (line) => process.stderr.write(line + "\n") },
 * );
 * // Then, unattended: a Graph token in a customer's tenant.
 * const graph = await newPartnerAccessToken({
 *   applicationId: appId,
 *   credential: { userName: appId, password: process.env.AZURE_CLIENT_SECRET! },
 *   refreshToken: first.refreshToken!,
 *   scopes: ["https://graph.microsoft.com/.default"],
 *   tenant: customerTenantId,
 * });
 * ```
 * @throws {UsageError} when no parameter set fits (the message lists the sets).
 * @throws {ServerError} / {SignInRequiredError} when Entra ID refuses (fields kept, `hint` set).
 */
export async function newPartnerAccessToken(
  params: NewPartnerAccessTokenParams,
  options: ClientOptions = {},
): Promise<AuthResult> {
  const resolved = resolveParameterSet(params);
  const { request } = resolved;
  switch (resolved.flow) {
    case "accessToken":
      return authResultFromAccessToken(resolved.accessToken!, request);
    case "authorizationCode":
      return acquireTokenByAuthorizationCode(request, options);
    case "refreshToken":
      return acquireTokenByRefreshToken(
        { ...request, refreshToken: resolved.refreshToken! },
        options,
      );
    case "deviceCode":
      return acquireTokenByDeviceCode(request, options);
    case "clientCredentials":
      return acquireTokenByClientCredentials(request, options);
  }
}
