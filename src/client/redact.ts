/**
 * The one place that knows which names carry secrets. Every debug line and every error message
 * passes through {@link redact}, so a token can only leak if it travels under a name this module
 * does not know and does not look like a JWT.
 */

/** Names (form fields, JSON properties, query parameters, headers) whose values are secret. */
export const secretNames: readonly string[] = [
  "client_secret",
  "refresh_token",
  "access_token",
  "id_token",
  "code",
  "code_verifier",
  "password",
  "authorization",
  "client_assertion",
  "device_code",
  "assertion",
  "client_info",
  "session_state",
  // Graph's addPassword answer: `"secretText": "…"` (matched in any case).
  "secrettext",
];

const secretNameSet = new Set(secretNames);
const REDACTED = "[REDACTED]";

/** Is `name` (any case) one of the {@link secretNames}? */
export function isSecretName(name: string): boolean {
  return secretNameSet.has(name.toLowerCase());
}

const namePattern = secretNames.map((name) => name.replace(/_/g, "[_-]")).join("|");

// `name=value` in forms and query strings; the value ends at `&`, whitespace or a quote.
const formPair = new RegExp(`(^|[?&\\s"'])(${namePattern})=([^&\\s"']*)`, "gi");
// `"name": "value"` in JSON.
const jsonPair = new RegExp(`("(?:${namePattern})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi");
// `Name: value` in header dumps.
const headerPair = new RegExp(`(^|\\n)(\\s*(?:${namePattern})\\s*:\\s*)([^\\n]*)`, "gi");
// Anything shaped like a JWS or JWE compact serialization, wherever it appears.
const jwtShape =
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;

/**
 * Replaces every secret value in `text` with `[REDACTED]`: values of the {@link secretNames} in
 * form bodies, query strings, JSON and header dumps, anything shaped like a JWT, and any of the
 * `extraSecrets` given (e.g. a client secret that the caller knows).
 *
 * @example
 * ```ts
 * redact("grant_type=refresh_token&refresh_token=0.AXoA…&scope=openid");
 * // "grant_type=refresh_token&refresh_token=[REDACTED]&scope=openid"
 * ```
 */
export function redact(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(jsonPair, (_match, prefix: string) => `${prefix}"${REDACTED}"`)
    .replace(formPair, (_match, lead: string, name: string) => `${lead}${name}=${REDACTED}`)
    .replace(headerPair, (_match, lead: string, name: string) => `${lead}${name}${REDACTED}`)
    .replace(jwtShape, REDACTED);
}

/** Redacts a set of headers for a debug dump, one `name: value` per line. */
export function redactHeaders(headers: Headers | Record<string, string>): string {
  const entries: [string, string][] = [];
  if (headers instanceof Headers) headers.forEach((value, name) => entries.push([name, value]));
  else entries.push(...Object.entries(headers));
  return entries
    .map(([name, value]) => `${name}: ${isSecretName(name) ? REDACTED : redact(value)}`)
    .join("\n");
}
