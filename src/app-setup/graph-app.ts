/**
 * The partner's app registration through Microsoft Graph: the few calls `app create` and the
 * rotations make, typed, over the library's Graph client (`graph/client.ts`).
 */
import { PartnerTokenError } from "../client/errors.ts";
import { GraphError, type GraphClient } from "../graph/client.ts";

/** What of a Graph client the app setup uses (a test may give its own). */
export type AppGraph = Pick<GraphClient, "request" | "list">;

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  /** Only in addPassword's answer. */
  secretText?: string | null;
}

export interface KeyCredential {
  keyId: string;
  displayName: string | null;
  customKeyIdentifier: string | null;
  startDateTime: string | null;
  endDateTime: string | null;
  type: string;
  usage: string;
  key: string | null;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: "Scope" | "Role" }[];
}

export interface GraphApplication {
  id: string;
  appId: string;
  displayName: string;
  signInAudience: string;
  web?: { redirectUris?: string[] };
  publicClient?: { redirectUris?: string[] };
  requiredResourceAccess?: RequiredResourceAccess[];
  passwordCredentials?: PasswordCredential[];
  keyCredentials?: KeyCredential[];
}

export interface GraphServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  oauth2PermissionScopes?: { id: string; value: string }[];
  appRoles?: { id: string; value: string }[];
}

export interface GraphGrant {
  id: string;
  clientId: string;
  consentType: string;
  principalId: string | null;
  resourceId: string;
  scope: string;
}

const quote = (s: string) => s.replace(/'/g, "''");

/** The app registration of `appId` in the signed-in tenant, or null when Graph has none. */
export async function getApplication(
  graph: AppGraph,
  appId: string,
): Promise<GraphApplication | null> {
  try {
    return await graph.request<GraphApplication>({
      path: `/v1.0/applications(appId='${encodeURIComponent(quote(appId))}')`,
    });
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return null;
    throw error;
  }
}

/** The app registrations named `displayName` (Graph allows several). */
export async function findApplicationsByName(
  graph: AppGraph,
  displayName: string,
): Promise<GraphApplication[]> {
  const filter = encodeURIComponent(`displayName eq '${quote(displayName)}'`);
  const out: GraphApplication[] = [];
  for await (const a of graph.list<GraphApplication>(`/v1.0/applications?$filter=${filter}`))
    out.push(a);
  return out;
}

/** A service principal of the signed-in tenant by appId, or null. */
export async function getServicePrincipal(
  graph: AppGraph,
  appId: string,
): Promise<GraphServicePrincipal | null> {
  try {
    return await graph.request<GraphServicePrincipal>({
      path: `/v1.0/servicePrincipals(appId='${encodeURIComponent(quote(appId))}')`,
    });
  } catch (error) {
    if (error instanceof GraphError && error.status === 404) return null;
    throw error;
  }
}

/** addPassword: the new secret (its text is in this answer only). */
export async function addPassword(
  graph: AppGraph,
  objectId: string,
  credential: { displayName: string; endDateTime: string },
): Promise<PasswordCredential & { secretText: string }> {
  const added = await graph.request<PasswordCredential>({
    method: "POST",
    path: `/v1.0/applications/${encodeURIComponent(objectId)}/addPassword`,
    json: { passwordCredential: credential },
  });
  if (!added || typeof added.secretText !== "string" || typeof added.keyId !== "string")
    throw new GraphError("Graph's addPassword answer holds no secretText or keyId.", {
      status: 200,
    });
  return added as PasswordCredential & { secretText: string };
}

export async function removePassword(
  graph: AppGraph,
  objectId: string,
  keyId: string,
): Promise<void> {
  await graph.request({
    method: "POST",
    path: `/v1.0/applications/${encodeURIComponent(objectId)}/removePassword`,
    json: { keyId },
  });
}

/**
 * Retries `attempt` while Entra has not replicated what was just made (a new app, service
 * principal or secret is refused for a while): at most `tries` times, `delayMs` apart, telling
 * `log` once. Any other failure, or the last one, is thrown.
 */
export async function waitForReplication<T>(
  attempt: () => Promise<T>,
  isReplicationLag: (error: unknown) => boolean,
  options: { tries?: number; delayMs?: number; log?: (line: string) => void; what: string },
): Promise<T> {
  const tries = options.tries ?? 20;
  const delayMs = options.delayMs ?? 3000;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries || !isReplicationLag(error)) throw error;
      if (i === 1)
        options.log?.(
          `Waiting for Entra ID to replicate ${options.what} (up to ${Math.round((tries * delayMs) / 1000)} s)…`,
        );
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/**
 * An Entra refusal that a new secret, certificate (AADSTS700027: not registered on the app) or
 * app gives until it has replicated.
 */
export function isCredentialLag(error: unknown): boolean {
  return (
    error instanceof PartnerTokenError &&
    [7000215, 700027, 700016, 7000229].includes(error.aadsts ?? 0)
  );
}
