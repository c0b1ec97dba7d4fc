/**
 * Microsoft Graph in the emulator: `/v1.0/…` (and the same under `/beta/…`) at the emulator's
 * origin, or at graph.microsoft.com under `--impersonate`. One table of routes; each handler gets
 * the verified caller. To serve more of Graph (applications, CAE challenges), add rows here and a
 * handler file beside this one.
 */
import type { Emulator } from "../emulator.ts";
import type { Ctx } from "../http.ts";
import { graphCaller, type GraphCaller } from "./auth.ts";
import * as apps from "./applications.ts";
import * as objects from "./directory-objects.ts";
import * as principals from "./principals.ts";
import * as gdap from "./relationships.ts";
import { clip, GraphError } from "./odata.ts";

type GraphHandler = (emu: Emulator, ctx: Ctx, caller: GraphCaller, ...params: string[]) => void;

interface GraphRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Matched against the path after the version, case-insensitively (Graph's segments are). */
  pattern: RegExp;
  handler: GraphHandler;
}

const SEG = "([^/]+)";
const REL = "tenantRelationships/delegatedAdminRelationships";
const r = (method: GraphRoute["method"], path: string, handler: GraphHandler): GraphRoute => ({
  method,
  pattern: new RegExp(`^/${path}$`, "i"),
  handler,
});

const APP = "applications\\((appId='[^']*')\\)";
const routes: GraphRoute[] = [
  r("GET", "organization", objects.organization),
  r("GET", "me", (e, c, who) => objects.user(e, c, who)),
  r("GET", "me/transitiveMemberOf", (e, c, who) => objects.transitiveMemberOf(e, c, who)),
  r("GET", `users/${SEG}`, objects.user),
  r("GET", `users/${SEG}/transitiveMemberOf`, objects.transitiveMemberOf),
  r("GET", "groups", objects.groups),
  r("GET", `groups/${SEG}`, objects.group),
  r("GET", REL, gdap.listRelationships),
  r("GET", `${REL}/${SEG}`, gdap.getRelationship),
  r("GET", `${REL}/${SEG}/accessAssignments`, gdap.listAssignments),
  r("GET", `${REL}/${SEG}/accessAssignments/${SEG}`, gdap.getAssignment),
  r("GET", "tenantRelationships/delegatedAdminCustomers", gdap.listCustomers),
  r("GET", `tenantRelationships/delegatedAdminCustomers/${SEG}`, gdap.getCustomer),
  r("GET", "applications", apps.listApplications),
  r("POST", "applications", apps.createApplication),
  ...[APP, `applications/${SEG}`].flatMap((a) => [
    r("GET", a, apps.getApplication),
    r("PATCH", a, apps.updateApplication),
    r("DELETE", a, apps.deleteApplication),
    r("POST", `${a}/addPassword`, apps.addPassword),
    r("POST", `${a}/removePassword`, apps.removePassword),
  ]),
  r("GET", "servicePrincipals", principals.listServicePrincipals),
  r("POST", "servicePrincipals", principals.createServicePrincipal),
  r("GET", "servicePrincipals\\((appId='[^']*')\\)", principals.getServicePrincipal),
  r("GET", `servicePrincipals/${SEG}`, principals.getServicePrincipal),
  r("DELETE", `servicePrincipals/${SEG}`, principals.deleteServicePrincipal),
  r("GET", `servicePrincipals/${SEG}/oauth2PermissionGrants`, principals.servicePrincipalGrants),
  r("GET", `servicePrincipals/${SEG}/appRoleAssignments`, principals.servicePrincipalAppRoles),
  r("GET", "oauth2PermissionGrants", principals.listGrants),
  r("POST", "oauth2PermissionGrants", principals.createGrant),
  r("GET", `oauth2PermissionGrants/${SEG}`, principals.getGrant),
  r("PATCH", `oauth2PermissionGrants/${SEG}`, principals.updateGrant),
  r("DELETE", `oauth2PermissionGrants/${SEG}`, principals.deleteGrant),
];

/** The Graph handler the server routes `/v1.0/…` and `/beta/…` to. */
export function graph(emu: Emulator, ctx: Ctx): void {
  // The caller is checked before anything about the resource is said.
  const caller = graphCaller(emu, ctx);
  const rest = decodeURIComponent(ctx.url.pathname.replace(/^\/(?:v1\.0|beta)/, "")).replace(
    /\/$/,
    "",
  );
  const onPath = routes.filter((x) => x.pattern.test(rest));
  if (onPath.length === 0) {
    const segment = rest.split("/").filter(Boolean).pop() ?? "";
    throw new GraphError(
      400,
      "BadRequest",
      `Resource not found for the segment '${clip(segment, 80)}'.`,
    );
  }
  const route = onPath.find((x) => x.method === ctx.method);
  if (!route)
    throw new GraphError(
      405,
      "Request_BadRequest",
      `The endpoint only accepts ${onPath.map((x) => x.method).join(", ")} requests. Received a ${clip(ctx.method, 16)} request.`,
    );
  ctx.note["graph"] = `${route.method} ${route.pattern.source}`.slice(0, 128);
  const params = route.pattern.exec(rest)!.slice(1);
  route.handler(emu, ctx, caller, ...params);
}
