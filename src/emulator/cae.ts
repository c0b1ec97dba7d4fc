/**
 * Continuous access evaluation, as Entra and Graph do it: a client that declares the `cp1`
 * capability (`claims={"access_token":{"xms_cc":{"values":["cp1"]}}}`) gets, for a CAE-capable
 * resource, a long-lived token (`xms_cc` in it, `refresh_in` in the answer); the resource then
 * refuses such a token as soon as the user's sessions are revoked, the user is disabled or their
 * password reset, with a claims challenge (401, `error="insufficient_claims"`, `claims=` the
 * base64 of `{"access_token":{"nbf":{"essential":true,"value":"<unix>"}}}`).
 */
import { errors } from "./errors.ts";
import type { Resource, User } from "./directory.ts";

/** Graph and Exchange Online: the resources Entra issues CAE tokens for. */
const CAE_RESOURCES = new Set([
  "00000003-0000-0000-c000-000000000000",
  "00000002-0000-0ff1-ce00-000000000000",
]);

/** A `claims` parameter longer than this is refused (Entra bounds its request size too). */
const MAX_CLAIMS = 8 * 1024;

export interface ClaimsRequest {
  /** The client declared `xms_cc` `cp1` (any case). */
  cp1: boolean;
}

/** Whether a resource takes CAE tokens: the seed's `continuousAccessEvaluation`, else Graph and Exchange. */
export function isCaeResource(resource: Resource): boolean {
  return resource.continuousAccessEvaluation ?? CAE_RESOURCES.has(resource.appId.toLowerCase());
}

/**
 * Reads the token request's `claims` parameter: a JSON object (the `id_token`, `userinfo` and
 * `access_token` members MSAL sends are accepted, anything else ignored as Entra does);
 * `invalid_request` when it is not JSON or not an object.
 */
export function parseClaimsRequest(text: string | undefined): ClaimsRequest {
  if (text === undefined || text === "") return { cp1: false };
  if (text.length > MAX_CLAIMS)
    throw errors.invalidRequest(`The 'claims' parameter is longer than ${MAX_CLAIMS} characters.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw errors.invalidRequest("The 'claims' parameter is not valid JSON.", 90014);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw errors.invalidRequest("The 'claims' parameter must be a JSON object.", 90014);
  const access = (json as Record<string, unknown>)["access_token"];
  const xmsCc =
    access !== null && typeof access === "object"
      ? (access as Record<string, unknown>)["xms_cc"]
      : undefined;
  const values =
    xmsCc !== null && typeof xmsCc === "object"
      ? (xmsCc as Record<string, unknown>)["values"]
      : undefined;
  const cp1 =
    Array.isArray(values) && values.some((v) => typeof v === "string" && v.toLowerCase() === "cp1");
  return { cp1 };
}

/** Marks the user's sessions revoked now: CAE tokens issued before this second are refused. */
export function revokeSessions(user: User, nowSeconds: number): void {
  user.sessionsValidFrom = Math.max(user.sessionsValidFrom ?? 0, nowSeconds);
}

/**
 * Whether a CAE token issued at `iat` is refused, and the `nbf` its challenge then demands:
 * revoked sessions refuse what was issued at or before the revocation; a disabled user, everything.
 */
export function caeRefusal(user: User, iat: number, nowSeconds: number): number | undefined {
  const validFrom = user.sessionsValidFrom;
  if (user.accountEnabled !== false && (validFrom === undefined || iat > validFrom))
    return undefined;
  return Math.max(validFrom ?? 0, nowSeconds);
}

/** The `claims=` value of a challenge: standard base64 of the nbf claims request. */
export function challengeClaims(notBefore: number): string {
  return Buffer.from(
    JSON.stringify({ access_token: { nbf: { essential: true, value: String(notBefore) } } }),
  ).toString("base64");
}
