/**
 * The partner's Secure Application Model app, made or brought in line through Graph in the
 * partner tenant: a multi-tenant registration with the loopback redirect URI, the delegated
 * permissions partner-token needs (names resolved to ids from each resource's service principal,
 * never from a table), its service principal and the resources' ones, and admin consent
 * (`AllPrincipals` grants). Idempotent: what is already right is left alone, and `changed` says
 * whether anything had to change.
 */
import { PartnerTokenError } from "../client/errors.ts";
import { GraphError } from "../graph/client.ts";
import {
  findApplicationsByName,
  getServicePrincipal,
  waitForReplication,
  type AppGraph,
  type GraphApplication,
  type GraphGrant,
  type GraphServicePrincipal,
  type RequiredResourceAccess,
} from "./graph-app.ts";

export const PARTNER_CENTER_APP_ID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** The loopback redirect URI of the sign-in flows: Entra ignores the port for localhost. */
export const LOOPBACK_REDIRECT_URI = "http://localhost";

/** Delegated permissions of one resource, by name. */
export interface PermissionRequest {
  /** The resource's appId. */
  resourceAppId: string;
  scopes: string[];
}

/**
 * What partner-token needs: Partner Center as the user; Graph to read GDAP relationships, the
 * directory, and to check and repair consent in customers (`customers check`/`consent`).
 */
export const DEFAULT_PERMISSIONS: PermissionRequest[] = [
  { resourceAppId: PARTNER_CENTER_APP_ID, scopes: ["user_impersonation"] },
  {
    resourceAppId: GRAPH_APP_ID,
    scopes: [
      "Directory.Read.All",
      "DelegatedAdminRelationship.Read.All",
      "Application.ReadWrite.All",
      "DelegatedPermissionGrant.ReadWrite.All",
    ],
  },
];

export interface EnsureAppOptions {
  graph: AppGraph;
  displayName: string;
  permissions?: PermissionRequest[];
  redirectUris?: string[];
  log?: (line: string) => void;
  replication?: { tries?: number; delayMs?: number };
}

export interface EnsuredApp {
  applicationId: string;
  objectId: string;
  servicePrincipalId: string;
  redirectUris: string[];
  /** `RESOURCE_APP_ID/scope` of each delegated permission, consented tenant-wide. */
  permissions: string[];
  /** What was made or changed (empty when nothing had to change). */
  changes: string[];
  application: GraphApplication;
}

export class AppSetupError extends PartnerTokenError {}

/** Makes (or brings in line) the app, its service principal and admin consent. */
export async function ensureApp(o: EnsureAppOptions): Promise<EnsuredApp> {
  const log = o.log ?? (() => {});
  const changes: string[] = [];
  const requests = o.permissions ?? DEFAULT_PERMISSIONS;
  const wantedUris = o.redirectUris ?? [LOOPBACK_REDIRECT_URI];

  // The resources' service principals: made where missing, their scope ids read from them.
  const resources = new Map<string, GraphServicePrincipal>();
  for (const p of requests) {
    let sp = await getServicePrincipal(o.graph, p.resourceAppId);
    if (!sp) {
      sp = await o.graph.request<GraphServicePrincipal>({
        method: "POST",
        path: "/v1.0/servicePrincipals",
        json: { appId: p.resourceAppId },
      });
      changes.push(`service principal of resource ${p.resourceAppId}`);
    }
    resources.set(p.resourceAppId.toLowerCase(), sp);
  }
  const access: RequiredResourceAccess[] = requests.map((p) => {
    const sp = resources.get(p.resourceAppId.toLowerCase())!;
    return {
      resourceAppId: p.resourceAppId,
      resourceAccess: p.scopes.map((name) => {
        const scope = (sp.oauth2PermissionScopes ?? []).find(
          (s) => s.value.toLowerCase() === name.toLowerCase(),
        );
        if (!scope)
          throw new AppSetupError(
            "ERR_UNKNOWN_PERMISSION",
            `${sp.displayName} (${p.resourceAppId}) has no delegated permission '${name}'.`,
            {
              hint: `Its delegated permissions: ${(sp.oauth2PermissionScopes ?? []).map((s) => s.value).join(", ")}.`,
            },
          );
        return { id: scope.id, type: "Scope" as const };
      }),
    };
  });

  // The registration: found by name, else made.
  const found = await findApplicationsByName(o.graph, o.displayName);
  if (found.length > 1)
    throw new AppSetupError(
      "ERR_APP_AMBIGUOUS",
      `${found.length} applications are named '${o.displayName}' (${found.map((a) => a.appId).join(", ")}).`,
      { hint: "Give a name no other app has, or delete the extra ones." },
    );
  let app = found[0];
  if (!app) {
    app = await o.graph.request<GraphApplication>({
      method: "POST",
      path: "/v1.0/applications",
      json: {
        displayName: o.displayName,
        signInAudience: "AzureADMultipleOrgs",
        web: { redirectUris: wantedUris },
        requiredResourceAccess: access,
      },
    });
    changes.push(`application ${app.appId}`);
    log(`Created the application '${o.displayName}' (${app.appId}).`);
  } else {
    const patch: Record<string, unknown> = {};
    if (app.signInAudience !== "AzureADMultipleOrgs")
      patch["signInAudience"] = "AzureADMultipleOrgs";
    const uris = app.web?.redirectUris ?? [];
    const missingUris = wantedUris.filter((u) => !uris.includes(u));
    if (missingUris.length) patch["web"] = { redirectUris: [...uris, ...missingUris] };
    const merged = mergeAccess(app.requiredResourceAccess ?? [], access);
    if (merged) patch["requiredResourceAccess"] = merged;
    if (Object.keys(patch).length) {
      await o.graph.request({ method: "PATCH", path: `/v1.0/applications/${app.id}`, json: patch });
      changes.push(`application ${app.appId}: ${Object.keys(patch).join(", ")}`);
      log(`Updated ${Object.keys(patch).join(", ")} of '${o.displayName}' (${app.appId}).`);
    }
  }
  const appId = app.appId;

  // Its service principal (a new app may take a moment to replicate).
  let sp = await getServicePrincipal(o.graph, appId);
  if (!sp) {
    sp = await waitForReplication(
      () =>
        o.graph.request<GraphServicePrincipal>({
          method: "POST",
          path: "/v1.0/servicePrincipals",
          json: { appId },
        }),
      (e) => e instanceof GraphError && e.status === 400 && /valid application/i.test(e.message),
      { ...o.replication, log, what: "the new application" },
    );
    changes.push(`service principal ${sp.id}`);
  }

  // Admin consent: an AllPrincipals grant per resource holding every scope.
  const grants: GraphGrant[] = [];
  for await (const g of o.graph.list<GraphGrant>(
    `/v1.0/servicePrincipals/${sp.id}/oauth2PermissionGrants`,
  ))
    grants.push(g);
  const permissions: string[] = [];
  for (const p of requests) {
    const resource = resources.get(p.resourceAppId.toLowerCase())!;
    const scopes = p.scopes.map(
      (n) =>
        (resource.oauth2PermissionScopes ?? []).find(
          (s) => s.value.toLowerCase() === n.toLowerCase(),
        )!.value,
    );
    permissions.push(...scopes.map((s) => `${p.resourceAppId}/${s}`));
    const grant = grants.find(
      (g) => g.resourceId === resource.id && g.consentType === "AllPrincipals",
    );
    if (!grant) {
      await o.graph.request({
        method: "POST",
        path: "/v1.0/oauth2PermissionGrants",
        json: {
          clientId: sp.id,
          consentType: "AllPrincipals",
          resourceId: resource.id,
          scope: scopes.join(" "),
        },
      });
      changes.push(`admin consent to ${resource.displayName}`);
      continue;
    }
    const held = grant.scope.split(" ").filter(Boolean);
    const missing = scopes.filter((s) => !held.some((h) => h.toLowerCase() === s.toLowerCase()));
    if (missing.length) {
      await o.graph.request({
        method: "PATCH",
        path: `/v1.0/oauth2PermissionGrants/${grant.id}`,
        json: { scope: [...held, ...missing].join(" ") },
      });
      changes.push(`admin consent to ${resource.displayName}: ${missing.join(", ")}`);
    }
  }
  const current = (await o.graph.request<GraphApplication>({
    path: `/v1.0/applications/${app.id}`,
  }))!;
  return {
    applicationId: appId,
    objectId: app.id,
    servicePrincipalId: sp.id,
    redirectUris: current.web?.redirectUris ?? [],
    permissions,
    changes,
    application: current,
  };
}

/** The app's requiredResourceAccess with every wanted entry added; undefined when none is missing. */
function mergeAccess(
  have: RequiredResourceAccess[],
  want: RequiredResourceAccess[],
): RequiredResourceAccess[] | undefined {
  const out = have.map((r) => ({ ...r, resourceAccess: [...r.resourceAccess] }));
  let changed = false;
  for (const w of want) {
    let entry = out.find((r) => r.resourceAppId.toLowerCase() === w.resourceAppId.toLowerCase());
    if (!entry) {
      entry = { resourceAppId: w.resourceAppId, resourceAccess: [] };
      out.push(entry);
    }
    for (const a of w.resourceAccess)
      if (
        !entry.resourceAccess.some(
          (x) => x.id.toLowerCase() === a.id.toLowerCase() && x.type === a.type,
        )
      ) {
        entry.resourceAccess.push(a);
        changed = true;
      }
  }
  return changed ? out : undefined;
}
