/**
 * Graph's directory objects of the caller's tenant: `organization`, `me`, `users/{id|upn}`,
 * `users/{id}/transitiveMemberOf` and `groups`.
 */
import type { Tenant, User } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import type { Group } from "../gdap.ts";
import type { Ctx } from "../http.ts";
import { requirePermission, type GraphCaller } from "./auth.ts";
import { graphErrors, isoDate, sendCollection, sendEntity } from "./odata.ts";

const READ_DIRECTORY = ["Directory.Read.All", "Directory.AccessAsUser.All"];

export function organizationJson(t: Tenant, startMs: number): Record<string, unknown> {
  return {
    id: t.id,
    deletedDateTime: null,
    createdDateTime: isoDate(startMs - 365 * 86_400_000),
    displayName: t.displayName,
    tenantType: "AAD",
    countryLetterCode: "US",
    partnerTenantType: t.customers.length > 0 ? "resellerPartnerDelegatedAdmin" : null,
    verifiedDomains: t.domains.map((name, i) => ({
      capabilities: "Email, OfficeCommunicationsOnline",
      isDefault: i === 0,
      isInitial: name.endsWith(".onmicrosoft.com"),
      name,
      type: "Managed",
    })),
  };
}

export function userJson(u: User): Record<string, unknown> {
  return {
    id: u.objectId,
    businessPhones: [],
    displayName: u.displayName,
    givenName: null,
    jobTitle: null,
    mail: u.username,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: u.username,
  };
}

export function groupJson(g: Group): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.group",
    id: g.id,
    deletedDateTime: null,
    createdDateTime: isoDate(g.createdDateTime),
    description: null,
    displayName: g.displayName,
    groupTypes: [],
    mail: null,
    mailEnabled: false,
    mailNickname: g.displayName.replace(/[^A-Za-z0-9]/g, "") || "group",
    securityEnabled: true,
  };
}

/** GET /organization */
export function organization(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, {
    delegated: ["User.Read", "Organization.Read.All", ...READ_DIRECTORY],
    application: ["Organization.Read.All", "Directory.Read.All"],
  });
  sendCollection(emu, ctx, {
    context: "organization",
    type: "microsoft.graph.organization",
    items: [caller.tenant],
    toJson: (t) => organizationJson(t, emu.directory.startMs),
    maxTop: 999,
    defaultTop: 100,
  });
}

/** A user of the caller's tenant by object id or user principal name; 404 otherwise. */
function userOf(emu: Emulator, caller: GraphCaller, key: string): User {
  const u = emu.directory.userById(key) ?? emu.directory.user(key);
  if (!u || u.home.id !== caller.tenant.id) throw graphErrors.notFound(key);
  return u;
}

/** The user a `/me` or `/users/{key}` path names, with the permissions to read them. */
function subject(emu: Emulator, caller: GraphCaller, key: string | undefined, extra: string[]) {
  if (key === undefined) {
    if (!caller.user)
      throw graphErrors.badRequest("/me request is only valid with delegated authentication flow.");
    requirePermission(caller, {
      delegated: ["User.Read", "User.Read.All", ...extra, ...READ_DIRECTORY],
      application: [],
    });
    if (caller.user.home.id !== caller.tenant.id) throw graphErrors.notFound(caller.user.objectId);
    return caller.user;
  }
  const u = userOf(emu, caller, key);
  const self = caller.user?.objectId === u.objectId;
  requirePermission(caller, {
    delegated: [...(self ? ["User.Read"] : []), "User.Read.All", ...extra, ...READ_DIRECTORY],
    application: ["User.Read.All", ...extra, "Directory.Read.All"],
  });
  return u;
}

/** GET /me, GET /users/{id|upn} */
export function user(emu: Emulator, ctx: Ctx, caller: GraphCaller, key?: string): void {
  const u = subject(emu, caller, key, []);
  sendEntity(emu, ctx, "users", "microsoft.graph.user", userJson(u));
}

/** GET /me/transitiveMemberOf, GET /users/{id}/transitiveMemberOf */
export function transitiveMemberOf(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  key?: string,
): void {
  const u = subject(emu, caller, key, ["GroupMember.Read.All", "Group.Read.All"]);
  const groups = emu.directory.gdap.groupsOf(u.home.id).filter((g) => g.members.has(u.objectId));
  sendCollection(emu, ctx, {
    context: "directoryObjects",
    type: "microsoft.graph.directoryObject",
    items: groups,
    toJson: groupJson,
    filters: { displayName: (g) => g.displayName, id: (g) => g.id },
    maxTop: 999,
    defaultTop: 100,
  });
}

/** GET /groups */
export function groups(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, {
    delegated: ["GroupMember.Read.All", "Group.Read.All", ...READ_DIRECTORY],
    application: ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"],
  });
  sendCollection(emu, ctx, {
    context: "groups",
    type: "microsoft.graph.group",
    items: emu.directory.gdap.groupsOf(caller.tenant.id),
    toJson: groupJson,
    filters: { displayName: (g) => g.displayName, id: (g) => g.id },
    maxTop: 999,
    defaultTop: 100,
  });
}

/** GET /groups/{id} */
export function group(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  requirePermission(caller, {
    delegated: ["GroupMember.Read.All", "Group.Read.All", ...READ_DIRECTORY],
    application: ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"],
  });
  const g = emu.directory.gdap.groups.get(id.toLowerCase());
  if (!g || g.tenantId !== caller.tenant.id) throw graphErrors.notFound(id);
  sendEntity(emu, ctx, "groups", "microsoft.graph.group", groupJson(g));
}
