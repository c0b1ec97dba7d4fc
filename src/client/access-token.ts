/**
 * The AccessToken parameter set: no network call. The given token is decoded (not verified) and
 * returned as an AuthResult, unless it has expired.
 */
import { randomUUID } from "node:crypto";
import { decodeAccessToken } from "./decode.ts";
import { resolveEnvironment } from "./environments.ts";
import { SignInRequiredError } from "./errors.ts";
import type { AuthResult, FlowRequest } from "./types.ts";

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * Wraps an existing access token in an AuthResult after checking that it has not expired.
 *
 * @example
 * ```ts
 * const result = authResultFromAccessToken(token, { clientId: appId, scopes: ["https://graph.microsoft.com/.default"] });
 * ```
 * @throws {SignInRequiredError} `ERR_ACCESS_TOKEN_EXPIRED` when `exp` has passed.
 */
export function authResultFromAccessToken(
  accessToken: string,
  request: Pick<FlowRequest, "environment" | "authorityHost" | "scopes">,
  now: Date = new Date(),
): AuthResult {
  const { claims, expiresOn, expired } = decodeAccessToken(accessToken, now);
  if (expired) {
    throw new SignInRequiredError(
      "ERR_ACCESS_TOKEN_EXPIRED",
      "The access token has expired. Generate a new one and try again.",
      {
        hint: "Get a new access token (e.g. with a refresh token) and pass that one.",
      },
    );
  }
  const environment = resolveEnvironment(request);
  const tenantId = text(claims.tid) ?? null;
  const oid = text(claims.oid);
  const isUser = claims.scp !== undefined || claims.upn !== undefined || claims.idtyp === "user";
  const granted =
    text(claims.scp)?.split(" ") ??
    (Array.isArray(claims.roles)
      ? claims.roles.filter((r): r is string => typeof r === "string")
      : request.scopes);
  const expiry = expiresOn ?? new Date(now.getTime() + 3600_000).toISOString();
  return {
    accessToken: accessToken.trim(),
    refreshToken: null,
    idToken: null,
    tokenType: "Bearer",
    expiresOn: expiry,
    extendedExpiresOn: expiry,
    tenantId,
    uniqueId: isUser ? (oid ?? null) : null,
    account:
      isUser && oid !== undefined
        ? {
            username:
              text(claims.preferred_username) ??
              text(claims.upn) ??
              text(claims.unique_name) ??
              null,
            environment: new URL(environment.authorityHost).host,
            homeAccountId: {
              identifier: `${oid}.${tenantId ?? ""}`,
              objectId: oid,
              tenantId: tenantId ?? "",
            },
          }
        : null,
    scopes: granted,
    correlationId: randomUUID(),
    isExtendedLifeTimeToken: false,
  };
}
