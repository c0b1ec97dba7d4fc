/**
 * What a partner must do when a customer tenant refuses a token: the same AADSTS number means
 * something more specific in a customer's tenant than in one's own (AADSTS50020 there is lost
 * delegated admin access, not a guest to invite).
 */

const customerHints: Record<number, string> = {
  50020:
    "The partner's users have no delegated admin access to this customer: the GDAP relationship is missing, expired or terminated, or the signed-in user is not in a security group it grants a role to. Re-establish GDAP access in Partner Center (Customers → the customer → Admin relationships) with a role that covers these scopes, and add the user to its security group.",
  65001:
    "The app is not consented in this customer's tenant. Consent it there: an administrator of the customer grants admin consent (https://login.microsoftonline.com/<customer tenant id>/adminconsent?client_id=<app id>), or the partner does it under GDAP through Partner Center's application consent API (POST /v1/customers/<customer tenant id>/applicationconsents).",
  700016:
    "The app does not exist in this customer's tenant (no service principal there). Consent it in the customer's tenant (admin consent, or Partner Center's application consent API), which creates it.",
  90002:
    "The customer's tenant was not found: it may have been deleted, or it lives in another cloud. Check the tenant id (partner-token customers list) and --environment.",
  50076:
    "The customer's Conditional Access requires multi-factor authentication for this access. Sign in again interactively with MFA (partner-token connect), then run again with --resume.",
  50079:
    "The signed-in user must register for multi-factor authentication. Sign in interactively, complete the registration, then run again with --resume.",
  53003:
    "A Conditional Access policy in the customer's tenant blocked the access. The customer's administrator must allow the partner's (service provider) access in that policy.",
  700082:
    "The session's refresh token expired after 90 days of inactivity; every tenant fails the same way. Sign in again (partner-token connect), then run again with --resume.",
  50173:
    "The session's refresh token was revoked (password change, admin action). Sign in again (partner-token connect), then run again with --resume.",
  500011:
    "The API of these scopes has no service principal in this customer's tenant (the service is not provisioned there, e.g. no licence for it). Leave this customer out for these scopes, or provision the service.",
  50196:
    "Entra ID kept throttling this tenant's requests after every retry. Run again later with --resume, or with a lower --concurrency.",
};

/**
 * The next step for a failed customer tenant: the customer-specific hint for its AADSTS number,
 * else the library's own hint.
 *
 * @example
 * ```ts
 * customerHint(50020, undefined); // "The partner's users have no delegated admin access …"
 * ```
 */
export function customerHint(aadsts: number | undefined, fallback: string | undefined): string {
  return (
    (aadsts !== undefined ? customerHints[aadsts] : undefined) ??
    fallback ??
    "See the message; run again with --resume once it is fixed."
  );
}

/**
 * Errors that no customer tenant can succeed past (the session itself is unusable): the job stops
 * at the first one rather than failing every remaining tenant the same way.
 */
export const SESSION_WIDE_AADSTS = new Set([
  700082, 50173, 9002313, 70000, 7000215, 7000222, 700025, 7000218,
]);
export const SESSION_WIDE_CODES = new Set([
  "ERR_NO_SESSION",
  "ERR_NO_REFRESH_TOKEN",
  "ERR_REFRESH_TOKEN_WRITE",
  "ERR_ACCESS_TOKEN_EXPIRED",
  "ERR_STORE_UNAVAILABLE",
  "ERR_CA_FILE",
]);
