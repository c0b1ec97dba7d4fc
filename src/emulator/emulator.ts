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

export const MULTI_TENANT = new Set(["organizations", "common", "consumers"]);

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
}

/**
 * The last `capacity` requests, oldest first. A ring: the log is written on every request, so
 * once full it must not shift ten thousand entries to drop the oldest one.
 */
export class RequestLog {
  readonly #entries: (RequestLogEntry | undefined)[];
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#entries = new Array<RequestLogEntry | undefined>(capacity);
  }

  push(entry: RequestLogEntry): void {
    this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % this.#entries.length;
    if (this.#size < this.#entries.length) this.#size++;
  }

  list(): RequestLogEntry[] {
    const start = (this.#next - this.#size + this.#entries.length) % this.#entries.length;
    const out: RequestLogEntry[] = [];
    for (let i = 0; i < this.#size; i++)
      out.push(this.#entries[(start + i) % this.#entries.length]!);
    return out;
  }

  clear(): void {
    this.#entries.fill(undefined);
    this.#next = 0;
    this.#size = 0;
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

export class Emulator implements Issuer {
  url = "";
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

  /** The application, which must exist and (for a specific tenant) be installed there: else AADSTS700016. */
  appIn(clientId: string, tenant: Tenant | null, tenantKey: string): Application {
    const app = this.directory.application(clientId);
    if (!app || (tenant && !this.directory.isInstalled(app, tenant)))
      throw errors.appNotFound(clientId, tenant?.id ?? tenantKey);
    return app;
  }

  /** The tenant a user's token is issued in: the one named, or their home tenant for organizations/common. */
  userTenant(user: User, tenant: Tenant | null, app: Application): Tenant {
    const target = tenant ?? user.home;
    if (!this.directory.canAccess(user, target))
      throw errors.userNotInTenant(user.username, target.domains[0] ?? target.id);
    if (!this.directory.isInstalled(app, target)) throw errors.appNotFound(app.clientId, target.id);
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
