/**
 * Claims requests and continuous access evaluation (CAE) on the client side: which resources take
 * CAE tokens, the `cp1` client capability merged into a claims request, and a claims challenge
 * read from what a resource answered (`WWW-Authenticate: Bearer … claims="…"`, its base64 value,
 * or the JSON itself).
 */
import { UsageError } from "./errors.ts";

/** The client capability that declares a client handles claims challenges. */
export const CAE_CAPABILITY = "cp1";

/** A claims request or challenge longer than this is refused (Entra's are a few hundred bytes). */
const MAX_CLAIMS = 8 * 1024;

/** Resources Entra issues CAE tokens for: Microsoft Graph and Exchange Online. */
const CAE_RESOURCES = new Set([
  "https://graph.microsoft.com",
  "00000003-0000-0000-c000-000000000000",
  "https://outlook.office365.com",
  "https://outlook.office.com",
  "00000002-0000-0ff1-ce00-000000000000",
]);
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

/**
 * Whether a token for these scopes comes from a CAE-capable resource. A bare scope (`User.Read`)
 * is Graph's, as Entra reads it.
 */
export function isCaeResource(scopes: readonly string[]): boolean {
  const scope = scopes.find((s) => !OIDC_SCOPES.has(s.trim().toLowerCase()));
  if (scope === undefined) return false;
  const slash = scope.lastIndexOf("/");
  if (slash < 0) return true;
  return CAE_RESOURCES.has(scope.slice(0, slash).replace(/\/+$/, "").toLowerCase());
}

/**
 * A claims request as JSON text: `claims` (JSON, or undefined) with `cp1` added to
 * `access_token.xms_cc.values` when `cae`; undefined when there is nothing to send.
 */
export function mergeClaims(claims: string | undefined, cae: boolean): string | undefined {
  if (!cae) return claims;
  const parsed = claims === undefined ? {} : parseClaimsObject(claims, "claims");
  const access = objectAt(parsed, "access_token");
  const xmsCc = objectAt(access, "xms_cc");
  const values = Array.isArray(xmsCc["values"]) ? (xmsCc["values"] as unknown[]) : [];
  if (!values.some((v) => typeof v === "string" && v.toLowerCase() === CAE_CAPABILITY))
    values.push(CAE_CAPABILITY);
  xmsCc["values"] = values;
  return JSON.stringify(parsed);
}

/**
 * The claims request in a challenge, as JSON text. Accepts a whole `WWW-Authenticate` value
 * (`Bearer realm="", …, error="insufficient_claims", claims="eyJ…"`), the base64 `claims=` value
 * alone (standard or URL-safe alphabet), or the JSON.
 */
export function readClaimsChallenge(input: string): string {
  const text = input.trim();
  if (text.length > MAX_CLAIMS)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `The claims challenge is longer than ${MAX_CLAIMS} characters.`,
    );
  if (text.startsWith("{")) {
    parseClaimsObject(text, "The claims challenge");
    return text;
  }
  let value = text;
  if (/^bearer\s/i.test(text) || /\bclaims\s*=/i.test(text)) {
    const m = /(?:^|[\s,])claims\s*=\s*"([^"]*)"/i.exec(text);
    if (!m)
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        'The WWW-Authenticate challenge has no claims="…" parameter.',
        {
          hint: 'Pass the header as the resource sent it: Bearer …, error="insufficient_claims", claims="…".',
        },
      );
    value = m[1]!;
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value))
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "The claims challenge is neither JSON, base64 nor a WWW-Authenticate value.",
      {
        hint: 'Pass the WWW-Authenticate header, its claims="…" value, or the JSON it decodes to.',
      },
    );
  const json = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
  parseClaimsObject(json, "The claims challenge");
  return json;
}

function parseClaimsObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError("ERR_INVALID_ARGUMENT", `${what} is not valid JSON.`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new UsageError("ERR_INVALID_ARGUMENT", `${what} must be a JSON object.`);
  return parsed as Record<string, unknown>;
}

function objectAt(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = parent[key];
  if (value !== null && typeof value === "object" && !Array.isArray(value))
    return value as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  parent[key] = fresh;
  return fresh;
}
