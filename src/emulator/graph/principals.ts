/**
 * Graph's consent surface in any tenant: `servicePrincipals` (list, get by id or
 * `(appId='…')`, create), their `oauth2PermissionGrants` and `appRoleAssignments`, and
 * `oauth2PermissionGrants` (list, get, create, update the scope, delete). The consent model
 * (../consent.ts) holds them; the token endpoint reads the same model.
 */
import {
  MAX_PRINCIPALS_PER_TENANT,
  appRoleId,
  grantId,
  servicePrincipalId,
  type AppRoleAssignment,
  type PermissionGrant,
  type ServicePrincipal,
} from "../consent.ts";
import { isMultiTenant, type Emulator } from "../emulator.ts";
import { CONSENT_ROLES } from "../gdap.ts";
import type { Ctx } from "../http.ts";
import { requireDirectoryRole, requirePermission, type GraphCaller } from "./auth.ts";
import {
  clip,
  graphErrors,
  sendCollection,
  sendEntity,
  sendGraph,
  type Collection,
} from "./odata.ts";

const READ_APPS = {
  delegated: [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
  ],
  application: ["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"],
};
const WRITE_APPS = {
  delegated: ["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
  application: ["Application.ReadWrite.All"],
};
const READ_GRANTS = {
  delegated: [
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
  ],
  application: ["DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All"],
};
const WRITE_GRANTS = {
  delegated: ["DelegatedPermissionGrant.ReadWrite.All", "Directory.AccessAsUser.All"],
  application: ["DelegatedPermissionGrant.ReadWrite.All"],
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function servicePrincipalJson(emu: Emulator, sp: ServicePrincipal): Record<string, unknown> {
  const app = emu.directory.application(sp.appId);
  const r = sp.resource;
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: true,
    appDisplayName: sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: sp.appOwnerOrganizationId,
    appRoleAssignmentRequired: false,
    displayName: sp.displayName,
    servicePrincipalNames: [sp.appId, ...(r?.identifierUris ?? [])],
    servicePrincipalType: "Application",
    signInAudience: app?.signInAudience ?? "AzureADMultipleOrgs",
    tags: [],
    appRoles: (r?.appRoles ?? []).map((value) => ({
      allowedMemberTypes: ["Application"],
      description: value,
      displayName: value,
      id: appRoleId(r!.appId, value),
      isEnabled: true,
      origin: "Application",
      value,
    })),
    oauth2PermissionScopes: (r?.delegatedScopes ?? []).map((value) => ({
      adminConsentDescription: value,
      adminConsentDisplayName: value,
      id: appRoleId(`${r!.appId}/scope`, value),
      isEnabled: true,
      type: "Admin",
      value,
    })),
  };
}

export function grantJson(g: PermissionGrant): Record<string, unknown> {
  return {
    id: g.id,
    clientId: g.clientId,
    consentType: g.consentType,
    principalId: g.principalId,
    resourceId: g.resourceId,
    scope: g.scope,
  };
}

function assignmentJson(a: AppRoleAssignment, resourceAppId: string): Record<string, unknown> {
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: appRoleId(resourceAppId, a.role),
    createdDateTime: new Date(a.createdDateTime).toISOString().replace(/\.\d+Z$/, "Z"),
    principalDisplayName: a.principalDisplayName,
    principalId: a.principalId,
    principalType: "ServicePrincipal",
    resourceDisplayName: a.resourceDisplayName,
    resourceId: a.resourceId,
  };
}

function spCollection(
  emu: Emulator,
  items: readonly ServicePrincipal[],
): Collection<ServicePrincipal> {
  return {
    context: "servicePrincipals",
    type: "microsoft.graph.servicePrincipal",
    items,
    toJson: (sp) => servicePrincipalJson(emu, sp),
    filters: {
      appId: (sp) => sp.appId,
      displayName: (sp) => sp.displayName,
      id: (sp) => sp.id,
      appOwnerOrganizationId: (sp) => sp.appOwnerOrganizationId,
    },
    maxTop: 999,
    defaultTop: 100,
  };
}

function grantCollection(context: string, items: readonly PermissionGrant[]) {
  return {
    context,
    type: "microsoft.graph.oAuth2PermissionGrant",
    items,
    toJson: grantJson,
    filters: {
      clientId: (g: PermissionGrant) => g.clientId,
      resourceId: (g: PermissionGrant) => g.resourceId,
      consentType: (g: PermissionGrant) => g.consentType,
      principalId: (g: PermissionGrant) => g.principalId,
    },
    maxTop: 999,
    defaultTop: 100,
  };
}

/** A service principal of the caller's tenant by object id, or by `appId='…'`. */
function spOf(emu: Emulator, caller: GraphCaller, key: string): ServicePrincipal {
  const p = emu.directory.consent.principals(caller.tenant);
  const byApp = /^appId='([^']*)'$/i.exec(key);
  const id = (byApp ? byApp[1]! : key).toLowerCase();
  const sp = p.servicePrincipals.find((s) => (byApp ? s.appId : s.id).toLowerCase() === id);
  if (!sp) throw graphErrors.notFound(byApp ? byApp[1]! : key);
  return sp;
}

/** GET /servicePrincipals */
export function listServicePrincipals(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, READ_APPS);
  const items = emu.directory.consent.principals(caller.tenant).servicePrincipals;
  sendCollection(emu, ctx, spCollection(emu, items));
}

/** GET /servicePrincipals/{id} and /servicePrincipals(appId='…') */
export function getServicePrincipal(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  key: string,
): void {
  requirePermission(caller, READ_APPS);
  const sp = spOf(emu, caller, key);
  sendEntity(
    emu,
    ctx,
    "servicePrincipals",
    "microsoft.graph.servicePrincipal",
    servicePrincipalJson(emu, sp),
  );
}

/** A JSON object body whose keys are all among `allowed` (`@odata.type` is always allowed). */
function body(ctx: Ctx, allowed: string[], type: string): Record<string, unknown> {
  const json = ctx.json;
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw graphErrors.badRequest("The request body must be a JSON object.");
  const obj = json as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (k !== "@odata.type" && !allowed.includes(k))
      throw graphErrors.badRequest(
        `Property '${clip(k, 60)}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
      );
  return obj;
}

function stringField(obj: Record<string, unknown>, key: string, pattern?: RegExp): string {
  const v = obj[key];
  if (typeof v !== "string" || (pattern && !pattern.test(v)))
    throw graphErrors.badRequest(
      `Invalid value specified for property '${key}' of resource '${key === "appId" ? "ServicePrincipal" : "OAuth2PermissionGrant"}'.`,
      "Request_BadRequest",
    );
  return v;
}

function roomFor(count: number): void {
  if (count >= MAX_PRINCIPALS_PER_TENANT)
    throw graphErrors.badRequest(
      `The directory object quota limit for the tenant has been exceeded (the emulator keeps ${MAX_PRINCIPALS_PER_TENANT}).`,
      "Directory_QuotaExceeded",
    );
}

/** POST /servicePrincipals {appId}: the application's service principal in the caller's tenant. */
export function createServicePrincipal(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, WRITE_APPS);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
  const b = body(
    ctx,
    ["appId", "accountEnabled", "tags", "displayName"],
    "microsoft.graph.servicePrincipal",
  );
  const appId = stringField(b, "appId", GUID);
  const sp = addServicePrincipal(emu, caller.tenant, appId);
  sendEntity(
    emu,
    ctx,
    "servicePrincipals",
    "microsoft.graph.servicePrincipal",
    servicePrincipalJson(emu, sp),
    201,
  );
}

/**
 * Adds `appId`'s service principal to the tenant (Graph's POST and Partner Center's consent).
 * Throws Graph errors: an unknown or single-tenant app, a duplicate, the quota.
 */
export function addServicePrincipal(
  emu: Emulator,
  tenant: import("../directory.ts").Tenant,
  appId: string,
): ServicePrincipal {
  const app = emu.directory.application(appId);
  if (!app || (!isMultiTenant(app, tenant) && app.homeTenant?.id !== tenant.id))
    throw graphErrors.badRequest(
      `The appId '${clip(appId, 60)}' of the service principal does not reference a valid application object.`,
      "Request_BadRequest",
    );
  const p = emu.directory.consent.mutable(tenant);
  if (p.servicePrincipals.some((s) => s.appId.toLowerCase() === appId.toLowerCase()))
    throw graphErrors.duplicate(
      "Another object with the same value for property servicePrincipalNames already exists.",
    );
  roomFor(p.servicePrincipals.length);
  const sp: ServicePrincipal = {
    id: servicePrincipalId(app.clientId, tenant.id),
    appId: app.clientId,
    displayName: app.displayName,
    appOwnerOrganizationId: app.homeTenant?.id ?? null,
    createdDateTime: emu.nowMs(),
  };
  p.servicePrincipals.push(sp);
  return sp;
}

/** DELETE /servicePrincipals/{id}: the app's service principal, its grants and role assignments. */
export function deleteServicePrincipal(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  key: string,
): void {
  requirePermission(caller, WRITE_APPS);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
  const sp = spOf(emu, caller, key);
  if (sp.resource)
    throw graphErrors.badRequest(
      `The service principal of '${sp.displayName}' belongs to Microsoft's service and cannot be deleted here.`,
      "Request_BadRequest",
    );
  const p = emu.directory.consent.mutable(caller.tenant);
  p.servicePrincipals = p.servicePrincipals.filter((s) => s.id !== sp.id);
  p.grants = p.grants.filter((g) => g.clientId !== sp.id);
  p.appRoleAssignments = p.appRoleAssignments.filter((a) => a.principalId !== sp.id);
  sendGraph(emu, ctx, 204);
}

/** GET /servicePrincipals/{id}/oauth2PermissionGrants */
export function servicePrincipalGrants(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  key: string,
): void {
  requirePermission(caller, READ_GRANTS);
  const sp = spOf(emu, caller, key);
  const grants = emu.directory.consent
    .principals(caller.tenant)
    .grants.filter((g) => g.clientId === sp.id);
  sendCollection(emu, ctx, grantCollection("oauth2PermissionGrants", grants));
}

/** GET /servicePrincipals/{id}/appRoleAssignments */
export function servicePrincipalAppRoles(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  key: string,
): void {
  requirePermission(caller, READ_APPS);
  const sp = spOf(emu, caller, key);
  const p = emu.directory.consent.principals(caller.tenant);
  const appIdOf = new Map(p.servicePrincipals.map((s) => [s.id, s.appId]));
  sendCollection(emu, ctx, {
    context: `servicePrincipals('${sp.id}')/appRoleAssignments`,
    type: "microsoft.graph.appRoleAssignment",
    items: p.appRoleAssignments.filter((a) => a.principalId === sp.id),
    toJson: (a) => assignmentJson(a, appIdOf.get(a.resourceId) ?? ""),
    filters: { resourceId: (a) => a.resourceId },
    maxTop: 999,
    defaultTop: 100,
  });
}

/** GET /oauth2PermissionGrants */
export function listGrants(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, READ_GRANTS);
  const grants = emu.directory.consent.principals(caller.tenant).grants;
  sendCollection(emu, ctx, grantCollection("oauth2PermissionGrants", grants));
}

function grantOf(emu: Emulator, caller: GraphCaller, id: string, mutable: boolean) {
  const consent = emu.directory.consent;
  // Found first, so that a request for an unknown id keeps the tenant as the seed implies it.
  if (!consent.principals(caller.tenant).grants.some((g) => g.id === id))
    throw graphErrors.notFound(id);
  const p = mutable ? consent.mutable(caller.tenant) : consent.principals(caller.tenant);
  const i = p.grants.findIndex((g) => g.id === id);
  return { p, i, grant: p.grants[i]! };
}

/** GET /oauth2PermissionGrants/{id} */
export function getGrant(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  requirePermission(caller, READ_GRANTS);
  const { grant } = grantOf(emu, caller, id, false);
  sendEntity(
    emu,
    ctx,
    "oauth2PermissionGrants",
    "microsoft.graph.oAuth2PermissionGrant",
    grantJson(grant),
  );
}

/** Scopes of a grant: space-separated names the resource exposes (400 naming the one it does not). */
function scopesFor(emu: Emulator, caller: GraphCaller, resourceId: string, scope: string): string {
  const resource = emu.directory.consent
    .principals(caller.tenant)
    .servicePrincipals.find((s) => s.id === resourceId)?.resource;
  const names = scope.split(" ").filter(Boolean);
  if (scope.length > 4000 || names.length > 200)
    throw graphErrors.badRequest("The scope is too long.", "Request_BadRequest");
  for (const n of names)
    if (resource && !resource.delegatedScopes.some((d) => d.toLowerCase() === n.toLowerCase()))
      throw graphErrors.badRequest(
        `The scope '${clip(n, 60)}' is not a delegated permission of '${resource.displayName}'.`,
        "Request_BadRequest",
      );
  return names.join(" ");
}

/** Adds a grant (Graph's POST and Partner Center's consent); "Permission entry already exists." when it is there. */
export function addGrant(
  emu: Emulator,
  tenant: import("../directory.ts").Tenant,
  g: Omit<PermissionGrant, "id">,
): PermissionGrant {
  const p = emu.directory.consent.mutable(tenant);
  if (!p.servicePrincipals.some((s) => s.id === g.clientId)) throw graphErrors.notFound(g.clientId);
  if (!p.servicePrincipals.some((s) => s.id === g.resourceId))
    throw graphErrors.notFound(g.resourceId);
  if (
    p.grants.some(
      (x) =>
        x.clientId === g.clientId &&
        x.resourceId === g.resourceId &&
        x.consentType === g.consentType &&
        x.principalId === g.principalId,
    )
  )
    throw graphErrors.duplicate("Permission entry already exists.");
  roomFor(p.grants.length);
  const grant: PermissionGrant = { id: grantId(g.clientId, g.resourceId, g.principalId), ...g };
  p.grants.push(grant);
  return grant;
}

/** POST /oauth2PermissionGrants */
export function createGrant(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, WRITE_GRANTS);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
  const b = body(
    ctx,
    ["clientId", "consentType", "principalId", "resourceId", "scope", "startTime", "expiryTime"],
    "microsoft.graph.oAuth2PermissionGrant",
  );
  const clientId = stringField(b, "clientId", GUID).toLowerCase();
  const resourceId = stringField(b, "resourceId", GUID).toLowerCase();
  const consentType = stringField(b, "consentType", /^(AllPrincipals|Principal)$/);
  let principalId: string | null = null;
  if (consentType === "Principal") principalId = stringField(b, "principalId", GUID).toLowerCase();
  else if (b["principalId"] !== undefined && b["principalId"] !== null)
    throw graphErrors.badRequest(
      "principalId must be null when consentType is AllPrincipals.",
      "Request_BadRequest",
    );
  const scope = scopesFor(
    emu,
    caller,
    resourceId,
    b["scope"] === undefined ? "" : stringField(b, "scope"),
  );
  const grant = addGrant(emu, caller.tenant, {
    clientId,
    consentType: consentType as PermissionGrant["consentType"],
    principalId,
    resourceId,
    scope,
  });
  sendEntity(
    emu,
    ctx,
    "oauth2PermissionGrants",
    "microsoft.graph.oAuth2PermissionGrant",
    grantJson(grant),
    201,
  );
}

/** PATCH /oauth2PermissionGrants/{id} {scope} */
export function updateGrant(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  requirePermission(caller, WRITE_GRANTS);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
  const b = body(ctx, ["scope"], "microsoft.graph.oAuth2PermissionGrant");
  const { grant } = grantOf(emu, caller, id, true);
  grant.scope = scopesFor(emu, caller, grant.resourceId, stringField(b, "scope"));
  sendGraph(emu, ctx, 204);
}

/** DELETE /oauth2PermissionGrants/{id} */
export function deleteGrant(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  requirePermission(caller, WRITE_GRANTS);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
  const { p, i } = grantOf(emu, caller, id, true);
  p.grants.splice(i, 1);
  sendGraph(emu, ctx, 204);
}
