/**
 * The directory built from a validated seed: lookups by id and domain, cross-references checked
 * (an unknown tenant named by an app, a user or a relationship is a seed error naming the key).
 */
import { createHash } from "node:crypto";
import {
  SeedError,
  type Seed,
  type SeedApplication,
  type SeedResource,
  type SeedTenant,
  type SeedUser,
} from "./seed.ts";

export interface Tenant extends SeedTenant {
  /** Customers of this tenant when it is a partner. */
  customers: Tenant[];
  /** Partners of this tenant when it is a customer. */
  partners: Tenant[];
  /** A customer whose partners' agents have lost delegated admin access (GDAP): AADSTS50020. */
  withoutDelegatedAccess?: boolean;
  /** A customer where no app has been consented: the refresh grant answers AADSTS65001. */
  withoutConsent?: boolean;
}

export interface Application extends Omit<
  SeedApplication,
  "certificates" | "homeTenant" | "installedIn"
> {
  homeTenant: Tenant | null;
  installedIn: Set<string> | "*";
  /** PEM certificates, resolved by the server (files read, the demo certificate generated). */
  certificates: string[];
}

export interface User extends SeedUser {
  home: Tenant;
}

export type Resource = SeedResource;

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
  readonly #tenantByKey = new Map<string, Tenant>();
  readonly #resourceByUri = new Map<string, Resource>();

  constructor(seed: Seed, certificatePems: (app: SeedApplication, index: number) => string[]) {
    this.seed = seed;
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
        };
        if (special.get(n) === "withoutAccess") tenant.withoutDelegatedAccess = true;
        if (special.get(n) === "withoutConsent") tenant.withoutConsent = true;
        this.tenants.push(tenant);
        this.#tenantByKey.set(tenant.id, tenant);
        this.#tenantByKey.set(domain, tenant);
        partner.customers.push(tenant);
        tenant.partners.push(partner);
      }
    }

    for (const [i, r] of seed.relationships.entries()) {
      const partner = tenantAt(r.partner, `relationships[${i}].partner`);
      const customer = tenantAt(r.customer, `relationships[${i}].customer`);
      if (partner && customer) {
        partner.customers.push(customer);
        customer.partners.push(partner);
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
      if (home) this.users.set(name, { ...u, home });
    }

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

  /** Whether the application has a service principal in the tenant. */
  isInstalled(app: Application, tenant: Tenant): boolean {
    return app.installedIn === "*" || app.installedIn.has(tenant.id);
  }

  /** Whether `user` may sign in to `tenant`: a member, or an agent of one of its partners. */
  canAccess(user: User, tenant: Tenant): boolean {
    if (user.home.id === tenant.id) return true;
    return (
      user.partnerRoles.length > 0 &&
      !tenant.withoutDelegatedAccess &&
      tenant.partners.some((p) => p.id === user.home.id)
    );
  }
}

/**
 * Which generated customers (numbered from 1) lack delegated access or consent: spread evenly
 * over the list, the two kinds interleaved, so that paging and concurrency meet them everywhere.
 */
function specialCustomers(g: {
  count: number;
  withoutAccess: number;
  withoutConsent: number;
}): Map<number, "withoutAccess" | "withoutConsent"> {
  const out = new Map<number, "withoutAccess" | "withoutConsent">();
  const total = g.withoutAccess + g.withoutConsent;
  for (let j = 0; j < total; j++) {
    const n = Math.floor(((j + 0.5) * g.count) / total) + 1;
    const access =
      Math.floor(((j + 1) * g.withoutAccess) / total) > Math.floor((j * g.withoutAccess) / total);
    out.set(n, access ? "withoutAccess" : "withoutConsent");
  }
  return out;
}
