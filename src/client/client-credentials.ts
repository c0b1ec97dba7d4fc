/** The client credentials grant: an app-only token, with a client secret or a certificate. */
import * as oauth from "oauth4webapi";
import { UsageError } from "./errors.ts";
import { completeGrant, openFlow } from "./flow-context.ts";
import type { AuthResult, ClientCredentialsRequest, ClientOptions } from "./types.ts";

/**
 * Gets an app-only access token (client credentials grant). The client must be confidential: give
 * `clientSecret` or `certificate`. Use a `.default` scope and a real tenant (not `organizations`).
 *
 * @example
 * ```ts
 * const result = await acquireTokenByClientCredentials({
 *   clientId: "00000000-0000-0000-0000-000000000000",
 *   clientSecret: process.env.AZURE_CLIENT_SECRET,
 *   tenant: "contoso.onmicrosoft.com",
 *   scopes: ["https://graph.microsoft.com/.default"],
 * });
 * console.log(result.accessToken);
 * ```
 */
export async function acquireTokenByClientCredentials(
  request: ClientCredentialsRequest,
  options: ClientOptions = {},
): Promise<AuthResult> {
  if (request.clientSecret === undefined && request.certificate === undefined) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "The client credentials flow needs a client secret or a certificate.",
    );
  }
  const context = await openFlow(request, options);
  const { authority, client, clientAuth } = context;
  return completeGrant(context, async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      authority.as,
      client,
      clientAuth,
      { scope: request.scopes.join(" ") },
      authority.requestOptions,
    );
    return oauth.processClientCredentialsResponse(authority.as, client, response);
  });
}
