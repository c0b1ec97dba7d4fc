/**
 * Graph's GDAP surface of a partner tenant: `tenantRelationships/delegatedAdminRelationships`
 * (with their `accessAssignments`) and `tenantRelationships/delegatedAdminCustomers`. Statuses
 * are brought up to the emulator's clock on every read. A signed-in user outside the partner's
 * AdminAgents group gets `200` and an empty `value`, as Graph answers (by design, per Microsoft).
 */
import type { Emulator } from "../emulator.ts";
import type { AccessAssignment, Relationship } from "../gdap.ts";
import type { Ctx } from "../http.ts";
import { requirePermission, type GraphCaller } from "./auth.ts";
import { graphErrors, isoDate, sendCollection, sendEntity } from "./odata.ts";

const READ = {
  delegated: ["DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"],
  application: ["DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"],
};

/** Graph's pages of relationships hold up to 300. */
const MAX_TOP = 300;

const roles = (ids: readonly string[]) => ({
  unifiedRoles: ids.map((roleDefinitionId) => ({ roleDefinitionId })),
});

export function relationshipJson(r: Relationship): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
    id: r.id,
    displayName: r.displayName,
    duration: r.duration,
    status: r.status,
    autoExtendDuration: r.autoExtendDays > 0 ? `P${r.autoExtendDays}D` : "PT0S",
    createdDateTime: isoDate(r.createdDateTime),
    lastModifiedDateTime: isoDate(r.lastModifiedDateTime),
    activatedDateTime: isoDate(r.activatedDateTime),
    endDateTime: isoDate(r.endDateTime),
    customer: { tenantId: r.customerId, displayName: r.customerName },
    accessDetails: roles(r.roles),
  };
}

export function assignmentJson(a: AccessAssignment): Record<string, unknown> {
  return {
    "@odata.type": "#microsoft.graph.delegatedAdminAccessAssignment",
    id: a.id,
    status: a.status,
    createdDateTime: isoDate(a.createdDateTime),
    lastModifiedDateTime: isoDate(a.lastModifiedDateTime),
    accessContainer: { accessContainerId: a.groupId, accessContainerType: "securityGroup" },
    accessDetails: roles(a.roles),
  };
}

/** The relationships the caller may see: none for a user outside AdminAgents. */
function visible(emu: Emulator, caller: GraphCaller): readonly Relationship[] {
  requirePermission(caller, READ);
  const gdap = emu.directory.gdap;
  if (caller.user && !gdap.isAdminAgent(caller.tenant.id, caller.user.objectId)) return [];
  const now = emu.nowMs();
  const list = gdap.relationshipsOfPartner(caller.tenant.id);
  for (const r of list) gdap.refresh(r, now);
  return list;
}

function relationshipOf(emu: Emulator, caller: GraphCaller, id: string): Relationship {
  const r = emu.directory.gdap.relationships.get(id.toLowerCase());
  if (!r || !visible(emu, caller).includes(r)) throw graphErrors.notFound(id);
  return r;
}

/** GET /tenantRelationships/delegatedAdminRelationships */
export function listRelationships(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  sendCollection(emu, ctx, {
    context: "tenantRelationships/delegatedAdminRelationships",
    type: "microsoft.graph.delegatedAdminRelationship",
    items: visible(emu, caller),
    toJson: relationshipJson,
    filters: {
      status: (r) => r.status,
      displayName: (r) => r.displayName,
      id: (r) => r.id,
      "customer/tenantId": (r) => r.customerId,
      "customer/displayName": (r) => r.customerName,
    },
    maxTop: MAX_TOP,
    defaultTop: 100,
  });
}

/** GET /tenantRelationships/delegatedAdminRelationships/{id} */
export function getRelationship(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  sendEntity(
    emu,
    ctx,
    "tenantRelationships/delegatedAdminRelationships",
    "microsoft.graph.delegatedAdminRelationship",
    relationshipJson(relationshipOf(emu, caller, id)),
  );
}

/** GET /tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments */
export function listAssignments(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  const r = relationshipOf(emu, caller, id);
  sendCollection(emu, ctx, {
    context: `tenantRelationships/delegatedAdminRelationships('${r.id}')/accessAssignments`,
    type: "microsoft.graph.delegatedAdminAccessAssignment",
    items: r.assignments,
    toJson: assignmentJson,
    filters: {
      status: (a) => a.status,
      "accessContainer/accessContainerId": (a) => a.groupId,
    },
    maxTop: MAX_TOP,
    defaultTop: 100,
  });
}

/** GET …/{id}/accessAssignments/{assignmentId} */
export function getAssignment(
  emu: Emulator,
  ctx: Ctx,
  caller: GraphCaller,
  id: string,
  assignmentId: string,
): void {
  const r = relationshipOf(emu, caller, id);
  const a = r.assignments.find((x) => x.id.toLowerCase() === assignmentId.toLowerCase());
  if (!a) throw graphErrors.notFound(assignmentId);
  sendEntity(
    emu,
    ctx,
    `tenantRelationships/delegatedAdminRelationships('${r.id}')/accessAssignments`,
    "microsoft.graph.delegatedAdminAccessAssignment",
    assignmentJson(a),
  );
}

interface CustomerRow {
  tenantId: string;
  displayName: string;
}

function customers(emu: Emulator, caller: GraphCaller): CustomerRow[] {
  const seen = new Map<string, CustomerRow>();
  for (const r of visible(emu, caller))
    if (!seen.has(r.customerId))
      seen.set(r.customerId, { tenantId: r.customerId, displayName: r.customerName });
  return [...seen.values()];
}

const customerJson = (c: CustomerRow) => ({
  id: c.tenantId,
  tenantId: c.tenantId,
  displayName: c.displayName,
});

/** GET /tenantRelationships/delegatedAdminCustomers */
export function listCustomers(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  sendCollection(emu, ctx, {
    context: "tenantRelationships/delegatedAdminCustomers",
    type: "microsoft.graph.delegatedAdminCustomer",
    items: customers(emu, caller),
    toJson: customerJson,
    filters: { tenantId: (c) => c.tenantId, displayName: (c) => c.displayName },
    maxTop: MAX_TOP,
    defaultTop: 100,
  });
}

/** GET /tenantRelationships/delegatedAdminCustomers/{tenantId} */
export function getCustomer(emu: Emulator, ctx: Ctx, caller: GraphCaller, id: string): void {
  const c = customers(emu, caller).find((x) => x.tenantId.toLowerCase() === id.toLowerCase());
  if (!c) throw graphErrors.notFound(id);
  sendEntity(
    emu,
    ctx,
    "tenantRelationships/delegatedAdminCustomers",
    "microsoft.graph.delegatedAdminCustomer",
    customerJson(c),
  );
}
