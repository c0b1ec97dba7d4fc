/**
 * The objects of the emulator's directory — tenants, applications, users, resources — as the
 * seed's entries resolved by `Directory` (directory.ts). Types only, apart from directory.ts, so
 * that the models it is built from (consent.ts) can name them without importing it back.
 */
import type { SeedApplication, SeedResource, SeedTenant, SeedUser } from "./seed.ts";

export interface Tenant extends SeedTenant {
  /** Customers of this tenant when it is a partner. */
  customers: Tenant[];
  /** Partners of this tenant when it is a customer. */
  partners: Tenant[];
  /** A customer whose partners' agents have lost delegated admin access (GDAP): AADSTS50020. */
  withoutDelegatedAccess?: boolean;
  /** A customer where no app has been consented: the refresh grant answers AADSTS65001. */
  withoutConsent?: boolean;
  /** One of `generatedCustomers`: the partner's own multi-tenant apps are consented there. */
  generated?: boolean;
  /** What the seed made of a generated customer (absent: an ordinary one). */
  generatedKind?: CustomerKind;
}

/** What a generated customer is: its GDAP relationship and consent, from the seed's counts. */
export type CustomerKind =
  | "withoutAccess"
  | "withoutConsent"
  | "expiredRelationship"
  | "groupWithoutUser"
  | "expiringRelationship";

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
  /** Seconds: CAE tokens issued at or before this are refused (sessions revoked, password reset). */
  sessionsValidFrom?: number;
}

export type Resource = SeedResource;
