/** `New-PartnerAccessToken`: cmdlet-style parameters, bound to a parameter set, run as its flow. */
import { resolveParameterSet } from "./parameter-sets.ts";
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
  // Each flow's module is loaded when that flow runs: a command pays only for the flow it uses.
  switch (resolved.flow) {
    case "accessToken": {
      const { authResultFromAccessToken } = await import("./access-token.ts");
      return authResultFromAccessToken(resolved.accessToken!, request);
    }
    case "authorizationCode": {
      const { acquireTokenByAuthorizationCode } = await import("./authorization-code.ts");
      return acquireTokenByAuthorizationCode(request, options);
    }
    case "refreshToken": {
      const { acquireTokenByRefreshToken } = await import("./refresh-token.ts");
      return acquireTokenByRefreshToken(
        { ...request, refreshToken: resolved.refreshToken! },
        options,
      );
    }
    case "deviceCode": {
      const { acquireTokenByDeviceCode } = await import("./device-code.ts");
      return acquireTokenByDeviceCode(request, options);
    }
    case "clientCredentials": {
      const { acquireTokenByClientCredentials } = await import("./client-credentials.ts");
      return acquireTokenByClientCredentials(request, options);
    }
  }
}
