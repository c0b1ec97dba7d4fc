/**
 * The app's secrets and certificates with their expiry, through Graph: what `app credentials`
 * prints, and whether one in use expires soon.
 */
import { PartnerTokenError } from "../client/errors.ts";
import type { CertificateSource } from "../client/types.ts";
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

/** What {@link sessionCredentialExpiry} needs of a session: its app, and the credential it renews with. */
export interface CredentialHolder {
  info: { applicationId: string };
  appCredential(): Promise<{ clientSecret?: string; certificate?: CertificateSource }>;
}

/** The session's own credential as Graph lists it on the app. */
export interface SessionCredentialExpiry {
  applicationId: string;
  kind: "secret" | "certificate";
  /** The secret's hint (first three characters) or the certificate's SHA-1 thumbprint. */
  hint: string;
  /** False when none of the app's credentials is the session's (removed, or another app's). */
  found: boolean;
  endDateTime: string | null;
  daysLeft: number | null;
  expiring: boolean;
}

/**
 * The expiry of the credential a session renews with (its client secret or certificate), read
 * through Graph: what `status` warns about. Null when the session signs in with neither (a
 * public client, an access token). Graph's errors are thrown: the caller decides how quiet to be.
 *
 * @example
 * ```ts
 * const c = await sessionCredentialExpiry(graph, session, { warnDays: 30 });
 * if (c?.expiring) console.error(`the app's ${c.kind} expires in ${c.daysLeft} days`);
 * ```
 */
export async function sessionCredentialExpiry(
  graph: AppGraph,
  session: CredentialHolder,
  options: { warnDays?: number; now?: number } = {},
): Promise<SessionCredentialExpiry | null> {
  const held = await session.appCredential();
  let secret: string | undefined;
  let thumbprint: string | undefined;
  if (held.clientSecret) secret = held.clientSecret;
  else if (held.certificate) {
    const { loadCertificate } = await import("../client/certificates.ts");
    thumbprint = (await loadCertificate(held.certificate)).thumbprint;
  } else return null;
  const all = await appCredentials(graph, session.info.applicationId, {
    ...(options.warnDays !== undefined ? { warnDays: options.warnDays } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(secret !== undefined ? { secret } : {}),
    ...(thumbprint !== undefined ? { thumbprint } : {}),
  });
  const kind = secret !== undefined ? "secret" : "certificate";
  // Two secrets may share a hint: the one that ends first is the one to warn about.
  const mine = all.credentials
    .filter((c) => c.inUse && c.kind === kind)
    .sort((a, b) => Date.parse(a.endDateTime ?? "9999") - Date.parse(b.endDateTime ?? "9999"))[0];
  return {
    applicationId: all.applicationId,
    kind,
    hint: secret !== undefined ? secret.slice(0, 3) : thumbprint!,
    found: mine !== undefined,
    endDateTime: mine?.endDateTime ?? null,
    daysLeft: mine?.daysLeft ?? null,
    expiring: mine?.expiring ?? false,
  };
}
