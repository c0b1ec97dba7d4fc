/**
 * The directory seed: tenants (a partner and its customers), resources (APIs), applications,
 * users and partner–customer relationships. An embedded default, or a JSON file validated here
 * with errors that name the offending key.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
  message: "must be a GUID like 00000000-0000-0000-0000-000000000000",
});

const settingsSchema = z
  .object({
    accessTokenLifetimeSeconds: z.number().int().min(60).default(3600),
    /**
     * The lifetime of a CAE token (the client declared `cp1`, the resource is CAE-capable):
     * Entra's long-lived range goes up to 28 hours. `refresh_in` is half of it.
     */
    caeAccessTokenLifetimeSeconds: z
      .number()
      .int()
      .min(60)
      .max(28 * 3600)
      .default(24 * 3600),
    extendedLifetimeSeconds: z.number().int().min(0).default(3600),
    refreshTokenMaxInactiveDays: z.number().min(0).default(90),
    authorizationCodeLifetimeSeconds: z.number().int().min(1).default(600),
    deviceCodeIntervalSeconds: z.number().int().min(0).default(5),
    deviceCodeLifetimeSeconds: z.number().int().min(1).default(900),
    clockSkewSeconds: z.number().int().min(0).default(300),
    partnerCenterTokenLifetimeSeconds: z.number().int().min(60).default(900),
    /**
     * Partner Center's MFA rule for App + User calls: refuse a call whose token lacks `mfa` in
     * `amr` (401). Off by default; the control API turns it on and off at run time.
     */
    partnerCenterRequireMfa: z.boolean().default(false),
    /** Added to every answer (not the control API's), to model the network. */
    latencyMs: z.number().int().min(0).max(60_000).default(0),
    /**
     * Entra's replication: an app or credential made through Graph reaches the token endpoint
     * only this long after Graph answered, so that clients prove they wait it out.
     */
    replicationDelayMs: z.number().int().min(0).max(600_000).default(0),
    /** Entra's throttling: above this rate per client app, the token endpoint answers 429. */
    throttle: z
      .object({ tokenRequestsPerSecond: z.number().int().min(1).max(1_000_000) })
      .strict()
      .optional(),
  })
  .strict();

const subscriptionSchema = z
  .object({
    id: guid,
    displayName: z.string().min(1),
    state: z.enum(["Enabled", "Disabled", "Warned", "PastDue", "Deleted"]).default("Enabled"),
  })
  .strict();

const tenantSchema = z
  .object({
    id: guid,
    displayName: z.string().min(1),
    domains: z.array(z.string().min(3)).min(1),
    /** Azure subscriptions, as Azure Resource Manager lists them (`az login` asks for them). */
    subscriptions: z.array(subscriptionSchema).default([]),
  })
  .strict();

const resourceSchema = z
  .object({
    appId: guid,
    displayName: z.string().min(1),
    identifierUris: z.array(z.string().min(1)).min(1),
    delegatedScopes: z.array(z.string().min(1)).default([]),
    appRoles: z.array(z.string().min(1)).default([]),
    accessTokenVersion: z.union([z.literal(1), z.literal(2)]).default(1),
    /** Takes CAE tokens (long-lived, revoked by claims challenges). Default: Graph and Exchange Online. */
    continuousAccessEvaluation: z.boolean().optional(),
  })
  .strict();

const certificateSchema = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ pem: z.string().includes("BEGIN CERTIFICATE") }).strict(),
  z.object({ generated: z.literal("demo") }).strict(),
]);

const applicationSchema = z
  .object({
    clientId: guid,
    displayName: z.string().min(1),
    /** Tenant id or domain of the tenant that owns the registration; null for first-party apps. */
    homeTenant: z.string().nullable().default(null),
    signInAudience: z.enum(["AzureADMyOrg", "AzureADMultipleOrgs"]).default("AzureADMultipleOrgs"),
    /** Tenants (id or domain) where the app has a service principal; "*" for all. */
    installedIn: z.array(z.string()).default(["*"]),
    publicClient: z.boolean().default(false),
    secrets: z
      .array(
        z.object({ value: z.string().min(8), expiresOn: z.iso.datetime().optional() }).strict(),
      )
      .default([]),
    certificates: z.array(certificateSchema).default([]),
    redirectUris: z.array(z.string().url()).default([]),
    permissions: z
      .array(
        z
          .object({
            resource: z.string().min(1),
            delegated: z.array(z.string()).default([]),
            application: z.array(z.string()).default([]),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

const userSchema = z
  .object({
    username: z.string().includes("@"),
    password: z.string().min(1),
    displayName: z.string().min(1),
    objectId: guid,
    tenant: z.string().min(1),
    mfaRequired: z.boolean().default(false),
    /** A disabled user cannot sign in (AADSTS50057) and their CAE tokens are refused. */
    accountEnabled: z.boolean().default(true),
    mfaCode: z
      .string()
      .regex(/^\d{6}$/, { message: "must be six digits" })
      .default("123456"),
    /** Partner Center roles: AdminAgent, SalesAgent, HelpdeskAgent. */
    partnerRoles: z.array(z.enum(["AdminAgent", "SalesAgent", "HelpdeskAgent"])).default([]),
    /**
     * Entra roles (template ids) the user holds in their own tenant. Default: Global
     * Administrator for an AdminAgent, none for anyone else.
     */
    directoryRoles: z.array(guid).optional(),
  })
  .strict();

/** A security group of a tenant; members by username or object id. */
const groupSchema = z
  .object({
    id: guid,
    tenant: z.string().min(1),
    displayName: z.string().min(1).max(256),
    members: z.array(z.string().min(1)).default([]),
  })
  .strict();

const isoDuration = z.string().regex(/^P(?:\d+D|\d+Y|T0S)$/, {
  message: "must be an ISO 8601 duration in days (P730D), years (P2Y) or PT0S",
});

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

/**
 * A GDAP relationship (Graph's delegatedAdminRelationship) of a partner with a customer: its
 * roles by Entra role template id, and the access assignments that give them to the partner's
 * security groups. Dates are relative to the emulator's start, in days, so a seed stays valid.
 */
const delegatedAdminRelationshipSchema = z
  .object({
    id: z
      .string()
      .regex(/^[0-9a-f-]{36}(?:-[0-9a-f-]{36})?$/i, {
        message: "must be a GUID or two joined by '-'",
      })
      .optional(),
    partner: z.string().min(1),
    customer: z.string().min(1),
    displayName: z.string().min(1).max(50).default("Default GDAP"),
    status: relationshipStatus.default("active"),
    duration: isoDuration.default("P730D"),
    /** Default P180D, or PT0S with Global Administrator among the roles (Microsoft's rule). */
    autoExtendDuration: z.enum(["PT0S", "P180D"]).optional(),
    /** Days from the emulator's start to the end (default: the duration after activation). */
    endsInDays: z.number().min(-3650).max(3650).optional(),
    /** Days before the emulator's start when the relationship was activated (default 30). */
    activatedDaysAgo: z.number().min(0).max(3650).default(30),
    roles: z.array(guid).min(1),
    accessAssignments: z
      .array(
        z
          .object({
            /** A group of the partner tenant, by id or display name. */
            group: z.string().min(1),
            roles: z.array(guid).min(1),
            status: z.enum(["pending", "active", "deleting", "deleted", "error"]).default("active"),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .refine(
    (r) =>
      !(
        r.autoExtendDuration === "P180D" && r.roles.includes("62e90394-69f5-4237-9190-012177145e10")
      ),
    {
      message: "a relationship with Global Administrator cannot auto-extend; use PT0S",
      path: ["autoExtendDuration"],
    },
  );

const vaultPermission = z.enum(["get", "list", "set", "delete", "recover", "purge"]);

/** An Azure Key Vault served by the emulator: its tenant, and who may do what with its secrets. */
const vaultSchema = z
  .object({
    /** The vault's name (`NAME.vault.azure.net` under --impersonate). */
    name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, {
      message: "must be 3-24 letters, digits and dashes, starting with a letter",
    }),
    /** Tenant id or domain: tokens for the vault must be issued by this tenant. */
    tenant: z.string().min(1),
    /** Access policies: a principal is an application's client id, a username or an object id. */
    access: z
      .array(
        z
          .object({ principal: z.string().min(1), permissions: z.array(vaultPermission).min(1) })
          .strict(),
      )
      .default([]),
  })
  .strict();

const relationshipSchema = z
  .object({
    partner: z.string().min(1),
    customer: z.string().min(1),
    type: z.enum(["reseller", "advisor"]).default("reseller"),
  })
  .strict();

export const seedSchema = z
  .object({
    settings: settingsSchema.default(settingsSchema.parse({})),
    tenants: z.array(tenantSchema).min(1),
    resources: z.array(resourceSchema).default([]),
    applications: z.array(applicationSchema).default([]),
    users: z.array(userSchema).default([]),
    relationships: z.array(relationshipSchema).default([]),
    /** Security groups (AdminAgents and the GDAP groups of a partner are made when absent). */
    groups: z.array(groupSchema).default([]),
    /**
     * GDAP relationships. A partner–customer pair named here gets exactly these; every other
     * pair in `relationships` (and every generated customer) gets the default one.
     */
    delegatedAdminRelationships: z.array(delegatedAdminRelationshipSchema).default([]),
    vaults: z.array(vaultSchema).default([]),
    /** Adds N generated customers of `partner` (for paging and scale tests). */
    generatedCustomers: z
      .object({
        partner: z.string().min(1),
        count: z.number().int().min(0).max(100000),
        /** Of those, customers where the partner's agents have no delegated admin access (AADSTS50020). */
        withoutAccess: z.number().int().min(0).default(0),
        /** Of those, customers where no app is consented (AADSTS65001 on the refresh grant). */
        withoutConsent: z.number().int().min(0).default(0),
        /** Of those, customers whose only GDAP relationship has expired (AADSTS50020). */
        expiredRelationship: z.number().int().min(0).default(0),
        /** Of those, customers whose relationship is assigned to a group that holds no agent (AADSTS50020). */
        groupWithoutUser: z.number().int().min(0).default(0),
        /** Of those, customers whose relationship ends in `expiringInDays` days with no auto-extend. */
        expiringRelationship: z.number().int().min(0).default(0),
        expiringInDays: z.number().min(0).max(3650).default(10),
      })
      .strict()
      .refine(
        (g) =>
          g.withoutAccess +
            g.withoutConsent +
            g.expiredRelationship +
            g.groupWithoutUser +
            g.expiringRelationship <=
          g.count,
        {
          message:
            "withoutAccess + withoutConsent + expiredRelationship + groupWithoutUser + expiringRelationship must not exceed count",
        },
      )
      .optional(),
    /** The users and apps named in the ready line. */
    defaults: z
      .object({
        user: z.string().optional(),
        mfaUser: z.string().optional(),
        confidentialApp: guid.optional(),
        certificateApp: guid.optional(),
        publicApp: guid.optional(),
        /** The vault served at the emulator's own origin (default: the first). */
        vault: z.string().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type SeedInput = z.input<typeof seedSchema>;
export type Seed = z.output<typeof seedSchema>;
export type SeedSettings = Seed["settings"];
export type SeedTenant = Seed["tenants"][number];
export type SeedResource = Seed["resources"][number];
export type SeedApplication = Seed["applications"][number];
export type SeedUser = Seed["users"][number];
export type SeedVault = Seed["vaults"][number];
export type SeedGroup = Seed["groups"][number];
export type SeedDelegatedAdminRelationship = Seed["delegatedAdminRelationships"][number];
export type RelationshipStatus = z.infer<typeof relationshipStatus>;
export type VaultPermission = z.infer<typeof vaultPermission>;

/** A seed file or object that does not fit the schema. The message names every offending key. */
export class SeedError extends Error {
  override name = "SeedError";
}

function where(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) =>
      typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
    "",
  );
}

/** Validates a seed object; throws SeedError naming each offending key (`applications[1].clientId: …`). */
export function parseSeed(input: unknown, source = "seed"): Seed {
  const result = seedSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = where(i.path) || "(root)";
      const message =
        i.code === "unrecognized_keys"
          ? `unknown key(s) ${i.keys.map((k) => `'${k}'`).join(", ")}`
          : i.message;
      return `  ${key}: ${message}`;
    });
    throw new SeedError(`${source} is not a valid seed:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Reads and validates a JSON seed file. */
export function loadSeedFile(path: string): Seed {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new SeedError(`cannot read seed file ${path}: ${(cause as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SeedError(`seed file ${path} is not valid JSON: ${(cause as Error).message}`);
  }
  return parseSeed(json, `seed file ${path}`);
}

const partner = "475cad49-99e1-453e-8ff2-ae87738d9b23";
const graphDelegated = [
  "User.Read",
  "User.Read.All",
  "Directory.Read.All",
  "Directory.AccessAsUser.All",
  "Mail.Read",
  "Organization.Read.All",
  "Group.Read.All",
  "GroupMember.Read.All",
  "Application.Read.All",
  "Application.ReadWrite.All",
  "DelegatedPermissionGrant.ReadWrite.All",
  "DelegatedAdminRelationship.Read.All",
  "DelegatedAdminRelationship.ReadWrite.All",
];
const partnerApps = {
  homeTenant: partner,
  installedIn: [
    partner,
    "fabrikam.onmicrosoft.com",
    "northwind.onmicrosoft.com",
    "adatum.onmicrosoft.com",
  ],
};
const standardPermissions = [
  { resource: "https://api.partnercenter.microsoft.com", delegated: ["user_impersonation"] },
  {
    resource: "https://graph.microsoft.com",
    // DelegatedAdminRelationship.Read.All is consented in the partner's own tenant only: it
    // reads the partner's GDAP relationships, and means nothing in a customer tenant.
    delegated: [
      "User.Read",
      "Directory.Read.All",
      "Directory.AccessAsUser.All",
      "DelegatedAdminRelationship.Read.All",
    ],
    application: ["Directory.Read.All", "Organization.Read.All"],
  },
  {
    resource: "https://outlook.office365.com",
    delegated: ["Exchange.Manage"],
    application: ["Exchange.ManageAsApp"],
  },
  { resource: "https://management.azure.com", delegated: ["user_impersonation"] },
  { resource: "https://vault.azure.net", delegated: ["user_impersonation"] },
];

/** A Microsoft first-party public client: no home tenant, installed everywhere, loopback and native redirects. */
const firstParty = {
  publicClient: true,
  redirectUris: [
    "http://localhost/",
    "https://login.microsoftonline.com/common/oauth2/nativeclient",
  ],
  permissions: standardPermissions,
};

/** The embedded default directory: a partner, three customers, an unrelated tenant, three apps, users. */
export const defaultSeed: SeedInput = {
  tenants: [
    {
      id: partner,
      displayName: "Contoso Partner",
      domains: ["contoso-partner.onmicrosoft.com"],
      subscriptions: [
        { id: "6a1e2f4c-9b0d-4e8a-8f3b-2c7d5e9a1b04", displayName: "Contoso Partner Production" },
      ],
    },
    {
      id: "f04fdd7c-0a2c-4389-bece-c30c32330d96",
      displayName: "Fabrikam",
      domains: ["fabrikam.onmicrosoft.com"],
      subscriptions: [
        { id: "0b8c3d2e-5f6a-4b7c-9d8e-1f2a3b4c5d6e", displayName: "Fabrikam Pay-As-You-Go" },
      ],
    },
    {
      id: "4809d45b-9767-4264-843c-a728d6cfcff5",
      displayName: "Northwind Traders",
      domains: ["northwind.onmicrosoft.com"],
    },
    {
      id: "cf9057ca-84de-4f7a-afcf-126c7354bb53",
      displayName: "Adatum",
      domains: ["adatum.onmicrosoft.com"],
    },
    {
      id: "370b55dc-eb37-4fa7-a9c6-90e74cc845ed",
      displayName: "Tailspin Toys",
      domains: ["tailspin.onmicrosoft.com"],
    },
  ],
  resources: [
    {
      appId: "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
      displayName: "Microsoft Partner Center",
      identifierUris: ["https://api.partnercenter.microsoft.com"],
      delegatedScopes: ["user_impersonation"],
    },
    {
      appId: "00000003-0000-0000-c000-000000000000",
      displayName: "Microsoft Graph",
      identifierUris: ["https://graph.microsoft.com"],
      delegatedScopes: graphDelegated,
      appRoles: [
        "Directory.Read.All",
        "Organization.Read.All",
        "User.Read.All",
        "Group.Read.All",
        "Application.Read.All",
        "Application.ReadWrite.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        "DelegatedAdminRelationship.Read.All",
        "DelegatedAdminRelationship.ReadWrite.All",
      ],
    },
    {
      appId: "00000002-0000-0ff1-ce00-000000000000",
      displayName: "Office 365 Exchange Online",
      identifierUris: ["https://outlook.office365.com", "https://outlook.office.com"],
      delegatedScopes: ["Exchange.Manage", "EWS.AccessAsUser.All"],
      appRoles: ["Exchange.ManageAsApp", "full_access_as_app"],
    },
    {
      appId: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
      displayName: "Windows Azure Service Management API",
      identifierUris: ["https://management.azure.com", "https://management.core.windows.net"],
      delegatedScopes: ["user_impersonation"],
    },
    {
      appId: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
      displayName: "Azure Key Vault",
      identifierUris: ["https://vault.azure.net"],
      delegatedScopes: ["user_impersonation"],
    },
  ],
  applications: [
    {
      clientId: "af692826-33ec-40b1-8655-1bee077c3a4d",
      displayName: "Contoso Partner Automation",
      ...partnerApps,
      secrets: [{ value: "Emu8Q~confidential.app.secret-0000000000" }],
      redirectUris: ["http://localhost:8400/"],
      permissions: standardPermissions,
    },
    {
      clientId: "29e52b0f-1e48-45d8-a5bb-242983d6a47b",
      displayName: "Contoso Partner Automation (certificate)",
      ...partnerApps,
      certificates: [{ generated: "demo" }],
      redirectUris: ["http://localhost:8400/"],
      permissions: standardPermissions,
    },
    {
      clientId: "8041dc5f-49f9-4351-a3dd-dbc24f56f68e",
      displayName: "Contoso Partner CLI",
      ...partnerApps,
      publicClient: true,
      redirectUris: [
        "http://localhost/",
        "https://login.microsoftonline.com/common/oauth2/nativeclient",
      ],
      permissions: standardPermissions,
    },
    {
      clientId: "a0c73c16-a7e3-4564-9a95-2bdf47383716",
      displayName: "Microsoft Exchange REST API Based Powershell",
      publicClient: true,
      redirectUris: ["http://localhost/"],
      permissions: standardPermissions,
    },
    // Microsoft's first-party public clients, consented in every tenant as in Entra ID, so that
    // the tools that sign in with them (az, Connect-AzAccount, Connect-MgGraph, VS Code, Visual
    // Studio, Connect-MicrosoftTeams, Connect-SPOService, Intune's PowerShell, and partner-token
    // with no application id) work against the emulator unchanged.
    {
      clientId: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
      displayName: "Microsoft Azure CLI",
      ...firstParty,
    },
    {
      clientId: "1950a258-227b-4e31-a9cf-717495945fc2",
      displayName: "Microsoft Azure PowerShell",
      ...firstParty,
    },
    {
      clientId: "14d82eec-204b-4c2f-b7e8-296a70dab67e",
      displayName: "Microsoft Graph Command Line Tools",
      ...firstParty,
    },
    {
      clientId: "aebc6443-996d-45c2-90f0-388ff96faa56",
      displayName: "Visual Studio Code",
      ...firstParty,
    },
    {
      clientId: "04f0c124-f2bc-4f59-8241-bf6df9866bbd",
      displayName: "Visual Studio",
      ...firstParty,
    },
    {
      clientId: "12128f48-ec9e-42f0-b203-ea49fb6af367",
      displayName: "Microsoft Teams PowerShell",
      ...firstParty,
    },
    {
      clientId: "9bc3ab49-b65d-410a-85ad-de819febfddc",
      displayName: "SharePoint Online Management Shell",
      ...firstParty,
    },
    {
      clientId: "d1ddf0e4-d672-4dae-b554-9d5bdfd93547",
      displayName: "Microsoft Intune PowerShell",
      ...firstParty,
    },
  ],
  users: [
    {
      username: "admin@contoso-partner.onmicrosoft.com",
      password: "Emulator-Passw0rd!",
      displayName: "Contoso Partner Admin",
      objectId: "1524eef1-f150-44b3-b48a-44a68e0de1d1",
      tenant: partner,
      partnerRoles: ["AdminAgent"],
    },
    {
      username: "mfa.admin@contoso-partner.onmicrosoft.com",
      password: "Emulator-Mfa-Passw0rd!",
      displayName: "Contoso MFA Admin",
      objectId: "dba37d05-606c-4c1b-9636-4129b1b17bf7",
      tenant: partner,
      mfaRequired: true,
      mfaCode: "246810",
      partnerRoles: ["AdminAgent"],
    },
    {
      username: "sales@contoso-partner.onmicrosoft.com",
      password: "Emulator-Sales-Passw0rd!",
      displayName: "Contoso Sales (no agent role)",
      objectId: "ddd7765b-b62a-4663-9da4-d6b1ddae6de0",
      tenant: partner,
    },
    {
      username: "admin@fabrikam.onmicrosoft.com",
      password: "Emulator-Fabrikam-Passw0rd!",
      displayName: "Fabrikam Admin",
      objectId: "862ee804-e6e3-4b89-bd64-88124b33e1f5",
      tenant: "fabrikam.onmicrosoft.com",
    },
  ],
  relationships: [
    { partner, customer: "fabrikam.onmicrosoft.com" },
    { partner, customer: "northwind.onmicrosoft.com" },
    { partner, customer: "adatum.onmicrosoft.com" },
  ],
  vaults: [
    {
      name: "contoso-partner-kv",
      tenant: partner,
      access: [
        {
          principal: "af692826-33ec-40b1-8655-1bee077c3a4d",
          permissions: ["get", "list", "set", "delete", "recover", "purge"],
        },
        {
          principal: "admin@contoso-partner.onmicrosoft.com",
          permissions: ["get", "list", "set", "delete", "recover", "purge"],
        },
      ],
    },
  ],
  defaults: {
    user: "admin@contoso-partner.onmicrosoft.com",
    mfaUser: "mfa.admin@contoso-partner.onmicrosoft.com",
    confidentialApp: "af692826-33ec-40b1-8655-1bee077c3a4d",
    certificateApp: "29e52b0f-1e48-45d8-a5bb-242983d6a47b",
    publicApp: "8041dc5f-49f9-4351-a3dd-dbc24f56f68e",
  },
};
