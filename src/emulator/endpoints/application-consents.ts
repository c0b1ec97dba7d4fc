/**
 * Partner Center's application consent (the Control Panel Vendor API):
 * `POST /v1/customers/{tenantId}/applicationconsents` creates the application's service principal
 * and an `AllPrincipals` grant per resource in the customer tenant; `DELETE
 * …/applicationconsents/{applicationId}` removes them. The caller must be an App + User token of
 * a user in the partner's AdminAgents group who holds, through GDAP in that customer, Global
 * Administrator, Privileged Role Administrator, Application Administrator or Cloud Application
 * Administrator. Errors in Partner Center's shape.
 */
import { servicePrincipalId } from "../consent.ts";
import type { Tenant } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import { CONSENT_ROLES } from "../gdap.ts";
import { sendJson, type Ctx } from "../http.ts";
import { addGrant, addServicePrincipal } from "../graph/principals.ts";
import { GraphError } from "../graph/odata.ts";
import { caller, headers, PartnerCenterError } from "./partner-center.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_GRANTS = 50;

const bad = (message: string) => new PartnerCenterError(400, 900400, message);

/** A key of a JSON object, matched case-insensitively (clients send PascalCase and camelCase). */
function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

interface ConsentRequest {
  applicationId: string;
  displayName: string | undefined;
  grants: { enterpriseApplicationId: string; scopes: string[] }[];
}

function parseBody(json: unknown): ConsentRequest {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw bad("The request body must be a JSON object with applicationId and applicationGrants.");
  const obj = json as Record<string, unknown>;
  const applicationId = field(obj, "applicationId");
  if (typeof applicationId !== "string" || !GUID.test(applicationId))
    throw bad("applicationId must be the application's id (a GUID).");
  const displayName = field(obj, "displayName");
  if (displayName !== undefined && displayName !== null && typeof displayName !== "string")
    throw bad("displayName must be a string.");
  const list = field(obj, "applicationGrants");
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_GRANTS)
    throw bad(`applicationGrants must be a list of 1 to ${MAX_GRANTS} grants.`);
  const grants = list.map((g: unknown, i) => {
    if (g === null || typeof g !== "object" || Array.isArray(g))
      throw bad(
        `applicationGrants[${i}] must be an object with enterpriseApplicationId and scope.`,
      );
    const resource = field(g as Record<string, unknown>, "enterpriseApplicationId");
    if (typeof resource !== "string" || !GUID.test(resource))
      throw bad(
        `applicationGrants[${i}].enterpriseApplicationId must be the resource's app id (a GUID).`,
      );
    const scope = field(g as Record<string, unknown>, "scope");
    if (typeof scope !== "string" || scope.length > 4000)
      throw bad(`applicationGrants[${i}].scope must be a comma-separated list of scopes.`);
    const scopes = scope
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (scopes.length === 0)
      throw bad(`applicationGrants[${i}].scope must name at least one scope (comma-separated).`);
    return { enterpriseApplicationId: resource, scopes };
  });
  return {
    applicationId,
    displayName: typeof displayName === "string" ? displayName : undefined,
    grants,
  };
}

/** The customer, the caller's rights in it: AdminAgents and a GDAP role that may consent. */
function customerFor(emu: Emulator, ctx: Ctx): Tenant {
  const who = caller(emu, ctx);
  const customerId = decodeURIComponent(ctx.match[1]!);
  const customer = who.tenant.customers.find(
    (c) => c.id.toLowerCase() === customerId.toLowerCase(),
  );
  if (!customer)
    throw new PartnerCenterError(
      404,
      600001,
      `Customer with tenant id ${customerId} was not found.`,
    );
  if (!who.user)
    throw new PartnerCenterError(
      403,
      900403,
      "Application consent needs App + User authentication: sign in as a user of the partner tenant.",
    );
  const gdap = emu.directory.gdap;
  if (!gdap.isAdminAgent(who.tenant.id, who.user.objectId))
    throw new PartnerCenterError(
      403,
      900403,
      `The user ${who.user.username} is not in the AdminAgents group of the partner tenant.`,
    );
  const roles = gdap.rolesThrough(who.tenant.id, customer.id, who.user.objectId, emu.nowMs());
  if (!roles.some((r) => CONSENT_ROLES.includes(r)))
    throw new PartnerCenterError(
      403,
      900403,
      `The user ${who.user.username} holds no role that may consent applications in customer ${customer.id}: assign Global Administrator, Privileged Role Administrator, Application Administrator or Cloud Application Administrator through a GDAP relationship.`,
    );
  return customer;
}

/** Graph errors from the shared model become Partner Center's. */
function asPartnerCenter<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof GraphError) {
      if (e.code === "Request_MultipleObjectsWithSameKeyValue")
        throw new PartnerCenterError(409, 900409, "Permission entry already exists.");
      throw new PartnerCenterError(
        e.status === 404 ? 404 : 400,
        e.status === 404 ? 900404 : 900400,
        e.message,
      );
    }
    throw e;
  }
}

/** POST /v1/customers/{tenantId}/applicationconsents */
export function createApplicationConsent(emu: Emulator, ctx: Ctx): void {
  const customer = customerFor(emu, ctx);
  const request = parseBody(ctx.json);
  const consent = emu.directory.consent;
  // Everything is checked before anything changes: a refused request leaves nothing half-done.
  const resources = request.grants.map((g, i) => {
    const resource = emu.directory.resource(g.enterpriseApplicationId);
    if (!resource || !consent.servicePrincipal(customer, g.enterpriseApplicationId))
      throw bad(
        `applicationGrants[${i}].enterpriseApplicationId: the resource '${g.enterpriseApplicationId}' has no service principal in customer ${customer.id}.`,
      );
    for (const s of g.scopes)
      if (!resource.delegatedScopes.some((d) => d.toLowerCase() === s.toLowerCase()))
        throw bad(
          `applicationGrants[${i}].scope: '${s}' is not a delegated permission of '${resource.displayName}'.`,
        );
    return resource;
  });
  const app = emu.directory.application(request.applicationId);
  if (!app)
    throw new PartnerCenterError(
      404,
      900404,
      `Application ${request.applicationId} was not found.`,
    );
  const clientSpId = servicePrincipalId(app.clientId, customer.id);
  const existing = consent.principals(customer);
  const hasSp = existing.servicePrincipals.some((s) => s.id === clientSpId);
  const duplicate = resources.some((r) =>
    existing.grants.some(
      (x) =>
        x.clientId === clientSpId &&
        x.resourceId === servicePrincipalId(r.appId, customer.id) &&
        x.consentType === "AllPrincipals",
    ),
  );
  if (duplicate) throw new PartnerCenterError(409, 900409, "Permission entry already exists.");
  asPartnerCenter(() => {
    if (!hasSp) addServicePrincipal(emu, customer, app.clientId);
    for (const [i, r] of resources.entries())
      addGrant(emu, customer, {
        clientId: clientSpId,
        consentType: "AllPrincipals",
        principalId: null,
        resourceId: servicePrincipalId(r.appId, customer.id),
        scope: request.grants[i]!.scopes.map(
          (s) => r.delegatedScopes.find((d) => d.toLowerCase() === s.toLowerCase()) ?? s,
        ).join(" "),
      });
  });
  ctx.note["consent"] = `${app.clientId} in ${customer.id}`;
  sendJson(
    ctx,
    201,
    {
      applicationId: app.clientId,
      applicationGrants: request.grants.map((g) => ({
        enterpriseApplicationId: g.enterpriseApplicationId,
        scope: g.scopes.join(","),
      })),
      ...(request.displayName !== undefined ? { displayName: request.displayName } : {}),
    },
    headers(ctx),
  );
}

/** DELETE /v1/customers/{tenantId}/applicationconsents/{applicationId} */
export function deleteApplicationConsent(emu: Emulator, ctx: Ctx): void {
  const customer = customerFor(emu, ctx);
  const applicationId = decodeURIComponent(ctx.match[2]!);
  if (!GUID.test(applicationId)) throw bad("The application id must be a GUID.");
  const consent = emu.directory.consent;
  const sp = consent.servicePrincipal(customer, applicationId);
  if (!sp || sp.resource)
    throw new PartnerCenterError(
      404,
      900404,
      `Application ${applicationId} has no consent in customer ${customer.id}.`,
    );
  const p = consent.mutable(customer);
  const id = sp.id;
  p.grants = p.grants.filter((g) => g.clientId !== id);
  p.appRoleAssignments = p.appRoleAssignments.filter((a) => a.principalId !== id);
  p.servicePrincipals = p.servicePrincipals.filter((s) => s.id !== id);
  ctx.status = 204;
  ctx.res.writeHead(204, headers(ctx));
  ctx.res.end();
}
