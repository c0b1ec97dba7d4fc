/**
 * Graph's `applications` in the caller's tenant: list (`$filter=displayName eq '…'`, `appId eq`),
 * create, get and update by object id or `(appId='…')`, delete, `addPassword` (the secret's text
 * answered once, with its `hint`) and `removePassword`; `keyCredentials` set by PATCH, an entry
 * with `key: null` keeping the certificate of that `keyId`.
 *
 * An app registration is the directory's `Application` (what the token endpoint authenticates)
 * plus what Graph says about it (object id, credential ids, dates, redirect URIs by platform,
 * `requiredResourceAccess`), kept here. Every change is written through to the `Application`, so
 * a removed secret is refused at once (AADSTS7000215), an expired one too (AADSTS7000222), and a
 * redirect URI not registered gives AADSTS50011. With `settings.replicationDelayMs`, a new app or
 * credential reaches the token endpoint only that long after Graph answered, as Entra's
 * replication makes clients wait.
 */
import { createHash, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import { appRoleId } from "../consent.ts";
import type { Application, Tenant } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import { CONSENT_ROLES } from "../gdap.ts";
import type { Ctx } from "../http.ts";
import { requireDirectoryRole, requirePermission, type GraphCaller } from "./auth.ts";
import { clip, graphErrors, isoDate, sendCollection, sendEntity, sendGraph } from "./odata.ts";

const READ = {
  delegated: [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.AccessAsUser.All",
  ],
  application: ["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"],
};
const WRITE = {
  delegated: ["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
  application: ["Application.ReadWrite.All"],
};

const TYPE = "microsoft.graph.application";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Bounds: registrations per tenant, credentials per app, URIs per platform. */
const MAX_APPS_PER_TENANT = 500;
const MAX_CREDENTIALS = 32;
const MAX_URIS = 256;
const MAX_RESOURCE_ACCESS = 64;
const DAY_MS = 86_400_000;
/** addPassword without an end date: two years, as Graph does. */
const DEFAULT_SECRET_MS = 2 * 365 * DAY_MS;

interface Password {
  keyId: string;
  displayName: string | null;
  hint: string;
  startMs: number;
  endMs: number;
  value: string;
  /** When the token endpoint learns of it (replication). */
  visibleAtMs: number;
}

interface Key {
  keyId: string;
  displayName: string | null;
  startMs: number;
  endMs: number;
  pem: string;
  thumbprint: string;
  visibleAtMs: number;
}

interface ResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: "Scope" | "Role" }[];
}

interface Registration {
  id: string;
  tenantId: string;
  createdMs: number;
  identifierUris: string[];
  web: string[];
  publicClient: string[];
  isFallbackPublicClient: boolean | null;
  requiredResourceAccess: ResourceAccess[];
  passwords: Password[];
  keys: Key[];
  /** The directory's app: what the token endpoint sees. */
  app: Application;
  /** Whether the token endpoint knows the app yet, and from when it may (replication). */
  published: boolean;
  visibleAtMs: number;
}

/** The registrations of each running emulator, by lower-cased appId. */
const registries = new WeakMap<Emulator, Map<string, Registration>>();

const stable = (text: string) => {
  const h = createHash("sha256").update(text).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-9${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

function thumbprintOf(pem: string): string {
  return createHash("sha1").update(new X509Certificate(pem).raw).digest("hex").toUpperCase();
}

const isLoopback = (u: URL) =>
  u.protocol === "http:" &&
  (u.hostname === "localhost" || u.hostname === "127.0.0.1" || u.hostname === "[::1]");

/** The registrations of the emulator, the seed's own apps taken in on first use. */
function registry(emu: Emulator): Map<string, Registration> {
  let reg = registries.get(emu);
  if (reg) return reg;
  reg = new Map();
  registries.set(emu, reg);
  const start = emu.directory.startMs;
  for (const app of emu.directory.applications.values()) {
    if (!app.homeTenant) continue;
    const uris = app.redirectUris;
    reg.set(app.clientId.toLowerCase(), {
      id: stable(`application|${app.clientId}`),
      tenantId: app.homeTenant.id,
      createdMs: start,
      identifierUris: [],
      web: app.publicClient ? [] : [...uris],
      publicClient: app.publicClient ? [...uris] : [],
      isFallbackPublicClient: app.publicClient ? true : null,
      requiredResourceAccess: app.permissions.flatMap((p) => {
        const r = emu.directory.resource(p.resource);
        if (!r) return [];
        return [
          {
            resourceAppId: r.appId,
            resourceAccess: [
              ...p.delegated.map((s) => ({
                id: appRoleId(`${r.appId}/scope`, s),
                type: "Scope" as const,
              })),
              ...p.application.map((s) => ({ id: appRoleId(r.appId, s), type: "Role" as const })),
            ],
          },
        ];
      }),
      passwords: app.secrets.map((s, i) => ({
        keyId: stable(`password|${app.clientId}|${i}`),
        displayName: null,
        hint: s.value.slice(0, 3),
        startMs: start,
        endMs: s.expiresOn ? Date.parse(s.expiresOn) : start + DEFAULT_SECRET_MS,
        value: s.value,
        visibleAtMs: 0,
      })),
      keys: app.certificates.map((pem, i) => {
        const x = new X509Certificate(pem);
        return {
          keyId: stable(`key|${app.clientId}|${i}`),
          displayName: x.subject.split("\n")[0] ?? null,
          startMs: Date.parse(x.validFrom),
          endMs: Date.parse(x.validTo),
          pem,
          thumbprint: thumbprintOf(pem),
          visibleAtMs: 0,
        };
      }),
      app,
      published: true,
      visibleAtMs: 0,
    });
  }
  return reg;
}

/** Writes the registration through to the directory's app (what is replicated by now). */
function publish(emu: Emulator, r: Registration): void {
  const now = emu.nowMs();
  const app = r.app;
  app.secrets = r.passwords
    .filter((p) => p.visibleAtMs <= now)
    .map((p) => ({ value: p.value, expiresOn: new Date(p.endMs).toISOString() }));
  app.certificates = r.keys.filter((k) => k.visibleAtMs <= now).map((k) => k.pem);
  app.redirectUris = [...r.web, ...r.publicClient];
  app.publicClient = r.isFallbackPublicClient === true;
  app.permissions = r.requiredResourceAccess.flatMap((ra) => {
    const resource = emu.directory.resource(ra.resourceAppId);
    if (!resource) return [];
    const name = (a: { id: string; type: string }) =>
      a.type === "Scope"
        ? resource.delegatedScopes.find((s) => appRoleId(`${resource.appId}/scope`, s) === a.id)
        : resource.appRoles.find((s) => appRoleId(resource.appId, s) === a.id);
    return [
      {
        resource: resource.appId,
        delegated: ra.resourceAccess
          .filter((a) => a.type === "Scope")
          .flatMap((a) => name(a) ?? []),
        application: ra.resourceAccess
          .filter((a) => a.type === "Role")
          .flatMap((a) => name(a) ?? []),
      },
    ];
  });
  if (r.published) return;
  if (r.visibleAtMs > now) return;
  emu.directory.applications.set(app.clientId.toLowerCase(), app);
  r.published = true;
}

/** Publishes now, and again once the replication delay has passed (a timer that holds nothing open). */
function replicate(emu: Emulator, r: Registration): void {
  publish(emu, r);
  const delay = emu.settings.replicationDelayMs;
  if (delay > 0) setTimeout(() => publish(emu, r), delay + 5).unref();
}

function inTenant(emu: Emulator, tenant: Tenant): Registration[] {
  return [...registry(emu).values()].filter((r) => r.tenantId === tenant.id);
}

/** A registration of the caller's tenant by object id or `appId='…'`; 404 otherwise. */
function registrationOf(emu: Emulator, caller: GraphCaller, key: string): Registration {
  const byApp = /^appId='([^']*)'$/i.exec(key);
  const wanted = (byApp ? byApp[1]! : key).toLowerCase();
  const r = byApp
    ? registry(emu).get(wanted)
    : inTenant(emu, caller.tenant).find((x) => x.id === wanted);
  if (!r || r.tenantId !== caller.tenant.id) throw graphErrors.notFound(byApp ? byApp[1]! : key);
  return r;
}

export function applicationJson(emu: Emulator, r: Registration): Record<string, unknown> {
  const tenant = emu.directory.tenant(r.tenantId);
  return {
    id: r.id,
    deletedDateTime: null,
    appId: r.app.clientId,
    createdDateTime: isoDate(r.createdMs),
    description: null,
    displayName: r.app.displayName,
    identifierUris: r.identifierUris,
    isFallbackPublicClient: r.isFallbackPublicClient,
    publisherDomain: tenant?.domains[0] ?? null,
    signInAudience: r.app.signInAudience,
    tags: [],
    api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [] },
    appRoles: [],
    publicClient: { redirectUris: r.publicClient },
    spa: { redirectUris: [] },
    web: {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: r.web,
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
    },
    requiredResourceAccess: r.requiredResourceAccess,
    passwordCredentials: r.passwords.map((p) => passwordJson(p)),
    keyCredentials: r.keys.map((k) => ({
      customKeyIdentifier: k.thumbprint,
      displayName: k.displayName,
      endDateTime: isoDate(k.endMs),
      key: null,
      keyId: k.keyId,
      startDateTime: isoDate(k.startMs),
      type: "AsymmetricX509Cert",
      usage: "Verify",
    })),
  };
}

function passwordJson(p: Password, withSecret = false): Record<string, unknown> {
  return {
    customKeyIdentifier: null,
    displayName: p.displayName,
    endDateTime: isoDate(p.endMs),
    hint: p.hint,
    keyId: p.keyId,
    secretText: withSecret ? p.value : null,
    startDateTime: isoDate(p.startMs),
  };
}

const invalid = (property: string, why: string) =>
  graphErrors.badRequest(
    `Invalid value specified for property '${property}' of resource 'Application': ${why}`,
    "Request_BadRequest",
  );

function objectBody(ctx: Ctx, allowed: readonly string[], type: string): Record<string, unknown> {
  const json = ctx.json;
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw graphErrors.badRequest("The request body must be a JSON object.");
  const obj = json as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (k !== "@odata.type" && !allowed.includes(k))
      throw graphErrors.badRequest(
        `Property '${clip(k, 60)}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
      );
  return obj;
}

const APP_PROPERTIES = [
  "displayName",
  "signInAudience",
  "web",
  "publicClient",
  "spa",
  "requiredResourceAccess",
  "identifierUris",
  "isFallbackPublicClient",
  "keyCredentials",
  "passwordCredentials",
  "description",
  "notes",
  "tags",
] as const;

function displayNameOf(v: unknown): string {
  if (typeof v !== "string" || v.trim() === "" || v.length > 256)
    throw invalid("displayName", "a name of 1 to 256 characters is required.");
  return v;
}

function urisOf(v: unknown, property: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_URIS)
    throw invalid(property, `an array of at most ${MAX_URIS} URIs is expected.`);
  return v.map((u) => {
    if (typeof u !== "string" || u.length > 256 || !URL.canParse(u))
      throw invalid(property, `'${clip(String(u), 80)}' is not an absolute URI.`);
    const url = new URL(u);
    if (url.protocol !== "https:" && !isLoopback(url) && !/^[a-z][a-z0-9+.-]*:$/.test(url.protocol))
      throw invalid(property, `'${clip(u, 80)}' must use https or be http://localhost.`);
    if (url.protocol === "http:" && !isLoopback(url))
      throw invalid(property, `'${clip(u, 80)}': http is allowed for localhost only.`);
    return u;
  });
}

function platformUris(v: unknown, property: string): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalid(property, "an object is expected.");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!["redirectUris", "homePageUrl", "logoutUrl", "implicitGrantSettings"].includes(k))
      throw invalid(property, `'${clip(k, 40)}' is not a property the emulator keeps.`);
  return o["redirectUris"] === undefined
    ? []
    : urisOf(o["redirectUris"], `${property}.redirectUris`);
}

function resourceAccessOf(emu: Emulator, v: unknown): ResourceAccess[] {
  const P = "requiredResourceAccess";
  if (!Array.isArray(v) || v.length > MAX_RESOURCE_ACCESS)
    throw invalid(P, `an array of at most ${MAX_RESOURCE_ACCESS} entries is expected.`);
  return v.map((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e))
      throw invalid(P, `entry ${i} is not an object.`);
    const o = e as Record<string, unknown>;
    const resourceAppId = o["resourceAppId"];
    const access = o["resourceAccess"];
    if (typeof resourceAppId !== "string" || !GUID.test(resourceAppId))
      throw invalid(P, `entry ${i}: resourceAppId must be a GUID.`);
    if (!Array.isArray(access) || access.length > 400)
      throw invalid(P, `entry ${i}: resourceAccess must be an array.`);
    const resource = emu.directory.resource(resourceAppId);
    return {
      resourceAppId: resourceAppId.toLowerCase(),
      resourceAccess: access.map((a, j) => {
        const x = (a ?? {}) as Record<string, unknown>;
        const id = x["id"];
        const type = x["type"];
        if (typeof id !== "string" || !GUID.test(id) || (type !== "Scope" && type !== "Role"))
          throw invalid(P, `entry ${i}, access ${j}: {id: GUID, type: 'Scope' | 'Role'} expected.`);
        if (resource) {
          const known =
            type === "Scope"
              ? resource.delegatedScopes.some(
                  (s) => appRoleId(`${resource.appId}/scope`, s) === id.toLowerCase(),
                )
              : resource.appRoles.some((s) => appRoleId(resource.appId, s) === id.toLowerCase());
          if (!known)
            throw invalid(
              P,
              `'${resource.displayName}' has no ${type === "Scope" ? "delegated permission" : "app role"} with id '${id}'; read the ids from its service principal.`,
            );
        }
        return { id: id.toLowerCase(), type };
      }),
    };
  });
}

function dateOf(v: unknown, property: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === "string" && v.length <= 40 ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw invalid(property, "an ISO 8601 date is expected.");
  return ms;
}

/** A certificate from `key`: base64 of the DER, or of a PEM. */
function certificateOf(v: unknown): string {
  const bad = () =>
    invalid("keyCredentials", "'key' must be the base64 of an X.509 certificate (DER or PEM).");
  if (typeof v !== "string" || v.length > 64 * 1024) throw bad();
  const bytes = Buffer.from(v, "base64");
  try {
    const text = bytes.toString("utf8");
    const x = text.includes("-----BEGIN CERTIFICATE-----")
      ? new X509Certificate(text)
      : new X509Certificate(bytes);
    return x.toString();
  } catch {
    throw bad();
  }
}

function keysOf(emu: Emulator, v: unknown, current: Key[]): Key[] {
  if (!Array.isArray(v) || v.length > MAX_CREDENTIALS)
    throw invalid("keyCredentials", `an array of at most ${MAX_CREDENTIALS} entries is expected.`);
  const now = emu.nowMs();
  const visibleAtMs = now + emu.settings.replicationDelayMs;
  const seen = new Set<string>();
  return v.map((e, i) => {
    if (e === null || typeof e !== "object" || Array.isArray(e))
      throw invalid("keyCredentials", `entry ${i} is not an object.`);
    const o = e as Record<string, unknown>;
    const keyId = typeof o["keyId"] === "string" ? o["keyId"].toLowerCase() : undefined;
    if (keyId !== undefined && !GUID.test(keyId))
      throw invalid("keyCredentials", `entry ${i}: keyId must be a GUID.`);
    if (keyId && seen.has(keyId))
      throw invalid("keyCredentials", `entry ${i}: keyId '${keyId}' is listed twice.`);
    if (keyId) seen.add(keyId);
    const kept = keyId ? current.find((k) => k.keyId === keyId) : undefined;
    if (o["key"] === null || o["key"] === undefined) {
      if (!kept)
        throw invalid(
          "keyCredentials",
          `entry ${i}: 'key' is null but no certificate has keyId '${keyId ?? ""}' (null keeps an existing one).`,
        );
      return kept;
    }
    if (o["type"] !== "AsymmetricX509Cert" || o["usage"] !== "Verify")
      throw invalid(
        "keyCredentials",
        `entry ${i}: type 'AsymmetricX509Cert' and usage 'Verify' are required.`,
      );
    const pem = certificateOf(o["key"]);
    const x = new X509Certificate(pem);
    const startMs =
      dateOf(o["startDateTime"], "keyCredentials.startDateTime") ?? Date.parse(x.validFrom);
    const endMs = dateOf(o["endDateTime"], "keyCredentials.endDateTime") ?? Date.parse(x.validTo);
    const displayName =
      typeof o["displayName"] === "string"
        ? clip(o["displayName"], 256)
        : (x.subject.split("\n")[0] ?? null);
    return {
      keyId: keyId ?? randomUUID(),
      displayName,
      startMs,
      endMs,
      pem,
      thumbprint: thumbprintOf(pem),
      visibleAtMs,
    };
  });
}

/** Applies a POST or PATCH body's properties to the registration. */
function apply(emu: Emulator, r: Registration, b: Record<string, unknown>): void {
  if (b["passwordCredentials"] !== undefined)
    throw graphErrors.badRequest(
      "passwordCredentials cannot be set here: add a secret with POST /applications/{id}/addPassword and remove one with removePassword.",
      "Request_BadRequest",
    );
  if (b["displayName"] !== undefined) r.app.displayName = displayNameOf(b["displayName"]);
  if (b["signInAudience"] !== undefined) {
    const a = b["signInAudience"];
    if (a !== "AzureADMyOrg" && a !== "AzureADMultipleOrgs")
      throw invalid(
        "signInAudience",
        "the emulator serves 'AzureADMyOrg' and 'AzureADMultipleOrgs'.",
      );
    r.app.signInAudience = a;
  }
  if (b["web"] !== undefined) r.web = platformUris(b["web"], "web");
  if (b["publicClient"] !== undefined)
    r.publicClient = platformUris(b["publicClient"], "publicClient");
  if (b["spa"] !== undefined && platformUris(b["spa"], "spa").length > 0)
    throw invalid("spa", "the emulator does not serve single-page applications.");
  if (b["identifierUris"] !== undefined)
    r.identifierUris = urisOf(b["identifierUris"], "identifierUris");
  if (b["isFallbackPublicClient"] !== undefined) {
    const v = b["isFallbackPublicClient"];
    if (v !== null && typeof v !== "boolean")
      throw invalid("isFallbackPublicClient", "true, false or null.");
    r.isFallbackPublicClient = v;
  }
  if (b["requiredResourceAccess"] !== undefined)
    r.requiredResourceAccess = resourceAccessOf(emu, b["requiredResourceAccess"]);
  if (b["keyCredentials"] !== undefined) r.keys = keysOf(emu, b["keyCredentials"], r.keys);
}

/** GET /applications */
export function listApplications(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requirePermission(caller, READ);
  sendCollection(emu, ctx, {
    context: "applications",
    type: TYPE,
    items: inTenant(emu, caller.tenant),
    toJson: (r) => applicationJson(emu, r),
    filters: {
      appId: (r) => r.app.clientId,
      displayName: (r) => r.app.displayName,
      id: (r) => r.id,
      signInAudience: (r) => r.app.signInAudience,
    },
    maxTop: 999,
    defaultTop: 100,
  });
}

/** GET /applications/{id} and /applications(appId='…') */
export function getApplication(emu: Emulator, ctx: Ctx, caller: GraphCaller, key: string): void {
  requirePermission(caller, READ);
  sendEntity(
    emu,
    ctx,
    "applications",
    TYPE,
    applicationJson(emu, registrationOf(emu, caller, key)),
  );
}

function requireWrite(emu: Emulator, caller: GraphCaller): void {
  requirePermission(caller, WRITE);
  requireDirectoryRole(emu, caller, CONSENT_ROLES);
}

/** POST /applications */
export function createApplication(emu: Emulator, ctx: Ctx, caller: GraphCaller): void {
  requireWrite(emu, caller);
  const b = objectBody(ctx, APP_PROPERTIES, TYPE);
  const displayName = displayNameOf(b["displayName"]);
  if (inTenant(emu, caller.tenant).length >= MAX_APPS_PER_TENANT)
    throw graphErrors.badRequest(
      `The directory object quota limit for the tenant has been exceeded (the emulator keeps ${MAX_APPS_PER_TENANT} applications).`,
      "Directory_QuotaExceeded",
    );
  const now = emu.nowMs();
  const appId = randomUUID();
  const app: Application = {
    clientId: appId,
    displayName,
    homeTenant: caller.tenant,
    signInAudience: "AzureADMyOrg",
    installedIn: new Set<string>(),
    publicClient: false,
    secrets: [],
    certificates: [],
    redirectUris: [],
    permissions: [],
  };
  const r: Registration = {
    id: randomUUID(),
    tenantId: caller.tenant.id,
    createdMs: now,
    identifierUris: [],
    web: [],
    publicClient: [],
    isFallbackPublicClient: null,
    requiredResourceAccess: [],
    passwords: [],
    keys: [],
    app,
    published: false,
    visibleAtMs: now + emu.settings.replicationDelayMs,
  };
  apply(emu, r, b);
  registry(emu).set(appId.toLowerCase(), r);
  replicate(emu, r);
  ctx.note["application"] = appId;
  sendEntity(emu, ctx, "applications", TYPE, applicationJson(emu, r), 201);
}

/** PATCH /applications/{id} */
export function updateApplication(emu: Emulator, ctx: Ctx, caller: GraphCaller, key: string): void {
  requireWrite(emu, caller);
  const b = objectBody(ctx, APP_PROPERTIES, TYPE);
  const r = registrationOf(emu, caller, key);
  // Validated on a copy first: a refused PATCH changes nothing.
  const draft: Registration = { ...r, app: { ...r.app } };
  apply(emu, draft, b);
  Object.assign(r.app, {
    displayName: draft.app.displayName,
    signInAudience: draft.app.signInAudience,
  });
  Object.assign(r, { ...draft, app: r.app });
  replicate(emu, r);
  sendGraph(emu, ctx, 204);
}

/** DELETE /applications/{id}: the registration and what the token endpoint knew of it. */
export function deleteApplication(emu: Emulator, ctx: Ctx, caller: GraphCaller, key: string): void {
  requireWrite(emu, caller);
  const r = registrationOf(emu, caller, key);
  registry(emu).delete(r.app.clientId.toLowerCase());
  if (emu.directory.applications.get(r.app.clientId.toLowerCase()) === r.app)
    emu.directory.applications.delete(r.app.clientId.toLowerCase());
  r.app.secrets = [];
  r.app.certificates = [];
  sendGraph(emu, ctx, 204);
}

/** A new secret as Entra makes them: 40 characters, `Q~` after the three of the hint. */
function newSecret(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const tail = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-";
  const bytes = randomBytes(40);
  let s = "";
  for (let i = 0; i < 3; i++) s += alphabet[bytes[i]! % alphabet.length];
  s += `${alphabet[(bytes[3]! % 10) + 52]}Q~`;
  for (let i = 6; i < 40; i++) s += tail[bytes[i]! % tail.length];
  return s;
}

/** POST /applications/{id}/addPassword {passwordCredential: {displayName, startDateTime, endDateTime}} */
export function addPassword(emu: Emulator, ctx: Ctx, caller: GraphCaller, key: string): void {
  requireWrite(emu, caller);
  const b = objectBody(ctx, ["passwordCredential"], TYPE);
  const r = registrationOf(emu, caller, key);
  const pc = b["passwordCredential"] ?? {};
  if (pc === null || typeof pc !== "object" || Array.isArray(pc))
    throw graphErrors.badRequest("passwordCredential must be an object.", "Request_BadRequest");
  const o = pc as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (
      ![
        "displayName",
        "startDateTime",
        "endDateTime",
        "customKeyIdentifier",
        "keyId",
        "hint",
        "secretText",
      ].includes(k)
    )
      throw graphErrors.badRequest(
        `Property '${clip(k, 60)}' does not exist on type 'microsoft.graph.passwordCredential'.`,
      );
  if (r.passwords.length >= MAX_CREDENTIALS)
    throw graphErrors.badRequest(
      `The application has the most secrets the emulator keeps (${MAX_CREDENTIALS}); remove one first.`,
      "TooManyAppPasswords",
    );
  const now = emu.nowMs();
  const startMs = dateOf(o["startDateTime"], "startDateTime") ?? now;
  const endMs = dateOf(o["endDateTime"], "endDateTime") ?? startMs + DEFAULT_SECRET_MS;
  if (endMs <= startMs)
    throw graphErrors.badRequest("endDateTime must be after startDateTime.", "Request_BadRequest");
  const displayName = o["displayName"];
  if (displayName !== undefined && displayName !== null && typeof displayName !== "string")
    throw graphErrors.badRequest("displayName must be a string.", "Request_BadRequest");
  const value = newSecret();
  const p: Password = {
    keyId: randomUUID(),
    displayName: typeof displayName === "string" ? clip(displayName, 256) : null,
    hint: value.slice(0, 3),
    startMs,
    endMs,
    value,
    visibleAtMs: now + emu.settings.replicationDelayMs,
  };
  r.passwords.push(p);
  replicate(emu, r);
  ctx.note["keyId"] = p.keyId;
  sendGraph(emu, ctx, 200, {
    "@odata.context": `${emu.originOf(ctx)}/v1.0/$metadata#microsoft.graph.passwordCredential`,
    ...passwordJson(p, true),
  });
}

/** POST /applications/{id}/removePassword {keyId} */
export function removePassword(emu: Emulator, ctx: Ctx, caller: GraphCaller, key: string): void {
  requireWrite(emu, caller);
  const b = objectBody(ctx, ["keyId"], TYPE);
  const r = registrationOf(emu, caller, key);
  const keyId = b["keyId"];
  if (typeof keyId !== "string" || !GUID.test(keyId))
    throw graphErrors.badRequest("keyId must be a GUID.", "Request_BadRequest");
  const i = r.passwords.findIndex((p) => p.keyId === keyId.toLowerCase());
  if (i < 0)
    throw graphErrors.badRequest(
      `No password credential with keyId '${keyId}' was found on the application.`,
      "Request_ResourceNotFound",
    );
  r.passwords.splice(i, 1);
  replicate(emu, r);
  sendGraph(emu, ctx, 204);
}
