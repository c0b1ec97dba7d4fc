/**
 * `POST {PartnerCenter}/generatetoken` (`grant_type=jwt_token`): trades the Entra token for
 * Partner Center for a Partner Center token, which a few older Partner Center resources want.
 */
import { PartnerCenterError, type PartnerCenterClient } from "./client.ts";

/** The Partner Center token, camelCase like the AuthResult. */
export interface PartnerCenterToken {
  accessToken: string;
  tokenType: string;
  /** ISO 8601, UTC. */
  expiresOn: string;
  /** The resource the token is for, when Partner Center says. */
  resource: string | null;
  /** The `MS-CorrelationId` of the exchange. */
  correlationId: string;
}

/**
 * Exchanges the source's Entra token for a Partner Center token.
 *
 * @example
 * ```ts
 * const pc = new PartnerCenterClient({ source: session, endpoint });
 * const { accessToken, expiresOn } = await generatePartnerCenterToken(pc);
 * ```
 * @throws {PartnerCenterError} 400 (bad grant), 401 (the Entra token was refused), 403 (no
 *   Partner Center role), 404 (not a partner), 500 (after retries), with Partner Center's code.
 */
export async function generatePartnerCenterToken(
  client: PartnerCenterClient,
): Promise<PartnerCenterToken> {
  const started = Date.now();
  const { body, status, correlationId, requestId } = await client.request<Record<string, unknown>>({
    method: "POST",
    path: "/generatetoken",
    form: { grant_type: "jwt_token" },
  });
  const b = body ?? {};
  const accessToken = b["access_token"] ?? b["accessToken"];
  if (typeof accessToken !== "string" || accessToken === "")
    throw new PartnerCenterError("Partner Center's /generatetoken answer holds no access_token.", {
      status,
      correlationId,
      requestId,
    });
  return {
    accessToken,
    tokenType: typeof b["token_type"] === "string" ? b["token_type"] : "Bearer",
    expiresOn: expiresOnOf(b, started),
    resource: typeof b["resource"] === "string" ? b["resource"] : null,
    correlationId,
  };
}

/** `expires_on` (epoch seconds, as a number or a string) else `expires_in` from when we asked. */
function expiresOnOf(body: Record<string, unknown>, started: number): string {
  const on = Number(body["expires_on"]);
  if (Number.isFinite(on) && on > 0) return new Date(on * 1000).toISOString();
  if (typeof body["expires_on"] === "string" && !Number.isNaN(Date.parse(body["expires_on"])))
    return new Date(Date.parse(body["expires_on"])).toISOString();
  const seconds = Number(body["expires_in"]);
  return new Date(started + (Number.isFinite(seconds) ? seconds : 0) * 1000).toISOString();
}
