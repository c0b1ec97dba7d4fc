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

export class Store {
  readonly codes = new Map<string, AuthorizationCode>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly deviceCodes = new Map<string, DeviceCodeRecord>();
  readonly deviceCodesByUserCode = new Map<string, DeviceCodeRecord>();
  readonly flows = new Map<string, LoginFlow>();
  /** Browser sessions (the ESTSAUTH cookie): single sign-on until `prompt=login`. */
  readonly sessions = new Map<string, Authentication & { expiresAt: number }>();

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
