/**
 * Every `code` the package's errors carry (`PartnerTokenError.code` and its subclasses, the
 * stores' errors, a bulk job's failed tenant): one vocabulary for the library and the command
 * line. docs/cli.md ("Error codes") gives each one's meaning and exit code;
 * test/error-codes.test.ts checks that every code the sources use is listed here and there.
 */
export const ERROR_CODES = [
  "ERR_USAGE",
  "ERR_INVALID_ARGUMENT",
  "ERR_PARAMETER_SET",
  "ERR_UNKNOWN_ENVIRONMENT",
  "ERR_INSECURE_AUTHORITY",
  "ERR_INSECURE_ENDPOINT",
  "ERR_INVALID_PROFILE",
  "ERR_SEED",
  "ERR_CERTIFICATE_NOT_FOUND",
  "ERR_CERTIFICATE_INVALID",
  "ERR_CA_FILE",
  "ERR_NETWORK",
  "ERR_TIMEOUT",
  "ERR_RESPONSE_TOO_LARGE",
  "ERR_HTTP_STATUS",
  "ERR_HTTP_CHALLENGE",
  "ERR_INVALID_RESPONSE",
  "ERR_DISCOVERY",
  "ERR_ID_TOKEN_INVALID",
  "ERR_INVALID_TOKEN",
  "ERR_STATE_MISMATCH",
  "ERR_LOOPBACK_PORTS_BUSY",
  "ERR_DEVICE_CODE_EXPIRED",
  "ERR_AUTHORIZATION_DECLINED",
  "ERR_BAD_VERIFICATION_CODE",
  "ERR_ACCESS_TOKEN_EXPIRED",
  "ERR_SCOPE_NOT_GRANTED",
  "ERR_NO_SESSION",
  "ERR_NO_REFRESH_TOKEN",
  "ERR_REFRESH_TOKEN_WRITE",
  "ERR_CACHE_VERSION",
  "ERR_KEY_FILE",
  "ERR_KEYRING",
  "ERR_STORE_URI",
  "ERR_STORE_UNAVAILABLE",
  "ERR_STORE_FILE",
  "ERR_STORE_SYMLINK",
  "ERR_STORE_NOT_A_FILE",
  "ERR_STORE_EMPTY_VALUE",
  "ERR_STORE_MALFORMED_VALUE",
  "ERR_STORE_DECRYPT",
  "ERR_ENCRYPTION_KEY",
  "ERR_ENCRYPTION_KEY_REQUIRED",
  "ERR_KEYVAULT",
  "ERR_KEYVAULT_CREDENTIAL",
  "ERR_KEYVAULT_FORBIDDEN",
  "ERR_KEYVAULT_UNAVAILABLE",
  "ERR_REDIS_URI",
  "ERR_REDIS_AUTH",
  "ERR_REDIS_UNAVAILABLE",
  "ERR_REDIS_LOCK_TIMEOUT",
  "ERR_UNEXPECTED",
  "ERR_CANCELLED",
] as const;

/**
 * An error's `code`: one of {@link ERROR_CODES}, or a server's own answer kept in the code —
 * `ERR_AADSTS50020` (Entra's AADSTS number), `ERR_OAUTH_INVALID_GRANT` (an OAuth `error` without
 * one), `ERR_PARTNER_CENTER_403` (Partner Center's HTTP status).
 */
export type ErrorCode =
  | (typeof ERROR_CODES)[number]
  | `ERR_AADSTS${number}`
  | `ERR_OAUTH_${Uppercase<string>}`
  | `ERR_PARTNER_CENTER_${number}`;

/** The code's name is one of {@link ErrorCode}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return (
    typeof code === "string" &&
    ((ERROR_CODES as readonly string[]).includes(code) ||
      /^ERR_(AADSTS\d+|OAUTH_[A-Z0-9_]+|PARTNER_CENTER_\d+)$/.test(code))
  );
}
