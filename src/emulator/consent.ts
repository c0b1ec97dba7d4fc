/**
 * Consent, per tenant, as Entra ID keeps it: an application's service principal in the tenant,
 * and the `oauth2PermissionGrant`s (delegated scopes per resource) and app role assignments that
 * its service principal holds. What the seed implies is computed on demand, so that a hundred
 * thousand generated customers cost nothing; a tenant's principals are kept in memory only once
 * something changes them (Graph writes, Partner Center consent, the control API).
 */
import { createHash } from "node:crypto";
import type { Application, Resource, Tenant } from "./directory-types.ts";

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  /** The tenant that owns the app registration (null for Microsoft's). */
  appOwnerOrganizationId: string | null;
  createdDateTime: number;
  /** Set for resources (APIs): the scopes and roles they expose. */
  resource?: Resource;
}

export interface PermissionGrant {
  id: string;
  /** Object id of the client's service principal. */
  clientId: string;
  consentType: "AllPrincipals" | "Principal";
  principalId: string | null;
  /** Object id of the resource's service principal. */
  resourceId: string;
  /** Space-separated delegated scopes. */
  scope: string;
}

export interface AppRoleAssignment {
  id: string;
  principalId: string;
  principalDisplayName: string;
  resourceId: string;
  resourceDisplayName: string;
  /** The app role's name (our resources have no role ids of their own); see appRoleId(). */
  role: string;
  createdDateTime: number;
}

export interface TenantPrincipals {
  servicePrincipals: ServicePrincipal[];
  grants: PermissionGrant[];
  appRoleAssignments: AppRoleAssignment[];
}

/** Scopes a customer's consent never includes: they read the partner's own GDAP relationships. */
const PARTNER_ONLY_SCOPES = /^DelegatedAdminRelationship\./i;

/** At most this many service principals and grants per tenant (Graph writes and consents). */
export const MAX_PRINCIPALS_PER_TENANT = 2000;

const hashId = (text: string) => {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const servicePrincipalIds = new Map<string, string>();
/** Stable object id of an application's service principal in a tenant (as tokens' `oid` for apps). */
export function servicePrincipalId(appId: string, tenantId: string): string {
  const key = `${appId.toLowerCase()}|${tenantId}`;
  let id = servicePrincipalIds.get(key);
  if (id === undefined) {
    id = hashId(`sp|${appId}|${tenantId}`);
    if (servicePrincipalIds.size > 100_000) servicePrincipalIds.clear();
    servicePrincipalIds.set(key, id);
  }
  return id;
}

/** A grant id in Graph's style: 43 characters of base64url. */
export function grantId(clientId: string, resourceId: string, principalId: string | null): string {
  return createHash("sha256")
    .update(`grant|${clientId}|${resourceId}|${principalId ?? ""}`)
    .digest("base64url")
    .slice(0, 43);
}

/** A stable GUID for an app role, as Graph names roles by id. */
export function appRoleId(resourceAppId: string, role: string): string {
  return hashId(`role|${resourceAppId}|${role}`);
}

/** What the seed says about one tenant: which apps have a service principal, and their consent. */
export interface ConsentRules {
  resources: readonly Resource[];
  applications: readonly Application[];
  /** Apps consented in generated customers besides those installed there (the partner's SAM apps). */
  generatedCustomerApps: ReadonlySet<string>;
  resourceFor(uriOrAppId: string): Resource | undefined;
  /** When the directory was built: the creation time of what the seed implies. */
  startMs: number;
}

export class ConsentModel {
  readonly #rules: ConsentRules;
  readonly #changed = new Map<string, TenantPrincipals>();

  constructor(rules: ConsentRules) {
    this.#rules = rules;
  }

  /** The tenant's principals: what changed, or else what the seed implies (computed now). */
  principals(tenant: Tenant): TenantPrincipals {
    return this.#changed.get(tenant.id) ?? this.#implied(tenant);
  }

  /** The tenant's principals to change (kept from now on). */
  mutable(tenant: Tenant): TenantPrincipals {
    let p = this.#changed.get(tenant.id);
    if (!p) {
      p = this.#implied(tenant);
      this.#changed.set(tenant.id, p);
    }
    return p;
  }

  /** Whether the application has a service principal in the tenant. */
  hasServicePrincipal(app: Application, tenant: Tenant): boolean {
    const changed = this.#changed.get(tenant.id);
    if (changed) {
      const id = app.clientId.toLowerCase();
      return changed.servicePrincipals.some((sp) => sp.appId.toLowerCase() === id);
    }
    return this.#impliedInstalled(app, tenant);
  }

  servicePrincipal(tenant: Tenant, appId: string): ServicePrincipal | undefined {
    const id = appId.toLowerCase();
    return this.principals(tenant).servicePrincipals.find((sp) => sp.appId.toLowerCase() === id);
  }

  /**
   * Delegated scopes consented for `app` to call `resource` in the tenant, for the user with
   * object id `userOid`: the tenant-wide grant and the user's own, merged. Empty when none.
   */
  delegatedScopes(app: Application, resource: Resource, tenant: Tenant, userOid: string): string[] {
    const changed = this.#changed.get(tenant.id);
    if (!changed) return this.#impliedScopes(app, resource, tenant);
    const client = servicePrincipalId(app.clientId, tenant.id);
    const target = servicePrincipalId(resource.appId, tenant.id);
    const scopes = new Set<string>();
    for (const g of changed.grants)
      if (
        g.clientId === client &&
        g.resourceId === target &&
        (g.consentType === "AllPrincipals" || g.principalId === userOid)
      )
        for (const s of g.scope.split(" ")) if (s) scopes.add(s);
    return [...scopes];
  }

  /** App roles assigned to `app`'s service principal for `resource` in the tenant. */
  appRoles(app: Application, resource: Resource, tenant: Tenant): string[] {
    const changed = this.#changed.get(tenant.id);
    if (!changed)
      return this.#impliedInstalled(app, tenant) && !tenant.withoutConsent
        ? this.#impliedRoles(app, resource)
        : [];
    const client = servicePrincipalId(app.clientId, tenant.id);
    const target = servicePrincipalId(resource.appId, tenant.id);
    return changed.appRoleAssignments
      .filter((a) => a.principalId === client && a.resourceId === target)
      .map((a) => a.role);
  }

  #permission(app: Application, resource: Resource) {
    return app.permissions.find((p) => this.#rules.resourceFor(p.resource) === resource);
  }

  #impliedInstalled(app: Application, tenant: Tenant): boolean {
    if (app.installedIn === "*" || app.installedIn.has(tenant.id)) return true;
    return (
      tenant.generated === true &&
      !tenant.withoutConsent &&
      this.#rules.generatedCustomerApps.has(app.clientId.toLowerCase())
    );
  }

  #impliedScopes(app: Application, resource: Resource, tenant: Tenant): string[] {
    if (tenant.withoutConsent || !this.#impliedInstalled(app, tenant)) return [];
    const delegated = this.#permission(app, resource)?.delegated ?? [];
    // A partner tenant consents all; a customer tenant not the partner-only scopes.
    return tenant.customers.length > 0
      ? [...delegated]
      : delegated.filter((s) => !PARTNER_ONLY_SCOPES.test(s));
  }

  #impliedRoles(app: Application, resource: Resource): string[] {
    return [...(this.#permission(app, resource)?.application ?? [])];
  }

  #implied(tenant: Tenant): TenantPrincipals {
    const start = this.#rules.startMs;
    const servicePrincipals: ServicePrincipal[] = [];
    const grants: PermissionGrant[] = [];
    const appRoleAssignments: AppRoleAssignment[] = [];
    const seen = new Set<string>();
    for (const r of this.#rules.resources) {
      seen.add(r.appId.toLowerCase());
      servicePrincipals.push({
        id: servicePrincipalId(r.appId, tenant.id),
        appId: r.appId,
        displayName: r.displayName,
        appOwnerOrganizationId: null,
        createdDateTime: start,
        resource: r,
      });
    }
    for (const app of this.#rules.applications) {
      if (seen.has(app.clientId.toLowerCase()) || !this.#impliedInstalled(app, tenant)) continue;
      const sp: ServicePrincipal = {
        id: servicePrincipalId(app.clientId, tenant.id),
        appId: app.clientId,
        displayName: app.displayName,
        appOwnerOrganizationId: app.homeTenant?.id ?? null,
        createdDateTime: start,
      };
      servicePrincipals.push(sp);
      for (const resource of this.#rules.resources) {
        const scopes = this.#impliedScopes(app, resource, tenant);
        const resourceId = servicePrincipalId(resource.appId, tenant.id);
        if (scopes.length > 0)
          grants.push({
            id: grantId(sp.id, resourceId, null),
            clientId: sp.id,
            consentType: "AllPrincipals",
            principalId: null,
            resourceId,
            scope: scopes.join(" "),
          });
        if (tenant.withoutConsent) continue;
        for (const role of this.#impliedRoles(app, resource))
          appRoleAssignments.push({
            id: grantId(sp.id, resourceId, role),
            principalId: sp.id,
            principalDisplayName: sp.displayName,
            resourceId,
            resourceDisplayName: resource.displayName,
            role,
            createdDateTime: start,
          });
      }
    }
    return { servicePrincipals, grants, appRoleAssignments };
  }
}
