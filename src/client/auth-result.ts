/**
 * Mapping a token response to the AuthResult of SPEC §4. The refresh token is taken straight
 * from the response body: when the server issued one, the result carries it.
 */
import type { TokenEndpointResponse } from "oauth4webapi";
import { tryDecodeClaims } from "./decode.ts";
import { PartnerTokenError } from "./errors.ts";
import type { AccountInfo, AuthResult } from "./types.ts";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Entra's `client_info`: base64url JSON `{uid, utid}` (the home account). */
function parseClientInfo(value: unknown): { uid?: string; utid?: string } {
  if (typeof value !== "string") return {};
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    return { uid: text(parsed.uid), utid: text(parsed.utid) };
  } catch {
    return {};
  }
}

/** A token lifetime longer than this (a year) is not a lifetime but a broken or hostile server. */
export const MAX_LIFETIME_SECONDS = 366 * 24 * 3600;

/**
 * A lifetime field of a token response (`expires_in`, `ext_expires_in`): seconds, as a number or
 * a string of digits (some servers send strings), from 0 to {@link MAX_LIFETIME_SECONDS};
 * undefined when absent.
 *
 * @throws {PartnerTokenError} `ERR_INVALID_RESPONSE` naming the field for anything else.
 */
function lifetimeSeconds(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds =
    typeof value === "number"
      ? value
      : typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_LIFETIME_SECONDS) return seconds;
  const shown = (JSON.stringify(value) ?? typeof value).slice(0, 40);
  throw new PartnerTokenError(
    "ERR_INVALID_RESPONSE",
    `The server's token response is invalid: ${field} is ${shown}, not a number of seconds from 0 to ${MAX_LIFETIME_SECONDS}.`,
    {
      hint: "The token endpoint answered a lifetime no token has; check that the authority is the right server.",
    },
  );
}

export interface AuthResultContext {
  /** Verified id token claims, when an id token was returned. */
  idTokenClaims?: Record<string, unknown>;
  /** Host of the sign-in service (`account.environment`). */
  loginHost: string;
  /** The tenant asked for, used when no token says which tenant answered. */
  tenant: string;
  correlationId: string;
  /** The scopes asked for: granted as asked when the response has no `scope` (RFC 6749 §5.1). */
  requestedScopes: string[];
  /** When the request was sent (expiry is counted from then). */
  requestedAt: Date;
}

/**
 * Builds the {@link AuthResult} for a successful token response.
 *
 * @example
 * ```ts
 * const result = toAuthResult(tokens, { loginHost: "login.microsoftonline.com", tenant, correlationId, requestedAt });
 * ```
 */
export function toAuthResult(
  tokens: TokenEndpointResponse,
  context: AuthResultContext,
): AuthResult {
  const body = tokens as TokenEndpointResponse & Record<string, unknown>;
  const id = context.idTokenClaims;
  const access = tryDecodeClaims(tokens.access_token);
  const clientInfo = parseClientInfo(body.client_info);
  const at = context.requestedAt.getTime();
  const expiresIn = lifetimeSeconds(tokens.expires_in, "expires_in") ?? 3600;
  const extExpiresIn = lifetimeSeconds(body.ext_expires_in, "ext_expires_in");
  const expiresOn = new Date(at + expiresIn * 1000);
  const extendedExpiresOn =
    extExpiresIn !== undefined && extExpiresIn > 0 ? new Date(at + extExpiresIn * 1000) : expiresOn;

  const guidTenant = /^[0-9a-f-]{36}$/i.test(context.tenant) ? context.tenant : undefined;
  const tenantId = text(id?.tid) ?? clientInfo.utid ?? text(access?.tid) ?? guidTenant ?? null;
  // A user is present when there is an id token, or when the access token names one (scp, upn).
  const userClaims =
    id ??
    (access && (access.scp !== undefined || access.upn !== undefined || access.idtyp === "user")
      ? access
      : undefined);
  // Entra names the user by `oid`; any other OpenID Connect issuer by `sub`.
  const objectId = text(userClaims?.oid) ?? clientInfo.uid ?? (id ? text(id.sub) : undefined);
  let account: AccountInfo | null = null;
  if (userClaims !== undefined && objectId !== undefined) {
    const homeObjectId = clientInfo.uid ?? objectId;
    const homeTenantId = clientInfo.utid ?? text(userClaims.tid) ?? tenantId ?? "";
    account = {
      username:
        text(userClaims.preferred_username) ??
        text(userClaims.upn) ??
        text(userClaims.unique_name) ??
        text(userClaims.email) ??
        null,
      environment: context.loginHost,
      homeAccountId: {
        identifier: `${homeObjectId}.${homeTenantId}`,
        objectId: homeObjectId,
        tenantId: homeTenantId,
      },
    };
  }
  return {
    accessToken: tokens.access_token,
    refreshToken: text(tokens.refresh_token) ?? null,
    idToken: text(tokens.id_token) ?? null,
    tokenType: tokens.token_type === "bearer" ? "Bearer" : tokens.token_type,
    expiresOn: expiresOn.toISOString(),
    extendedExpiresOn: extendedExpiresOn.toISOString(),
    tenantId,
    uniqueId: account ? (text(userClaims?.oid) ?? objectId ?? null) : null,
    account,
    scopes:
      tokens.scope === undefined
        ? [...context.requestedScopes]
        : tokens.scope.split(" ").filter((scope) => scope !== ""),
    correlationId: context.correlationId,
    isExtendedLifeTimeToken: false,
  };
}
