/**
 * Scope strings as Entra reads them: OpenID scopes, then scopes of exactly one resource
 * (`https://graph.microsoft.com/User.Read`, `api://…/.default`, or bare `User.Read` for Graph),
 * and the grant of delegated scopes or app roles an application has for that resource.
 */
import type { Application, Directory, Resource, Tenant } from "./directory.ts";
import { EntraError, errors } from "./errors.ts";

export const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
const GRAPH = "https://graph.microsoft.com";

export interface ScopeRequest {
  oidc: Set<string>;
  resource: Resource;
  /** The resource's identifier as the request named it (audience of v1 tokens). */
  resourceUri: string;
  /** Short names (`User.Read`, `.default`). */
  scopes: string[];
  isDefault: boolean;
}

/** Parses `scope`; a request with only OpenID scopes is for Graph's User.Read, as in Entra. */
export function parseScope(scope: string, directory: Directory, tenant: Tenant): ScopeRequest {
  const oidc = new Set<string>();
  let resourceUri: string | undefined;
  const scopes: string[] = [];
  for (const raw of scope.split(/\s+/).filter(Boolean)) {
    const value = raw;
    if (OIDC_SCOPES.has(value.toLowerCase())) {
      oidc.add(value.toLowerCase());
      continue;
    }
    const slash = value.lastIndexOf("/");
    const uri =
      slash > 0 && value.slice(0, slash).includes(":")
        ? value.slice(0, slash)
        : /^[0-9a-f-]{36}\/.+/i.test(value)
          ? value.slice(0, 36)
          : GRAPH;
    const name =
      uri === GRAPH && !value.toLowerCase().startsWith(GRAPH) ? value : value.slice(uri.length + 1);
    if (resourceUri !== undefined && resourceUri.toLowerCase() !== uri.toLowerCase())
      throw errors.invalidScope(
        `Provided value for the input parameter scope '${scope}' is not valid because it contains more than one resource.`,
        28000,
      );
    resourceUri = uri;
    if (name) scopes.push(name);
  }
  if (resourceUri === undefined) {
    resourceUri = GRAPH;
    scopes.push("User.Read");
  }
  const resource = directory.resource(resourceUri);
  if (!resource) throw errors.resourceNotFound(resourceUri, tenant.domains[0] ?? tenant.id);
  const isDefault = scopes.some((s) => s === ".default");
  if (isDefault && scopes.length > 1)
    throw errors.invalidScope(
      `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' combines '.default' with other scopes of the same resource.`,
    );
  if (!isDefault && scopes.length === 0)
    throw errors.invalidScope(
      `The provided value for the input parameter 'scope' is not valid. The scope '${scope}' is not valid.`,
    );
  return { oidc, resource, resourceUri: resourceUri.replace(/\/$/, ""), scopes, isDefault };
}

/**
 * Delegated scopes granted to `app` for the request, out of `allowed` (what the tenant's grants
 * consent); AADSTS65001 when one is not consented.
 */
export function grantDelegated(
  app: Application,
  request: ScopeRequest,
  allowed: string[],
): string[] {
  if (request.isDefault) {
    if (allowed.length === 0) throw errors.consentRequired(app.clientId, app.displayName);
    return [...allowed];
  }
  for (const s of request.scopes) {
    if (!request.resource.delegatedScopes.some((d) => d.toLowerCase() === s.toLowerCase()))
      throw new EntraError(
        400,
        "invalid_client",
        650053,
        `The application '${app.displayName}' asked for scope '${s}' that doesn't exist on the resource '${request.resource.appId}'. Contact the app vendor.`,
      );
    if (!allowed.some((a) => a.toLowerCase() === s.toLowerCase()))
      throw errors.consentRequired(app.clientId, app.displayName);
  }
  return request.scopes.map(
    (s) => request.resource.delegatedScopes.find((d) => d.toLowerCase() === s.toLowerCase()) ?? s,
  );
}

/** App roles granted for client credentials (`roles`: the tenant's assignments); the scope must be `{resource}/.default`. */
export function grantApplication(request: ScopeRequest, scope: string, roles: string[]): string[] {
  if (!request.isDefault || request.oidc.size > 0)
    throw errors.invalidScope(
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      1002012,
    );
  return [...roles];
}

/** The `scope` value of a token response: full URIs, then the OpenID scopes that were granted. */
export function scopeResponse(request: ScopeRequest, granted: string[]): string {
  return [...granted.map((s) => `${request.resourceUri}/${s}`), ...[...request.oidc]].join(" ");
}
