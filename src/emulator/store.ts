/**
 * What the emulator remembers between requests: authorization codes, refresh tokens, device
 * codes and sign-in flows in progress. In memory only: a restart forgets them (tokens signed
 * before a restart still verify, because the signing key is kept in the data folder).
 */
import { randomBytes } from "node:crypto";

/** How a user authenticated: carried from the sign-in into every token and refresh token. */
export interface Authentication {
  userOid: string;
  username: string;
  /** Seconds since the epoch. */
  authTime: number;
  amr: string[];
}

export interface AuthorizationCode extends Authentication {
  clientId: string;
  tenantId: string;
  redirectUri: string;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  expiresAt: number;
  redeemed: boolean;
}

export interface RefreshTokenRecord extends Authentication {
  clientId: string;
  /** The tenant the token was issued in. */
  tenantId: string;
  /** Milliseconds since the epoch (emulator clock). */
  issuedAt: number;
  revoked: boolean;
}

export interface DeviceCodeRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  tenant: string;
  scope: string;
  status: "pending" | "approved" | "declined";
  authentication: Authentication | undefined;
  expiresAt: number;
  interval: number;
  lastPollAt: number | undefined;
  polls: number;
}

export interface LoginFlow {
  id: string;
  /** The authorize request's validated parameters, replayed when the sign-in completes. */
  params: Record<string, string>;
  tenantKey: string;
  kind: "authorize" | "device";
  userOid: string | undefined;
  expiresAt: number;
}

/** Opaque random values in Entra's style (a version prefix and base64url). */
export function opaque(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`;
}

const USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

export function userCode(): string {
  const bytes = randomBytes(9);
  return [...bytes].map((b) => USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length]).join("");
}

/**
 * A Map that forgets its oldest entry when full: whatever clients do, the emulator's memory stays
 * bounded. (Map iterates in insertion order, so the first key is the oldest.)
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly limit: number;

  constructor(limit: number) {
    super();
    this.limit = limit;
  }

  override set(key: K, value: V): this {
    if (this.size >= this.limit && !this.has(key)) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

/** How long an expired code is kept, so that a late client hears "expired" rather than "unknown". */
const EXPIRED_GRACE_MS = 15 * 60_000;
/** The same for refresh tokens: AADSTS700082 (inactive) for 30 days, then "unknown". */
const REFRESH_GRACE_MS = 30 * 86_400_000;

export interface StoreLimits {
  codes: number;
  refreshTokens: number;
  deviceCodes: number;
  flows: number;
  sessions: number;
}

const DEFAULT_LIMITS: StoreLimits = {
  codes: 20_000,
  refreshTokens: 50_000,
  deviceCodes: 10_000,
  flows: 10_000,
  sessions: 10_000,
};

export class Store {
  readonly codes: BoundedMap<string, AuthorizationCode>;
  readonly refreshTokens: BoundedMap<string, RefreshTokenRecord>;
  readonly deviceCodes: BoundedMap<string, DeviceCodeRecord>;
  readonly deviceCodesByUserCode: BoundedMap<string, DeviceCodeRecord>;
  readonly flows: BoundedMap<string, LoginFlow>;
  /** Browser sessions (the ESTSAUTH cookie): single sign-on until `prompt=login`. */
  readonly sessions: BoundedMap<string, Authentication & { expiresAt: number }>;

  constructor(limits: Partial<StoreLimits> = {}) {
    const l = { ...DEFAULT_LIMITS, ...limits };
    this.codes = new BoundedMap(l.codes);
    this.refreshTokens = new BoundedMap(l.refreshTokens);
    this.deviceCodes = new BoundedMap(l.deviceCodes);
    this.deviceCodesByUserCode = new BoundedMap(l.deviceCodes);
    this.flows = new BoundedMap(l.flows);
    this.sessions = new BoundedMap(l.sessions);
  }

  /**
   * Forgets what can no longer be used: codes, device codes, sign-in flows and sessions past their
   * expiry, refresh tokens past `refreshLifetimeMs` of inactivity (both after a grace period).
   */
  sweep(nowMs: number, refreshLifetimeMs: number): void {
    for (const [k, v] of this.codes)
      if (v.expiresAt + EXPIRED_GRACE_MS < nowMs) this.codes.delete(k);
    for (const [k, v] of this.deviceCodes)
      if (v.expiresAt + EXPIRED_GRACE_MS < nowMs) {
        this.deviceCodes.delete(k);
        this.deviceCodesByUserCode.delete(v.userCode);
      }
    for (const [k, v] of this.flows) if (v.expiresAt < nowMs) this.flows.delete(k);
    for (const [k, v] of this.sessions) if (v.expiresAt < nowMs) this.sessions.delete(k);
    for (const [k, v] of this.refreshTokens)
      if (nowMs - v.issuedAt > refreshLifetimeMs + REFRESH_GRACE_MS) this.refreshTokens.delete(k);
  }

  issueRefreshToken(record: RefreshTokenRecord): string {
    const token = opaque("1.AQ", 180);
    this.refreshTokens.set(token, record);
    return token;
  }

  /** Revokes refresh tokens; returns how many were revoked. */
  revoke(filter: { refreshToken?: string; username?: string; all?: boolean }): number {
    let n = 0;
    for (const [token, record] of this.refreshTokens) {
      const hit =
        filter.all === true ||
        token === filter.refreshToken ||
        (filter.username !== undefined &&
          record.username.toLowerCase() === filter.username.toLowerCase());
      if (hit && !record.revoked) {
        record.revoked = true;
        n++;
      }
    }
    return n;
  }
}
