/**
 * The app's secrets and certificates with their expiry, through Graph: what `app credentials`
 * prints, and whether one in use expires soon.
 */
import { PartnerTokenError } from "../client/errors.ts";
import { getApplication, type AppGraph } from "./graph-app.ts";

const DAY_MS = 86_400_000;

export interface CredentialInfo {
  kind: "secret" | "certificate";
  keyId: string;
  displayName: string | null;
  /** A secret's first three characters; a certificate's SHA-1 thumbprint. */
  hint: string | null;
  endDateTime: string | null;
  daysLeft: number | null;
  /** The one the given secret (or certificate thumbprint) is. */
  inUse: boolean;
  expiring: boolean;
}

export interface AppCredentials {
  applicationId: string;
  displayName: string;
  credentials: CredentialInfo[];
  /** A credential in use (or, when none is known to be, any) expires within the warning window. */
  expiring: boolean;
}

/**
 * Lists the app's credentials. `inUse` names the secret the jobs use (its text: only its first
 * three characters are compared with Graph's hint) or a certificate thumbprint.
 *
 * @example
 * ```ts
 * const c = await appCredentials(graph, appId, { warnDays: 30, secret });
 * if (c.expiring) rotate();
 * ```
 */
export async function appCredentials(
  graph: AppGraph,
  applicationId: string,
  options: { warnDays?: number; secret?: string; thumbprint?: string; now?: number } = {},
): Promise<AppCredentials> {
  const app = await getApplication(graph, applicationId);
  if (!app)
    throw new PartnerTokenError(
      "ERR_APP_NOT_FOUND",
      `No application with id ${applicationId} in the signed-in tenant.`,
    );
  const now = options.now ?? Date.now();
  const warnMs = (options.warnDays ?? 30) * DAY_MS;
  const daysLeft = (end: string | null) =>
    end === null ? null : Math.floor((Date.parse(end) - now) / DAY_MS);
  const soon = (end: string | null) => end !== null && Date.parse(end) - now < warnMs;
  const thumb = options.thumbprint?.replace(/[^0-9a-f]/gi, "").toUpperCase();
  const credentials: CredentialInfo[] = [
    ...(app.passwordCredentials ?? []).map((c) => ({
      kind: "secret" as const,
      keyId: c.keyId,
      displayName: c.displayName,
      hint: c.hint,
      endDateTime: c.endDateTime,
      daysLeft: daysLeft(c.endDateTime),
      inUse: options.secret !== undefined && c.hint === options.secret.slice(0, 3),
      expiring: soon(c.endDateTime),
    })),
    ...(app.keyCredentials ?? []).map((c) => ({
      kind: "certificate" as const,
      keyId: c.keyId,
      displayName: c.displayName,
      hint: c.customKeyIdentifier,
      endDateTime: c.endDateTime,
      daysLeft: daysLeft(c.endDateTime),
      inUse: thumb !== undefined && (c.customKeyIdentifier ?? "").toUpperCase() === thumb,
      expiring: soon(c.endDateTime),
    })),
  ];
  const used = credentials.filter((c) => c.inUse);
  const expiring = (used.length > 0 ? used : credentials).some((c) => c.expiring);
  return { applicationId: app.appId, displayName: app.displayName, credentials, expiring };
}
