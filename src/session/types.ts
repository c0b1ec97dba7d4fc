/**
 * The shapes shared by the session (`session.ts`), the token caches (`src/session/*-cache.ts`,
 * `src/stores/redis-cache.ts`) and the refresh-token stores (`src/stores/`). Every other capability
 * (Partner Center, the bulk customer job, the sidecar, the CLI) gets its tokens through
 * {@link TokenSource}.
 */
import type { AuthResult, ClientOptions } from "../client/types.ts";

/** What a caller asks of a session. */
export interface GetTokenOptions {
  /** Scopes of the access token, e.g. `["https://graph.microsoft.com/.default"]`. */
  scopes: string[];
  /** A customer's tenant (id or domain); default the session's own tenant. */
  tenant?: string;
  /** A cached token is returned only when it stays valid for at least this many seconds (default 300). */
  minValidity?: number;
  /** Skip the cache: always redeem (the fresh result is cached). */
  forceRefresh?: boolean;
  /** A claims challenge (`WWW-Authenticate … claims=`), passed on to the refresh grant; skips the cache. */
  claims?: string;
  /**
   * Ask for a CAE token (client capability `cp1`) where the resource takes them (Graph, Exchange
   * Online): valid up to 28 hours, revoked by a claims challenge. Default the session's choice
   * (on unless opened with `cae: false`).
   */
  cae?: boolean;
  signal?: AbortSignal;
}

/** Anything that gives access tokens: a session, or a session-less refresh-token store. */
export interface TokenSource {
  /**
   * An AuthResult whose `refreshToken` is always null: the refresh token stays inside the session
   * (it has been written back to its store before this resolves).
   */
  getToken(options: GetTokenOptions): Promise<AuthResult>;
}

/** An access token kept by a cache (never a refresh token). */
export interface CachedToken {
  /** The AuthResult with `refreshToken: null`. */
  result: AuthResult;
  /** `expiresOn` in milliseconds since the epoch. */
  expiresAt: number;
  /** When it was obtained, milliseconds since the epoch. */
  obtainedAt: number;
}

/**
 * Where access tokens are cached and renewals are serialised: the local encrypted file cache,
 * memory, or Redis for a fleet. Keys are opaque strings made by the session from
 * (authority, client, account, tenant, scopes).
 */
export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined>;
  set(key: string, token: CachedToken): Promise<void>;
  /**
   * Runs `fn` while holding the lock `name`, across processes (and machines, for Redis). A lock
   * whose holder died is taken over after it expires. Used for single-flight renewal.
   */
  withLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Every cached entry (for `status`); tokens are not shown by callers. */
  list?(): Promise<Array<{ key: string; token: CachedToken }>>;
  close?(): Promise<void>;
}

/** A refresh token as kept by a store, with when it was obtained (its 90-day window starts then). */
export interface StoredRefreshToken {
  token: string;
  /** Milliseconds since the epoch; undefined when the store does not know. */
  updatedAt?: number;
}

/**
 * Where a refresh token lives: the local cache, a file, the OS keyring, Azure Key Vault, Redis.
 * One small interface with one file per backend (`src/stores/`).
 *
 * Safety rules every backend keeps: `write` refuses an empty or malformed value; a failed write
 * throws (the caller keeps the new token recoverable); concurrent writers never interleave.
 */
export interface RefreshTokenStore {
  /** The store's URI without any password, for messages (`keyvault:https://v.vault.azure.net/secrets/rt`). */
  readonly description: string;
  /** The stored token, or null when there is none yet. */
  read(): Promise<StoredRefreshToken | null>;
  /** Replaces the stored token (a new version, where the backend has versions). */
  write(token: string): Promise<void>;
  close?(): Promise<void>;
}

export type { AuthResult, ClientOptions };
