/**
 * The control API's hold on the directory model, so that tests can change a partner's access at
 * run time: move a user in or out of a group (AdminAgents, a GDAP group), change a GDAP
 * relationship (status, end date, auto-extend, the group its roles go to), turn Partner Center's
 * MFA rule on or off, and list the customers with what the seed made of each.
 */
import { z } from "zod";
import type { Emulator } from "../emulator.ts";
import {
  DAY_MS,
  MAX_ASSIGNMENTS,
  MAX_GROUP_MEMBERS,
  ROLE,
  stableId,
  type Relationship,
} from "../gdap.ts";

export class DirectoryControlError extends Error {}

export const groupMemberSchema = z
  .object({
    /** The group, by id or display name (AdminAgents, GDAP Administrators…). */
    group: z.string().min(1).max(256),
    /** The group's tenant (id or domain); default the default user's tenant. */
    tenant: z.string().min(1).max(256).optional(),
    /** The user, by username or object id. */
    user: z.string().min(1).max(256),
    member: z.boolean(),
  })
  .strict();

const relationshipStatus = z.enum([
  "activating",
  "active",
  "approvalPending",
  "approved",
  "created",
  "expired",
  "expiring",
  "terminated",
  "terminating",
  "terminationRequested",
]);

export const relationshipChangeSchema = z
  .object({
    /** The relationship by id, or the customer (tenant id or domain) whose relationships change. */
    id: z.string().min(1).max(128).optional(),
    customer: z.string().min(1).max(256).optional(),
    status: relationshipStatus.optional(),
    /** The end date, in days from the emulator's clock now (negative: in the past). */
    endsInDays: z.number().min(-3650).max(3650).optional(),
    autoExtend: z.boolean().optional(),
    /** Give the relationship's roles to this group (id or display name) instead of the ones it has. */
    group: z.string().min(1).max(256).optional(),
    /** The roles (template ids) of that access assignment; default all of the relationship's. */
    roles: z
      .array(z.string().regex(/^[0-9a-f-]{36}$/i))
      .min(1)
      .max(64)
      .optional(),
  })
  .strict()
  .refine((c) => (c.id === undefined) !== (c.customer === undefined), {
    message: "name exactly one of id and customer",
  });

export const partnerCenterSettingsSchema = z.object({ requireMfa: z.boolean() }).strict();

function parse<T>(schema: z.ZodType<T>, json: unknown): T {
  const r = schema.safeParse(json ?? {});
  if (!r.success)
    throw new DirectoryControlError(
      r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
    );
  return r.data;
}

export function directoryControlOps(emu: Emulator) {
  const directory = emu.directory;
  return {
    /** Puts a user into a group or takes them out. */
    setGroupMember(input: z.input<typeof groupMemberSchema>): { members: number } {
      const c = parse(groupMemberSchema, input);
      const tenant = c.tenant ? directory.tenant(c.tenant) : emu.defaultUser()?.home;
      if (!tenant)
        throw new DirectoryControlError(`tenant: no tenant '${c.tenant ?? "(default)"}'`);
      const group = directory.gdap.group(tenant.id, c.group);
      if (!group)
        throw new DirectoryControlError(
          `group: no group '${c.group}' in tenant '${tenant.domains[0]}'`,
        );
      const user = directory.user(c.user) ?? directory.userById(c.user);
      if (!user) throw new DirectoryControlError(`user: no user '${c.user}'`);
      if (c.member) {
        if (group.members.size >= MAX_GROUP_MEMBERS && !group.members.has(user.objectId))
          throw new DirectoryControlError(
            `group: '${group.displayName}' is full (${MAX_GROUP_MEMBERS})`,
          );
        group.members.add(user.objectId);
      } else group.members.delete(user.objectId);
      return { members: group.members.size };
    },

    /** Changes one relationship, or every relationship with a customer. */
    setRelationship(input: z.input<typeof relationshipChangeSchema>): { relationships: string[] } {
      const c = parse(relationshipChangeSchema, input);
      let targets: readonly Relationship[];
      if (c.id) {
        const r = directory.gdap.relationships.get(c.id.toLowerCase());
        if (!r) throw new DirectoryControlError(`id: no relationship '${c.id}'`);
        targets = [r];
      } else {
        const customer = directory.tenant(c.customer!);
        if (!customer) throw new DirectoryControlError(`customer: no tenant '${c.customer}'`);
        targets = directory.gdap.relationshipsOfCustomer(customer.id);
        if (targets.length === 0)
          throw new DirectoryControlError(`customer: '${c.customer}' has no GDAP relationship`);
      }
      const now = emu.nowMs();
      for (const r of targets) {
        const groupId = c.group ? directory.gdap.group(r.partnerId, c.group)?.id : undefined;
        if (c.group && !groupId)
          throw new DirectoryControlError(`group: no group '${c.group}' in the partner's tenant`);
        if (c.roles?.some((role) => !r.roles.includes(role)))
          throw new DirectoryControlError("roles: each must be one of the relationship's roles");
        if (c.autoExtend && r.roles.includes(ROLE.globalAdministrator))
          throw new DirectoryControlError(
            "autoExtend: a relationship with Global Administrator cannot auto-extend",
          );
      }
      for (const r of targets) {
        if (c.status !== undefined) r.status = c.status;
        if (c.autoExtend !== undefined) r.autoExtendDays = c.autoExtend ? 180 : 0;
        if (c.endsInDays !== undefined) {
          r.endDateTime = now + c.endsInDays * DAY_MS;
          if (r.activatedDateTime === null) r.activatedDateTime = now;
        }
        if (c.group) {
          const groupId = directory.gdap.group(r.partnerId, c.group)!.id;
          const roles = c.roles ?? r.roles;
          r.assignments = [
            {
              id: stableId(`${r.id}/assignment/${groupId}/${roles.join(",")}`),
              groupId,
              roles,
              status: "active" as const,
              createdDateTime: now,
              lastModifiedDateTime: now,
            },
          ].slice(0, MAX_ASSIGNMENTS);
        }
        r.lastModifiedDateTime = now;
        directory.gdap.refresh(r, now);
      }
      return { relationships: targets.map((r) => r.id) };
    },

    setPartnerCenter(input: z.input<typeof partnerCenterSettingsSchema>): { requireMfa: boolean } {
      const c = parse(partnerCenterSettingsSchema, input);
      emu.settings.partnerCenterRequireMfa = c.requireMfa;
      return { requireMfa: c.requireMfa };
    },

    /** The customers of the default user's tenant, each with what the seed made of it. */
    customers(): { id: string; domain: string; displayName: string; kind: string }[] {
      const partner = emu.defaultUser()?.home;
      return (partner?.customers ?? []).map((t) => ({
        id: t.id,
        domain: t.domains[0]!,
        displayName: t.displayName,
        kind: t.generatedKind ?? "normal",
      }));
    },
  };
}
