/**
 * What the errors people meet (SPEC §6) mean, and what to do next. Keyed by the AADSTS number
 * when the server sent one, else by the OAuth `error`.
 */

/**
 * For a token whose times (`nbf`, `iat`, `exp`) this machine refuses, or a client assertion Entra
 * refuses (AADSTS700024): both mean the two clocks disagree by more than the allowance.
 */
export const CLOCK_HINT =
  "This machine's clock and the server's differ by more than five minutes. Check this machine's clock and its time synchronisation (timedatectl, w32tm /resync, sntp), then try again.";

const byAadsts: Record<number, string> = {
  50011:
    "The redirect URI is not registered on the app. Add the loopback redirect URIs as 'Mobile and desktop applications' platform redirect URIs: http://localhost:8400/ (and http://localhost:8401/ … if 8400 may be busy), exactly as shown, with the trailing slash.",
  7000218:
    "The app is confidential, so Entra ID wants a client secret or assertion for this flow. Use a public client app (Authentication → 'Allow public client flows' = Yes), or give the client secret or certificate.",
  7000215:
    "The client secret is wrong. Give the secret's value (not its id), and check that it has not expired (App registrations → Certificates & secrets).",
  7000222:
    "The client secret has expired. Create a new one (App registrations → Certificates & secrets).",
  700016:
    "The application id was not found in this tenant. Check the application id and the tenant; a multi-tenant app must be consented in the customer tenant first.",
  90002:
    "The tenant was not found. Check the tenant id or domain name, and the environment (national cloud).",
  50076:
    "Multi-factor authentication is required. Sign in interactively again (browser or device code) to get a new refresh token.",
  50079:
    "The user must register for multi-factor authentication. Sign in interactively again (browser or device code) and complete the registration.",
  50078: "The multi-factor authentication has expired. Sign in interactively again.",
  700082:
    "The refresh token expired after 90 days of inactivity. Sign in interactively again, and store the rotated refresh token every time one is returned.",
  50173:
    "The refresh token was revoked (password change or admin action). Sign in interactively again.",
  700084: "The refresh token of a single-page app expired. Sign in interactively again.",
  65001:
    "Consent is missing: the user or an administrator has not consented to the app for these scopes. Grant admin consent on the app's API permissions, or sign in interactively to consent.",
  700024: `The client assertion is outside its valid time range. ${CLOCK_HINT}`,
  54005:
    "The authorization code was already redeemed. Start the sign-in again; a code can be used only once.",
  70008: "The authorization code or refresh token has expired. Sign in again.",
  70011:
    "A scope is invalid. Use scopes like https://graph.microsoft.com/.default or https://api.partnercenter.microsoft.com/user_impersonation.",
  500011:
    "The resource (the scope's API) was not found in this tenant. Check the scope, and that the API's service principal exists in the tenant.",
  50126: "The user name or password is wrong.",
  700027:
    "The client assertion's signature does not verify. Check that the certificate is the one uploaded to the app registration.",
  50020:
    "The user's account does not exist in this tenant. Use the user's home tenant, or invite the user as a guest.",
  53003:
    "A Conditional Access policy blocked the sign-in. Ask your administrator which policy applies.",
};

const byError: Record<string, string> = {
  invalid_grant:
    "The grant (refresh token or code) is no longer valid. Sign in interactively again to get a new refresh token.",
  interaction_required:
    "The user must sign in interactively (browser or device code) — e.g. for MFA or consent.",
  login_required: "The user must sign in interactively (browser or device code).",
  consent_required:
    "Consent is needed. Sign in interactively to consent, or have an administrator grant consent.",
  authorization_pending: "The device code has not been approved yet.",
  slow_down: "The device code was polled too fast; polling slows down by 5 seconds.",
  expired_token:
    "The device code expired before anyone approved it. Run the command again and enter the code sooner.",
  authorization_declined:
    "The sign-in was declined on the device login page. Run the command again to retry.",
  bad_verification_code:
    "The device code was not recognized. Run the command again to get a new code.",
  invalid_client:
    "The client (application) could not be authenticated. Check the application id and its secret or certificate.",
  unauthorized_client:
    "The app is not allowed to use this flow, or it does not exist in this tenant.",
  invalid_scope: "A requested scope is invalid for this app or resource.",
  temporarily_unavailable: "The sign-in service is temporarily unavailable. Try again in a moment.",
};

/** The next step for a server error, or `undefined` when there is nothing useful to add. */
export function hintFor(error: string | undefined, aadsts: number | undefined): string | undefined {
  if (aadsts !== undefined && byAadsts[aadsts]) return byAadsts[aadsts];
  if (error !== undefined) return byError[error];
  return undefined;
}
