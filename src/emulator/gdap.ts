/**
 * A partner's delegated access to its customers, as Entra ID and Partner Center model it:
 * security groups of the partner tenant (AdminAgents among them), GDAP relationships per customer
 * with roles by Entra role template id, and access assignments that give those roles to a group.
 * Relationships run on the emulator's clock: when `endDateTime` passes, an auto-extending one gains
 * 180 days and any other becomes `expired`. The token endpoint, Graph and Partner Center all ask
 * this model; nothing here knows HTTP.
 */
import { createHash } from "node:crypto";
import type { RelationshipStatus, SeedDelegatedAdminRelationship } from "./seed.ts";

export const ROLE = {
  globalAdministrator: "62e90394-69f5-4237-9190-012177145e10",
  globalReader: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
  applicationAdministrator: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  cloudApplicationAdministrator: "158c047a-c907-4556-b7ef-446551a6b5f7",
  privilegedRoleAdministrator: "e8611ab8-c189-46e8-94e1-60213ab1f814",
  userAdministrator: "fe930be7-5e62-47db-91af-98c3a49a38b1",
  exchangeAdministrator: "29232cdf-9323-42fd-ade2-1d097af3e4de",
  securityAdministrator: "194ae4cb-b126-40b2-bd5b-6091b380977d",
} as const;

/** The roles that may consent an application in a tenant (Partner Center's applicationconsents, Graph writes). */
export const CONSENT_ROLES: readonly string[] = [
  ROLE.globalAdministrator,
  ROLE.privilegedRoleAdministrator,
  ROLE.applicationAdministrator,
  ROLE.cloudApplicationAdministrator,
];

/** The roles of the default relationship: read the directory, consent apps, manage users. */
export const DEFAULT_RELATIONSHIP_ROLES: readonly string[] = [
  ROLE.globalReader,
  ROLE.cloudApplicationAdministrator,
  ROLE.userAdministrator,
];

export const DAY_MS = 86_400_000;
export const AUTO_EXTEND_DAYS = 180;
/** Partner Center's agent groups, made in every partner tenant that lacks them. */
export const ADMIN_AGENTS = "AdminAgents";
export const PARTNER_CENTER_GROUPS = [ADMIN_AGENTS, "HelpdeskAgents", "SalesAgents"] as const;
/** The GDAP groups of the default relationships: one holding the admin agents, one holding no one. */
export const DEFAULT_GDAP_GROUP = "GDAP Administrators";
export const EMPTY_GDAP_GROUP = "GDAP Helpdesk";

export interface Group {
  id: string;
  tenantId: string;
  displayName: string;
  /** User object ids. */
  members: Set<string>;
  createdDateTime: number;
}

export type AssignmentStatus = "pending" | "active" | "deleting" | "deleted" | "error";

export interface AccessAssignment {
  id: string;
  groupId: string;
  roles: readonly string[];
  status: AssignmentStatus;
  createdDateTime: number;
  lastModifiedDateTime: number;
}

export interface Relationship {
  id: string;
  displayName: string;
  partnerId: string;
  customerId: string;
  customerName: string;
  status: RelationshipStatus;
  /** ISO 8601 duration as Graph shows it (P730D). */
  duration: string;
  autoExtendDays: 0 | 180;
  roles: readonly string[];
  createdDateTime: number;
  activatedDateTime: number | null;
  endDateTime: number | null;
  lastModifiedDateTime: number;
  assignments: AccessAssignment[];
}

/** A deterministic GUID, so that a seed yields the same ids every time. */
export function stableId(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-9${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Days in an ISO 8601 duration of days or years (P730D, P2Y); 0 for PT0S. */
export function durationDays(duration: string): number {
  const m = /^P(\d+)([DY])$/.exec(duration);
  if (!m) return 0;
  return m[2] === "Y" ? Number(m[1]) * 365 : Number(m[1]);
}

/** Caps on what the control API and Graph writes may add, so memory stays bounded. */
export const MAX_GROUP_MEMBERS = 10_000;
export const MAX_ASSIGNMENTS = 50;

export class Gdap {
  readonly groups = new Map<string, Group>();
  readonly #groupsByTenant = new Map<string, Group[]>();
  readonly relationships = new Map<string, Relationship>();
  readonly #byPartner = new Map<string, Relationship[]>();
  readonly #byCustomer = new Map<string, Relationship[]>();

  addGroup(group: Group): void {
    this.groups.set(group.id.toLowerCase(), group);
    const list = this.#groupsByTenant.get(group.tenantId) ?? [];
    list.push(group);
    this.#groupsByTenant.set(group.tenantId, list);
  }

  groupsOf(tenantId: string): readonly Group[] {
    return this.#groupsByTenant.get(tenantId) ?? [];
  }

  /** A group of the tenant by id or display name (case-insensitive). */
  group(tenantId: string, idOrName: string): Group | undefined {
    const key = idOrName.toLowerCase();
    const byId = this.groups.get(key);
    if (byId && byId.tenantId === tenantId) return byId;
    return this.groupsOf(tenantId).find((g) => g.displayName.toLowerCase() === key);
  }

  adminAgents(tenantId: string): Group | undefined {
    return this.groupsOf(tenantId).find((g) => g.displayName === ADMIN_AGENTS);
  }

  isAdminAgent(tenantId: string, userOid: string): boolean {
    return this.adminAgents(tenantId)?.members.has(userOid) ?? false;
  }

  addRelationship(r: Relationship): void {
    this.relationships.set(r.id.toLowerCase(), r);
    for (const [map, key] of [
      [this.#byPartner, r.partnerId],
      [this.#byCustomer, r.customerId],
    ] as const) {
      const list = map.get(key) ?? [];
      list.push(r);
      map.set(key, list);
    }
  }

  relationshipsOfPartner(partnerId: string): readonly Relationship[] {
    return this.#byPartner.get(partnerId) ?? [];
  }

  relationshipsOfCustomer(customerId: string): readonly Relationship[] {
    return this.#byCustomer.get(customerId) ?? [];
  }

  /**
   * Brings a relationship's status up to `nowMs`: an active one whose end has passed either
   * extends by 180 days (as often as needed) or expires. Returns the relationship.
   */
  refresh(r: Relationship, nowMs: number): Relationship {
    if ((r.status === "active" || r.status === "expiring") && r.endDateTime !== null) {
      if (r.endDateTime <= nowMs) {
        if (r.autoExtendDays > 0) {
          const step = r.autoExtendDays * DAY_MS;
          const times = Math.floor((nowMs - r.endDateTime) / step) + 1;
          r.endDateTime += times * step;
          r.lastModifiedDateTime = nowMs;
        } else {
          r.status = "expired";
          r.lastModifiedDateTime = r.endDateTime;
        }
      }
    }
    return r;
  }

  /**
   * The Entra roles `userOid` (a user of `partnerId`) holds in `customerId` through GDAP now:
   * every active access assignment of an active relationship whose group holds the user.
   */
  rolesThrough(partnerId: string, customerId: string, userOid: string, nowMs: number): string[] {
    const roles = new Set<string>();
    for (const r of this.relationshipsOfCustomer(customerId)) {
      if (r.partnerId !== partnerId || this.refresh(r, nowMs).status !== "active") continue;
      for (const a of r.assignments) {
        if (a.status !== "active") continue;
        if (this.groups.get(a.groupId.toLowerCase())?.members.has(userOid))
          for (const role of a.roles) if (r.roles.includes(role)) roles.add(role);
      }
    }
    return [...roles];
  }
}

/** The default relationship of a partner with a customer, of the given kind. */
export function defaultRelationship(
  partnerId: string,
  customer: { id: string; displayName: string },
  groupId: string,
  startMs: number,
  kind: "active" | "expired" | "expiring" = "active",
  expiringInDays = 10,
): Relationship {
  // Graph's ids are two GUIDs joined by '-'; the second is the customer's tenant id here, and
  // the assignment's id is derived without another hash (tens of thousands are made at start).
  const first = stableId(`${partnerId}/${customer.id}/gdap`);
  const id = `${first}-${customer.id}`;
  const activated = startMs - 30 * DAY_MS;
  const end =
    kind === "expired"
      ? startMs - DAY_MS
      : kind === "expiring"
        ? startMs + expiringInDays * DAY_MS
        : activated + 730 * DAY_MS;
  const roles = DEFAULT_RELATIONSHIP_ROLES;
  return {
    id,
    displayName: kind === "expired" ? "Expired GDAP" : "Default GDAP",
    partnerId,
    customerId: customer.id,
    customerName: customer.displayName,
    status: kind === "expired" ? "expired" : "active",
    duration: kind === "active" ? "P730D" : `P${Math.round((end - activated) / DAY_MS)}D`,
    autoExtendDays: kind === "active" ? AUTO_EXTEND_DAYS : 0,
    roles,
    createdDateTime: activated - DAY_MS,
    activatedDateTime: activated,
    endDateTime: end,
    lastModifiedDateTime: kind === "expired" ? end : activated,
    assignments: [
      {
        id: `${first.slice(0, 24)}${customer.id.slice(24)}`,
        groupId,
        roles,
        status: "active",
        createdDateTime: activated,
        lastModifiedDateTime: activated,
      },
    ],
  };
}

/** A relationship from the seed, its dates relative to `startMs`. */
export function seededRelationship(
  r: SeedDelegatedAdminRelationship,
  index: number,
  partnerId: string,
  customer: { id: string; displayName: string },
  groupIdOf: (ref: string, key: string) => string | undefined,
  startMs: number,
): Relationship {
  const id =
    r.id ??
    `${stableId(`${partnerId}/${customer.id}/gdap/${index}`)}-${stableId(`${customer.id}/${index}`)}`;
  const pending = ["created", "approvalPending", "approved", "activating"].includes(r.status);
  const activated = pending ? null : startMs - r.activatedDaysAgo * DAY_MS;
  const end = pending
    ? null
    : r.endsInDays !== undefined
      ? startMs + r.endsInDays * DAY_MS
      : activated! + durationDays(r.duration) * DAY_MS;
  const assignments: AccessAssignment[] = [];
  for (const [j, a] of r.accessAssignments.entries()) {
    const groupId = groupIdOf(
      a.group,
      `delegatedAdminRelationships[${index}].accessAssignments[${j}].group`,
    );
    if (!groupId) continue;
    assignments.push({
      id: stableId(`${id}/assignment/${j}`),
      groupId,
      roles: a.roles,
      status: a.status,
      createdDateTime: activated ?? startMs,
      lastModifiedDateTime: activated ?? startMs,
    });
  }
  return {
    id,
    displayName: r.displayName,
    partnerId,
    customerId: customer.id,
    customerName: customer.displayName,
    status: r.status,
    duration: r.duration,
    autoExtendDays:
      (r.autoExtendDuration ?? (r.roles.includes(ROLE.globalAdministrator) ? "PT0S" : "P180D")) ===
      "P180D"
        ? AUTO_EXTEND_DAYS
        : 0,
    roles: r.roles,
    createdDateTime: (activated ?? startMs) - DAY_MS,
    activatedDateTime: activated,
    endDateTime: end,
    lastModifiedDateTime: activated ?? startMs,
    assignments,
  };
}
