/**
 * The emulator's state and the decisions shared by its endpoints: which tenant a path names,
 * who may sign in where, the clock, the stores, the faults and the request log.
 */
import { Clock } from "./clock.ts";
import type { Application, Directory, Tenant, User } from "./directory.ts";
import { errors } from "./errors.ts";
import type { SigningKey } from "./jwt.ts";
import type { SeedSettings } from "./seed.ts";
import { Store, type Authentication } from "./store.ts";
import type { Issuer } from "./tokens.ts";
import type { Ctx } from "./http.ts";
import { serviceOfHost } from "./services.ts";

export const MULTI_TENANT = new Set(["organizations", "common", "consumers"]);

/** A multi-tenant app outside its home tenant: without a service principal, consent is missing. */
export function isMultiTenant(app: Application, tenant: Tenant): boolean {
  return app.signInAudience === "AzureADMultipleOrgs" && app.homeTenant?.id !== tenant.id;
}

export interface Fault {
  path: string;
  method?: string;
  count: number;
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  drop?: boolean;
  malformed?: boolean;
}

export interface RequestLogEntry {
  time: string;
  method: string;
  /** The Host header: which service name the client used (under --impersonate). */
  host?: string;
  path: string;
  query: Record<string, string>;
  status: number;
  correlationId: string;
  durationMs: number;
  userAgent: string | undefined;
  headers: Record<string, string>;
  /** Non-secret facts the handler noted: grant_type, client_id, error. */
  note: Record<string, string>;
  fault?: string;
  /** Assigned by the log: increases by one per request. */
  seq?: number;
}

export interface RequestLogPage {
  requests: RequestLogEntry[];
  /** Entries in the log now. */
  total: number;
  /** Pass as `after` for the next page; absent on the last page. */
  next?: number;
}

/**
 * The last requests, oldest first: at most `capacity` entries and `maxBytes` bytes of JSON. A
 * ring: the log is written on every request, so once full it must not shift ten thousand
 * entries to drop the oldest one. Entries carry a sequence number so that a reader can page
 * through a log that keeps moving.
 */
export class RequestLog {
  readonly #entries: (RequestLogEntry | undefined)[];
  readonly #sizes: number[];
  readonly #maxBytes: number;
  #next = 0;
  #size = 0;
  #bytes = 0;
  #seq = 0;

  constructor(capacity: number, maxBytes = 16 * 1024 * 1024) {
    this.#entries = new Array<RequestLogEntry | undefined>(capacity);
    this.#sizes = new Array<number>(capacity).fill(0);
    this.#maxBytes = maxBytes;
  }

  push(entry: RequestLogEntry): void {
    const logged = { ...entry, seq: ++this.#seq };
    const bytes = JSON.stringify(logged).length;
    const capacity = this.#entries.length;
    if (this.#size === capacity) this.#dropOldest();
    while (this.#size > 0 && this.#bytes + bytes > this.#maxBytes) this.#dropOldest();
    this.#entries[this.#next] = logged;
    this.#sizes[this.#next] = bytes;
    this.#bytes += bytes;
    this.#next = (this.#next + 1) % capacity;
    this.#size++;
  }

  #dropOldest(): void {
    const capacity = this.#entries.length;
    const oldest = (this.#next - this.#size + capacity) % capacity;
    this.#bytes -= this.#sizes[oldest]!;
    this.#entries[oldest] = undefined;
    this.#sizes[oldest] = 0;
    this.#size--;
  }

  /** Entries the log holds now. */
  get length(): number {
    return this.#size;
  }

  /** Bytes of JSON the log holds now. */
  get bytes(): number {
    return this.#bytes;
  }

  list(): RequestLogEntry[] {
    return this.page(0, this.#entries.length).requests;
  }

  /** Up to `limit` entries whose sequence number is above `after`, oldest first. */
  page(after: number, limit: number): RequestLogPage {
    const capacity = this.#entries.length;
    const start = (this.#next - this.#size + capacity) % capacity;
    const out: RequestLogEntry[] = [];
    let more = false;
    for (let i = 0; i < this.#size; i++) {
      const entry = this.#entries[(start + i) % capacity]!;
      if (entry.seq! <= after) continue;
      if (out.length === limit) {
        more = true;
        break;
      }
      out.push(entry);
    }
    const page: RequestLogPage = { requests: out, total: this.#size };
    if (more) page.next = out[out.length - 1]!.seq!;
    return page;
  }

  clear(): void {
    this.#entries.fill(undefined);
    this.#sizes.fill(0);
    this.#next = 0;
    this.#size = 0;
    this.#bytes = 0;
  }
}

/** Query and body keys whose values never enter the request log. */
const SECRET_KEYS = new Set([
  "client_secret",
  "client_assertion",
  "code",
  "code_verifier",
  "refresh_token",
  "access_token",
  "id_token",
  "password",
  "device_code",
  "otc",
  "assertion",
  "state",
  "nonce",
]);

export function redactParams(params: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = SECRET_KEYS.has(k.toLowerCase()) ? "[redacted]" : v;
  return out;
}

/** Entra's own issuer origins: what `iss` says under `--impersonate`. */
export const ENTRA_ISSUER_V2 = "https://login.microsoftonline.com";
export const ENTRA_ISSUER_V1 = "https://sts.windows.net";

export class Emulator implements Issuer {
  url = "";
  /** Answering under Microsoft's host names (`--impersonate`): Entra's issuers, Host-based URLs. */
  impersonate = false;
  readonly clock = new Clock();
  readonly store = new Store();
  readonly settings: SeedSettings;
  readonly faults: Fault[] = [];
  readonly requestLog = new RequestLog(10_000);
  readonly directory: Directory;
  readonly key: SigningKey;
  readonly autoApprove: boolean;

  constructor(directory: Directory, key: SigningKey, autoApprove: boolean) {
    this.directory = directory;
    this.key = key;
    this.autoApprove = autoApprove;
    this.settings = directory.seed.settings;
  }

  /** Origin of v2 issuers (`{origin}/{tid}/v2.0`). */
  get issuerV2Origin(): string {
    return this.impersonate ? ENTRA_ISSUER_V2 : this.url;
  }

  /** Origin of v1 issuers (`{origin}/{tid}/`). */
  get issuerV1Origin(): string {
    return this.impersonate ? ENTRA_ISSUER_V1 : this.url;
  }

  /**
   * The origin a request reached the emulator by, for the URLs its answer names: under
   * `--impersonate` the Microsoft host it asked for (login.windows.net stays login.windows.net,
   * a national cloud stays in its cloud), else the emulator's URL.
   */
  originOf(ctx: Ctx): string {
    const host = ctx.req.headers.host;
    if (this.impersonate && host && serviceOfHost(host) !== undefined)
      return `https://${host.toLowerCase()}`;
    return this.url;
  }

  nowSeconds(): number {
    return this.clock.seconds();
  }

  nowMs(): number {
    return this.clock.now().getTime();
  }

  /** The tenant a path segment names; null for organizations/common. AADSTS90002 when unknown. */
  tenantOf(key: string): Tenant | null {
    if (MULTI_TENANT.has(key.toLowerCase())) return null;
    const tenant = this.directory.tenant(key);
    if (!tenant) throw errors.tenantNotFound(key);
    return tenant;
  }

  /**
   * The application, which must exist and (for a specific tenant) be installed there: else
   * AADSTS700016. A multi-tenant app is let through to the sign-in, where a missing service
   * principal is a consent question (AADSTS65001), as in Entra.
   */
  appIn(clientId: string, tenant: Tenant | null, tenantKey: string): Application {
    const app = this.directory.application(clientId);
    if (!app || (tenant && !this.directory.isInstalled(app, tenant) && !isMultiTenant(app, tenant)))
      throw errors.appNotFound(clientId, tenant?.id ?? tenantKey);
    return app;
  }

  /**
   * The tenant a user's token is issued in: the one named, or their home tenant for
   * organizations/common. Decided from the directory model: a member, or a partner's agent held
   * by a group of an active GDAP relationship (else AADSTS50020); the app's service principal
   * there (else AADSTS65001 for a multi-tenant app, AADSTS700016 for a single-tenant one).
   */
  userTenant(user: User, tenant: Tenant | null, app: Application): Tenant {
    const target = tenant ?? user.home;
    if (!this.directory.canAccess(user, target, this.nowMs()))
      throw errors.userNotInTenant(user.username, target.domains[0] ?? target.id);
    if (!this.directory.isInstalled(app, target)) {
      if (isMultiTenant(app, target)) throw errors.consentRequired(app.clientId, app.displayName);
      throw errors.appNotFound(app.clientId, target.id);
    }
    return target;
  }

  /**
   * A sign-in of `user` now. Without `amr`, as an unattended approval does it (--auto-approve, the
   * control API): password, plus MFA for users who require it.
   */
  authenticate(
    user: User,
    amr: string[] = ["pwd", ...(user.mfaRequired ? ["mfa"] : [])],
  ): Authentication {
    return { userOid: user.objectId, username: user.username, authTime: this.nowSeconds(), amr };
  }

  defaultUser(): User | undefined {
    const name = this.directory.seed.defaults.user;
    return name ? this.directory.user(name) : [...this.directory.users.values()][0];
  }

  /** Forgets what has expired (see {@link Store.sweep}). */
  sweep(): void {
    this.store.sweep(this.nowMs(), this.settings.refreshTokenMaxInactiveDays * 86_400_000);
  }

  /** The next fault for this request, consumed. */
  takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex(
      (f) => path.startsWith(f.path) && (!f.method || f.method.toUpperCase() === method),
    );
    if (i < 0) return undefined;
    const fault = this.faults[i]!;
    if (--fault.count <= 0) this.faults.splice(i, 1);
    return fault;
  }

  logRequest(entry: RequestLogEntry): void {
    this.requestLog.push(entry);
  }
}
