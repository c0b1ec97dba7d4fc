/**
 * The Graph reads behind the customer diagnosis and repair, each answer validated where it
 * enters: the signed-in user and their groups, GDAP relationships and their access assignments
 * (partner tenant, SPEC §8), an app's service principal and its delegated grants (any tenant).
 */
import { GraphError, type GraphClient } from "./client.ts";

/** Microsoft's application id of Microsoft Graph (its service principal's `appId` in every tenant). */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** The partner tenant's group whose members Partner Center and GDAP treat as admin agents. */
export const ADMIN_AGENTS_GROUP = "AdminAgents";

/** Entra role template ids → names (Microsoft's permissions reference), for people to read. */
export const ROLE_NAMES: Readonly<Record<string, string>> = {
  "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
  "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
  "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
  "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
  "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
  "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
  "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
  "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
  "f023fd81-a637-4b56-95fd-791ac0226033": "Service Support Administrator",
  "4d6ac14f-3453-41d0-bef9-a3e0c569773a": "License Administrator",
  "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
  "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
  "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
};

/** The roles with which Partner Center's application consent is allowed in a customer. */
export const CONSENT_ROLE_IDS: ReadonlySet<string> = new Set([
  "62e90394-69f5-4237-9190-012177145e10",
  "e8611ab8-c189-46e8-94e1-60213ab1f814",
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  "158c047a-c907-4556-b7ef-446551a6b5f7",
]);

/** A role template id's name, or the id itself when it is not one we know. */
export function roleName(id: string): string {
  return ROLE_NAMES[id.toLowerCase()] ?? id;
}

export interface DelegatedAdminRelationship {
  id: string;
  displayName: string | null;
  /** `active`, `expired`, `terminated`, `approvalPending`, … as Graph says. */
  status: string;
  customerTenantId: string;
  customerName: string | null;
  roleIds: string[];
  /** ISO 8601 duration, e.g. `P730D`. */
  duration: string | null;
  endDateTime: string | null;
  /** `PT0S` (none) or `P180D`. */
  autoExtendDuration: string | null;
}

export interface AccessAssignment {
  id: string;
  status: string;
  /** The partner tenant's security group the roles are given to. */
  groupId: string;
  roleIds: string[];
}

export interface DirectoryGroup {
  id: string;
  displayName: string | null;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string | null;
}

export interface PermissionGrant {
  id: string;
  clientId: string;
  resourceId: string;
  consentType: string | null;
  /** The delegated scopes, split from Graph's space-separated `scope`. */
  scopes: string[];
}

type Json = Record<string, unknown>;

function text(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

function required(v: unknown, what: string): string {
  const s = text(v);
  if (s === null)
    throw new GraphError(`Graph's answer lacks ${what}; it cannot be used.`, { status: 200 });
  return s;
}

function roleIdsOf(details: unknown): string[] {
  const roles = (details as { unifiedRoles?: unknown } | undefined)?.unifiedRoles;
  if (!Array.isArray(roles)) return [];
  return roles
    .map((r) => text((r as Json | null)?.["roleDefinitionId"]))
    .filter((r): r is string => r !== null)
    .map((r) => r.toLowerCase());
}

/** OData string literal: a quote doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The signed-in user of the partner tenant (`/me`). */
export async function getMe(
  graph: GraphClient,
): Promise<{ id: string; userPrincipalName: string | null }> {
  const me = await graph.request<Json>({ path: "/v1.0/me?$select=id,userPrincipalName" });
  return {
    id: required(me?.["id"], "the user's id"),
    userPrincipalName: text(me?.["userPrincipalName"]),
  };
}

/** The groups holding the signed-in user, directly or through other groups. */
export async function myGroups(graph: GraphClient): Promise<DirectoryGroup[]> {
  const groups: DirectoryGroup[] = [];
  for await (const g of graph.list<Json>("/v1.0/me/transitiveMemberOf?$select=id,displayName")) {
    const type = text(g["@odata.type"]);
    if (type !== null && type !== "#microsoft.graph.group") continue;
    groups.push({
      id: required(g["id"], "a group's id").toLowerCase(),
      displayName: text(g["displayName"]),
    });
  }
  return groups;
}

/** Every GDAP relationship the signed-in user can see (none for a user outside AdminAgents). */
export async function* listRelationships(
  graph: GraphClient,
): AsyncGenerator<DelegatedAdminRelationship> {
  for await (const r of graph.list<Json>("/v1.0/tenantRelationships/delegatedAdminRelationships")) {
    const customer = (r["customer"] ?? {}) as Json;
    yield {
      id: required(r["id"], "a relationship's id"),
      displayName: text(r["displayName"]),
      status: required(r["status"], "a relationship's status"),
      customerTenantId: required(
        customer["tenantId"],
        "a relationship's customer tenant",
      ).toLowerCase(),
      customerName: text(customer["displayName"]),
      roleIds: roleIdsOf(r["accessDetails"]),
      duration: text(r["duration"]),
      endDateTime: text(r["endDateTime"]),
      autoExtendDuration: text(r["autoExtendDuration"]),
    };
  }
}

/** A relationship's access assignments: which partner group holds which roles. */
export async function listAccessAssignments(
  graph: GraphClient,
  relationshipId: string,
): Promise<AccessAssignment[]> {
  const out: AccessAssignment[] = [];
  for await (const a of graph.list<Json>(
    `/v1.0/tenantRelationships/delegatedAdminRelationships/${encodeURIComponent(relationshipId)}/accessAssignments`,
  )) {
    const container = (a["accessContainer"] ?? {}) as Json;
    out.push({
      id: required(a["id"], "an access assignment's id"),
      status: text(a["status"]) ?? "unknown",
      groupId: required(
        container["accessContainerId"],
        "an access assignment's group",
      ).toLowerCase(),
      roleIds: roleIdsOf(a["accessDetails"]),
    });
  }
  return out;
}

function servicePrincipalOf(s: Json): ServicePrincipal {
  return {
    id: required(s["id"], "a service principal's id"),
    appId: required(s["appId"], "a service principal's appId").toLowerCase(),
    displayName: text(s["displayName"]),
  };
}

/** The service principal of an app in a tenant, or null when the app has none there. */
export async function findServicePrincipal(
  graph: GraphClient,
  appId: string,
  tenant?: string,
): Promise<ServicePrincipal | null> {
  for await (const s of graph.list<Json>(
    `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq ${odataString(appId)}`)}&$select=id,appId,displayName`,
    tenant ? { tenant } : {},
  ))
    return servicePrincipalOf(s);
  return null;
}

/** A service principal by its object id. */
export async function getServicePrincipal(
  graph: GraphClient,
  id: string,
  tenant?: string,
): Promise<ServicePrincipal> {
  const s = await graph.request<Json>({
    path: `/v1.0/servicePrincipals/${encodeURIComponent(id)}?$select=id,appId,displayName`,
    ...(tenant ? { tenant } : {}),
  });
  return servicePrincipalOf(s ?? {});
}

/** The delegated permission grants whose client is this service principal. */
export async function listGrants(
  graph: GraphClient,
  servicePrincipalId: string,
  tenant?: string,
): Promise<PermissionGrant[]> {
  const out: PermissionGrant[] = [];
  for await (const g of graph.list<Json>(
    `/v1.0/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/oauth2PermissionGrants`,
    tenant ? { tenant } : {},
  ))
    out.push({
      id: required(g["id"], "a grant's id"),
      clientId: required(g["clientId"], "a grant's clientId"),
      resourceId: required(g["resourceId"], "a grant's resourceId"),
      consentType: text(g["consentType"]),
      scopes: (text(g["scope"]) ?? "").split(/\s+/).filter((s) => s !== ""),
    });
  return out;
}

/** A delegated grant as Partner Center's application consent takes it: a resource app and its scopes. */
export interface ResourceGrant {
  /** The resource's application id, e.g. {@link GRAPH_APP_ID}. */
  resourceAppId: string;
  scopes: string[];
}

/**
 * The delegated grants an app holds in a tenant, by resource app id (`AllPrincipals` grants
 * only: the tenant-wide consent). Empty when the app has no service principal there.
 */
export async function consentedGrants(
  graph: GraphClient,
  appId: string,
  tenant?: string,
): Promise<{ servicePrincipal: ServicePrincipal | null; grants: ResourceGrant[] }> {
  const sp = await findServicePrincipal(graph, appId, tenant);
  if (!sp) return { servicePrincipal: null, grants: [] };
  const byResource = new Map<string, Set<string>>();
  for (const g of await listGrants(graph, sp.id, tenant)) {
    if (g.consentType !== null && g.consentType !== "AllPrincipals") continue;
    const resource = await getServicePrincipal(graph, g.resourceId, tenant);
    const set = byResource.get(resource.appId) ?? new Set<string>();
    for (const s of g.scopes) set.add(s);
    byResource.set(resource.appId, set);
  }
  return {
    servicePrincipal: sp,
    grants: [...byResource].map(([resourceAppId, scopes]) => ({
      resourceAppId,
      scopes: [...scopes],
    })),
  };
}
