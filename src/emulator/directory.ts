/**
 * The directory built from a validated seed: lookups by id and domain, cross-references checked
 * (an unknown tenant named by an app, a user or a relationship is a seed error naming the key).
 */
import { createHash } from "node:crypto";
import { ConsentModel } from "./consent.ts";
import type { Application, CustomerKind, Resource, Tenant, User } from "./directory-types.ts";
import {
  ADMIN_AGENTS,
  DEFAULT_GDAP_GROUP,
  EMPTY_GDAP_GROUP,
  Gdap,
  PARTNER_CENTER_GROUPS,
  ROLE,
  defaultRelationship,
  seededRelationship,
  stableId,
  type Group,
} from "./gdap.ts";
import { SeedError, type Seed, type SeedApplication } from "./seed.ts";

// The types live apart so that consent.ts, which Directory uses, can name them without importing
// this file back; they are re-exported here for the rest of the emulator.
export type { Application, CustomerKind, Resource, Tenant, User };

/** A deterministic GUID for generated objects, so a seed yields the same directory every time. */
function stableGuid(text: string): string {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class Directory {
  readonly seed: Seed;
  readonly tenants: Tenant[] = [];
  readonly applications = new Map<string, Application>();
  readonly users = new Map<string, User>();
  readonly resources: Resource[];
  /** Groups and GDAP relationships. */
  readonly gdap = new Gdap();
  /** Service principals and grants per tenant. */
  readonly consent: ConsentModel;
  readonly #userById = new Map<string, User>();
  /** When the directory was built: relationship dates in the seed are relative to it. */
  readonly startMs: number;
  readonly #tenantByKey = new Map<string, Tenant>();
  readonly #resourceByUri = new Map<string, Resource>();

  constructor(
    seed: Seed,
    certificatePems: (app: SeedApplication, index: number) => string[],
    startMs = Date.now(),
  ) {
    this.seed = seed;
    this.startMs = startMs;
    const problems: string[] = [];
    for (const [i, t] of seed.tenants.entries()) {
      const tenant: Tenant = { ...t, customers: [], partners: [] };
      for (const key of [t.id, ...t.domains].map((k) => k.toLowerCase())) {
        if (this.#tenantByKey.has(key))
          problems.push(`tenants[${i}]: '${key}' is used by two tenants`);
        this.#tenantByKey.set(key, tenant);
      }
      this.tenants.push(tenant);
    }
    const tenantAt = (ref: string, key: string): Tenant | undefined => {
      const t = this.#tenantByKey.get(ref.toLowerCase());
      if (!t) problems.push(`${key}: no tenant with id or domain '${ref}'`);
      return t;
    };

    const generatedKinds = new Map<Tenant, CustomerKind | undefined>();
    if (seed.generatedCustomers) {
      const partner = tenantAt(seed.generatedCustomers.partner, "generatedCustomers.partner");
      const special = specialCustomers(seed.generatedCustomers);
      for (let n = 1; partner && n <= seed.generatedCustomers.count; n++) {
        const domain = `customer${String(n).padStart(5, "0")}.onmicrosoft.com`;
        const tenant: Tenant = {
          id: stableGuid(`${partner.id}/${domain}`),
          displayName: `Customer ${n}`,
          domains: [domain],
          subscriptions: [],
          customers: [],
          partners: [],
          generated: true,
        };
        const kind = special.get(n);
        generatedKinds.set(tenant, kind);
        if (kind) tenant.generatedKind = kind;
        if (kind === "withoutAccess") tenant.withoutDelegatedAccess = true;
        if (kind === "withoutConsent") tenant.withoutConsent = true;
        this.tenants.push(tenant);
        this.#tenantByKey.set(tenant.id, tenant);
        this.#tenantByKey.set(domain, tenant);
        partner.customers.push(tenant);
        tenant.partners.push(partner);
      }
    }

    const pairs: [Tenant, Tenant][] = [];
    for (const [i, r] of seed.relationships.entries()) {
      const partner = tenantAt(r.partner, `relationships[${i}].partner`);
      const customer = tenantAt(r.customer, `relationships[${i}].customer`);
      if (partner && customer) {
        partner.customers.push(customer);
        customer.partners.push(partner);
        pairs.push([partner, customer]);
      }
    }

    for (const [i, v] of seed.vaults.entries()) tenantAt(v.tenant, `vaults[${i}].tenant`);
    if (seed.defaults.vault && !seed.vaults.some((v) => v.name === seed.defaults.vault))
      problems.push(`defaults.vault: no vault named '${seed.defaults.vault}'`);

    this.resources = seed.resources;
    for (const r of seed.resources) {
      for (const uri of r.identifierUris)
        this.#resourceByUri.set(uri.toLowerCase().replace(/\/$/, ""), r);
      this.#resourceByUri.set(r.appId.toLowerCase(), r);
    }

    for (const [i, a] of seed.applications.entries()) {
      const key = `applications[${i}]`;
      if (this.applications.has(a.clientId.toLowerCase()))
        problems.push(`${key}.clientId: '${a.clientId}' is used twice`);
      const home =
        a.homeTenant === null ? null : (tenantAt(a.homeTenant, `${key}.homeTenant`) ?? null);
      let installedIn: Set<string> | "*" = "*";
      if (!a.installedIn.includes("*")) {
        installedIn = new Set(
          a.installedIn.flatMap((ref, j) => tenantAt(ref, `${key}.installedIn[${j}]`)?.id ?? []),
        );
        if (home) installedIn.add(home.id);
      }
      if (!a.publicClient && a.secrets.length === 0 && a.certificates.length === 0)
        problems.push(
          `${key}: a confidential application needs 'secrets' or 'certificates' (or set 'publicClient': true)`,
        );
      for (const [j, p] of a.permissions.entries()) {
        const resource = this.resource(p.resource);
        if (!resource) {
          problems.push(
            `${key}.permissions[${j}].resource: no resource with identifier URI or app id '${p.resource}'`,
          );
          continue;
        }
        for (const [k, s] of p.delegated.entries())
          if (!resource.delegatedScopes.includes(s))
            problems.push(
              `${key}.permissions[${j}].delegated[${k}]: '${resource.displayName}' has no delegated scope '${s}'`,
            );
        for (const [k, s] of p.application.entries())
          if (!resource.appRoles.includes(s))
            problems.push(
              `${key}.permissions[${j}].application[${k}]: '${resource.displayName}' has no app role '${s}'`,
            );
      }
      let certificates: string[] = [];
      try {
        certificates = certificatePems(a, i);
      } catch (cause) {
        problems.push(`${key}.certificates: ${(cause as Error).message}`);
      }
      this.applications.set(a.clientId.toLowerCase(), {
        ...a,
        homeTenant: home,
        installedIn,
        certificates,
      });
    }

    for (const [i, u] of seed.users.entries()) {
      const home = tenantAt(u.tenant, `users[${i}].tenant`);
      const name = u.username.toLowerCase();
      if (this.users.has(name))
        problems.push(`users[${i}].username: '${u.username}' is used twice`);
      if (this.#userById.has(u.objectId.toLowerCase()))
        problems.push(`users[${i}].objectId: '${u.objectId}' is used twice`);
      if (home) {
        const user = { ...u, home };
        this.users.set(name, user);
        this.#userById.set(u.objectId.toLowerCase(), user);
      }
    }

    this.#buildGdap(seed, pairs, generatedKinds, tenantAt, problems);
    const d0 = seed.defaults;
    this.consent = new ConsentModel({
      resources: seed.resources,
      applications: [...this.applications.values()],
      generatedCustomerApps: new Set(
        [d0.confidentialApp, d0.certificateApp].flatMap((id) => (id ? [id.toLowerCase()] : [])),
      ),
      resourceFor: (ref) => this.resource(ref),
      startMs,
    });

    const d = seed.defaults;
    if (d.user && !this.users.has(d.user.toLowerCase()))
      problems.push(`defaults.user: no user '${d.user}'`);
    if (d.mfaUser && !this.users.has(d.mfaUser.toLowerCase()))
      problems.push(`defaults.mfaUser: no user '${d.mfaUser}'`);
    for (const k of ["confidentialApp", "certificateApp", "publicApp"] as const) {
      const id = d[k];
      if (id && !this.applications.has(id.toLowerCase()))
        problems.push(`defaults.${k}: no application '${id}'`);
    }
    if (problems.length)
      throw new SeedError(
        `the seed is not consistent:\n${problems.map((p) => `  ${p}`).join("\n")}`,
      );
  }

  /** A tenant by GUID or domain name (case-insensitive). */
  tenant(idOrDomain: string): Tenant | undefined {
    return this.#tenantByKey.get(idOrDomain.toLowerCase());
  }

  application(clientId: string): Application | undefined {
    return this.applications.get(clientId.toLowerCase());
  }

  user(username: string): User | undefined {
    return this.users.get(username.toLowerCase());
  }

  /** A resource by identifier URI (with or without trailing slash) or app id. */
  resource(uriOrAppId: string): Resource | undefined {
    return this.#resourceByUri.get(uriOrAppId.toLowerCase().replace(/\/$/, ""));
  }

  /** A user by object id. */
  userById(objectId: string): User | undefined {
    return this.#userById.get(objectId.toLowerCase());
  }

  /** Whether the application has a service principal in the tenant (the consent model's answer). */
  isInstalled(app: Application, tenant: Tenant): boolean {
    return this.consent.hasServicePrincipal(app, tenant);
  }

  /**
   * Whether `user` may sign in to `tenant` at `nowMs`: a member, or a partner's agent whom an
   * active GDAP relationship reaches through a group that holds them.
   */
  canAccess(user: User, tenant: Tenant, nowMs: number): boolean {
    if (user.home.id === tenant.id) return true;
    return this.rolesIn(user, tenant, nowMs).length > 0;
  }

  /**
   * The Entra roles (template ids) `user` holds in `tenant`: in their own tenant the seed's
   * `directoryRoles` (Global Administrator for an AdminAgent by default), elsewhere what GDAP gives.
   */
  rolesIn(user: User, tenant: Tenant, nowMs: number): string[] {
    if (user.home.id === tenant.id)
      return (
        user.directoryRoles ??
        (user.partnerRoles.includes("AdminAgent") ? [ROLE.globalAdministrator] : [])
      );
    return this.gdap.rolesThrough(user.home.id, tenant.id, user.objectId, nowMs);
  }

  #buildGdap(
    seed: Seed,
    pairs: [Tenant, Tenant][],
    generatedKinds: Map<Tenant, CustomerKind | undefined>,
    tenantAt: (ref: string, key: string) => Tenant | undefined,
    problems: string[],
  ): void {
    const start = this.startMs;
    const memberId = (ref: string, key: string): string | undefined => {
      const u = this.user(ref) ?? this.userById(ref);
      if (!u) problems.push(`${key}: no user with username or object id '${ref}'`);
      return u?.objectId;
    };
    for (const [i, g] of seed.groups.entries()) {
      const tenant = tenantAt(g.tenant, `groups[${i}].tenant`);
      if (!tenant) continue;
      if (this.gdap.groups.has(g.id.toLowerCase()))
        problems.push(`groups[${i}].id: '${g.id}' is used twice`);
      const members = new Set(
        g.members.flatMap((m, j) => memberId(m, `groups[${i}].members[${j}]`) ?? []),
      );
      this.gdap.addGroup({
        id: g.id,
        tenantId: tenant.id,
        displayName: g.displayName,
        members,
        createdDateTime: start,
      });
    }
    // Every partner tenant has Partner Center's agent groups and the default GDAP groups.
    const namedPartners = new Set(
      seed.delegatedAdminRelationships.flatMap((r) => this.tenant(r.partner) ?? []),
    );
    const partners = this.tenants.filter((t) => t.customers.length > 0 || namedPartners.has(t));
    for (const partner of partners) {
      const agents = [...this.users.values()].filter((u) => u.home.id === partner.id);
      const holding = (role: string) =>
        new Set(
          agents.filter((u) => (u.partnerRoles as string[]).includes(role)).map((u) => u.objectId),
        );
      const made: [string, Set<string>][] = [
        ...PARTNER_CENTER_GROUPS.map((name): [string, Set<string>] => [
          name,
          holding(name.replace(/s$/, "")),
        ]),
        [DEFAULT_GDAP_GROUP, holding("AdminAgent")],
        [EMPTY_GDAP_GROUP, holding("HelpdeskAgent")],
      ];
      for (const [name, members] of made)
        if (!this.gdap.group(partner.id, name))
          this.gdap.addGroup({
            id: stableId(`${partner.id}/group/${name}`),
            tenantId: partner.id,
            displayName: name,
            members,
            createdDateTime: start,
          });
    }

    const seeded = new Set<string>();
    for (const [i, r] of seed.delegatedAdminRelationships.entries()) {
      const key = `delegatedAdminRelationships[${i}]`;
      const partner = tenantAt(r.partner, `${key}.partner`);
      const customer = tenantAt(r.customer, `${key}.customer`);
      if (!partner || !customer) continue;
      if (partner.id === customer.id) {
        problems.push(`${key}.customer: a partner cannot have a relationship with itself`);
        continue;
      }
      if (!partner.customers.includes(customer)) {
        partner.customers.push(customer);
        customer.partners.push(partner);
      }
      seeded.add(`${partner.id}|${customer.id}`);
      const rel = seededRelationship(
        r,
        i,
        partner.id,
        customer,
        (ref, k) => {
          const g = this.gdap.group(partner.id, ref);
          if (!g) problems.push(`${k}: no group '${ref}' in tenant '${partner.domains[0]}'`);
          return g?.id;
        },
        start,
      );
      for (const [j, a] of r.accessAssignments.entries())
        for (const [k, role] of a.roles.entries())
          if (!r.roles.includes(role))
            problems.push(
              `${key}.accessAssignments[${j}].roles[${k}]: '${role}' is not one of the relationship's roles`,
            );
      if (this.gdap.relationships.has(rel.id.toLowerCase()))
        problems.push(`${key}.id: '${rel.id}' is used twice`);
      this.gdap.addRelationship(rel);
    }
    for (const [partner, customer] of pairs) {
      if (seeded.has(`${partner.id}|${customer.id}`)) continue;
      const group = this.gdap.group(partner.id, DEFAULT_GDAP_GROUP)!;
      this.gdap.addRelationship(defaultRelationship(partner.id, customer, group.id, start));
    }
    const g = seed.generatedCustomers;
    for (const [customer, kind] of generatedKinds) {
      const partner = customer.partners[0]!;
      if (kind === "withoutAccess" || seeded.has(`${partner.id}|${customer.id}`)) continue;
      const group = this.gdap.group(
        partner.id,
        kind === "groupWithoutUser" ? EMPTY_GDAP_GROUP : DEFAULT_GDAP_GROUP,
      )!;
      this.gdap.addRelationship(
        defaultRelationship(
          partner.id,
          customer,
          group.id,
          start,
          kind === "expiredRelationship"
            ? "expired"
            : kind === "expiringRelationship"
              ? "expiring"
              : "active",
          g?.expiringInDays ?? 10,
        ),
      );
    }
  }
}

export type { Group };
export { ADMIN_AGENTS };

/**
 * Which generated customers (numbered from 1) are special, and how: spread evenly over the list,
 * the kinds interleaved, so that paging and concurrency meet them everywhere. With only the first
 * two kinds this places them exactly as before the others existed.
 */
function specialCustomers(g: {
  count: number;
  withoutAccess: number;
  withoutConsent: number;
  expiredRelationship: number;
  groupWithoutUser: number;
  expiringRelationship: number;
}): Map<number, CustomerKind> {
  const out = new Map<number, CustomerKind>();
  const kinds: [CustomerKind, number][] = [
    ["withoutAccess", g.withoutAccess],
    ["expiredRelationship", g.expiredRelationship],
    ["groupWithoutUser", g.groupWithoutUser],
    ["expiringRelationship", g.expiringRelationship],
    ["withoutConsent", g.withoutConsent],
  ];
  const total = kinds.reduce((n, [, c]) => n + c, 0);
  let positions: number[] = [];
  for (let j = 0; j < total; j++) positions.push(Math.floor(((j + 0.5) * g.count) / total) + 1);
  // Each kind takes its share of the remaining positions, evenly; the last takes the rest.
  for (const [kind, count] of kinds) {
    const rest: number[] = [];
    const n = positions.length;
    for (let j = 0; j < n; j++) {
      const take = Math.floor(((j + 1) * count) / n) > Math.floor((j * count) / n);
      if (take) out.set(positions[j]!, kind);
      else rest.push(positions[j]!);
    }
    positions = rest;
  }
  return out;
}
