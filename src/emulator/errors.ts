/**
 * Entra ID's error responses: one class, one factory per AADSTS condition the emulator produces.
 * The shape is Entra's: `error`, `error_description` ("AADSTSnnnnn: … Trace ID: … Correlation ID:
 * … Timestamp: …"), `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
 */
import { randomUUID } from "node:crypto";

export class EntraError extends Error {
  readonly status: number;
  readonly error: string;
  readonly aadsts: number;
  readonly suberror: string | undefined;

  constructor(status: number, error: string, aadsts: number, message: string, suberror?: string) {
    super(message);
    this.status = status;
    this.error = error;
    this.aadsts = aadsts;
    this.suberror = suberror;
  }

  /** The JSON body Entra sends, stamped with the request's trace and correlation ids. */
  body(correlationId: string, now: Date): Record<string, unknown> {
    const traceId = randomUUID();
    const timestamp = now
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z");
    const body: Record<string, unknown> = {
      error: this.error,
      error_description:
        `AADSTS${this.aadsts}: ${this.message} ` +
        `Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    };
    if (this.suberror) body["suberror"] = this.suberror;
    if (this.aadsts === 50011 || this.aadsts === 50076)
      body["error_uri"] = `https://login.microsoftonline.com/error?code=${this.aadsts}`;
    return body;
  }
}

const e = (status: number, error: string, code: number, message: string, suberror?: string) =>
  new EntraError(status, error, code, message, suberror);

export const errors = {
  invalidRequest: (message: string, code = 900144) => e(400, "invalid_request", code, message),
  missingParameter: (name: string) =>
    e(
      400,
      "invalid_request",
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    ),
  tenantNotFound: (tenant: string) =>
    e(
      400,
      "invalid_request",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  invalidInstance: () =>
    e(
      400,
      "invalid_instance",
      50049,
      "Unknown or invalid instance. The authority in authorization_endpoint is not a host that Entra ID serves.",
    ),
  tenantRequired: (tenant: string) =>
    e(
      400,
      "invalid_request",
      900023,
      `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain. Use a tenant-specific endpoint for this grant.`,
    ),
  appNotFound: (clientId: string, tenant: string) =>
    e(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  replyUrlMismatch: (redirectUri: string, clientId: string) =>
    e(
      400,
      "invalid_request",
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    ),
  invalidClientSecret: (clientId: string) =>
    e(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  expiredClientSecret: (clientId: string) =>
    e(
      401,
      "invalid_client",
      7000222,
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
    ),
  clientCredentialRequired: () =>
    e(
      401,
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  publicClientWithSecret: () =>
    e(
      401,
      "invalid_client",
      700025,
      "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    ),
  assertionTime: (now: Date, nbf: Date | undefined, exp: Date | undefined) =>
    e(
      401,
      "invalid_client",
      700024,
      `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${nbf?.toISOString() ?? "(none)"}, expiry time of assertion ${exp?.toISOString() ?? "(none)"}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    ),
  assertionInvalid: (message: string, code = 700021) => e(401, "invalid_client", code, message),
  assertionKeyNotFound: (clientId: string, thumbprint: string) =>
    e(
      401,
      "invalid_client",
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    ),
  codeRedeemed: () =>
    e(
      400,
      "invalid_grant",
      54005,
      "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    ),
  invalidCode: () =>
    e(
      400,
      "invalid_grant",
      9002313,
      "Invalid request. Request is malformed or invalid. - The provided authorization code is invalid or has expired.",
    ),
  codeVerifierMismatch: () =>
    e(
      400,
      "invalid_grant",
      501481,
      "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    ),
  mfaRequired: (resource: string) =>
    e(
      400,
      "invalid_grant",
      50076,
      `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resource}'.`,
      "basic_action",
    ),
  refreshTokenInactive: (issued: Date, inactiveDays: number) =>
    e(
      400,
      "invalid_grant",
      700082,
      `The refresh token has expired due to inactivity. The token was issued on ${issued.toISOString()} and was inactive for ${inactiveDays}.00:00:00.`,
    ),
  refreshTokenRevoked: () =>
    e(
      400,
      "invalid_grant",
      50173,
      "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
    ),
  userDisabled: () =>
    e(
      400,
      "invalid_grant",
      50057,
      "The user account is disabled. The account has been disabled by an administrator.",
    ),
  refreshTokenMalformed: () =>
    e(
      400,
      "invalid_grant",
      9002313,
      "Invalid request. Request is malformed or invalid. - The refresh token is malformed or unknown.",
    ),
  refreshTokenOtherClient: () =>
    e(
      400,
      "invalid_grant",
      70000,
      "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
    ),
  consentRequired: (clientId: string, appName: string) =>
    e(
      400,
      "invalid_grant",
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named '${appName}'. Send an interactive authorization request for this user and resource.`,
      "consent_required",
    ),
  badCredentials: () =>
    e(
      400,
      "invalid_grant",
      50126,
      "Error validating credentials due to invalid username or password.",
    ),
  userNotInTenant: (username: string, tenant: string) =>
    e(
      400,
      "invalid_grant",
      50020,
      `User account '${username}' from identity provider does not exist in tenant '${tenant}' and cannot access the application in that tenant.`,
    ),
  invalidScope: (message: string, code = 70011) => e(400, "invalid_scope", code, message),
  resourceNotFound: (resource: string, tenant: string) =>
    e(
      400,
      "invalid_resource",
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
  unsupportedGrant: (grant: string) =>
    e(
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grant}'.`,
    ),
  authorizationPending: () =>
    e(
      400,
      "authorization_pending",
      70016,
      "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    ),
  slowDown: (interval: number) =>
    e(
      400,
      "slow_down",
      70016,
      `OAuth 2.0 device flow error. Polling too fast; wait at least ${interval} seconds between requests.`,
    ),
  deviceCodeExpired: () =>
    e(
      400,
      "expired_token",
      70020,
      "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
    ),
  deviceCodeDeclined: () =>
    e(
      400,
      "authorization_declined",
      70000,
      "The user has declined to authorize the request on the device.",
    ),
  badVerificationCode: () =>
    e(
      400,
      "bad_verification_code",
      70000,
      "The provided value for the input parameter 'device_code' is not valid.",
    ),
};
