/**
 * One profile's session on disk: `{cacheDir}/profiles/{profile}.json`, a small JSON wrapper
 * (`schema`, `profile`) around one AES-256-GCM envelope holding everything else — the app, the
 * environment, the account, the refresh token and the cached access tokens. Nothing in the folder
 * is a token in clear. Writes are atomic and serialised across processes by a lock file.
 *
 * A file that cannot be read (corrupt, truncated, its key gone) is set aside — renamed with a
 * warning — never a crash, and never silently: the session then reports that sign-in is needed.
 */
import { readFileSync, statSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { CachedToken } from "./types.ts";
import { ensurePrivateDir, writeFileAtomic } from "./atomic-file.ts";
import { loadCacheKey, loadOrCreateCacheKey, type CacheKeyOptions } from "./cache-key.ts";
import { acquireLock } from "./lock.ts";
import { seal, unseal } from "./seal.ts";
import { PartnerTokenError } from "../client/errors.ts";

export const SCHEMA_VERSION = 1;

/** How a session signs in again on its own. */
export type SessionKind = "user" | "servicePrincipal" | "accessToken";

/** Where a session signs in: the resolved environment, so later commands need no flags. */
export interface SessionEnvironment {
  /** `AzureCloud`, …, `Emulator`, or `Custom`. */
  name: string;
  authorityHost: string;
  partnerCenterEndpoint: string;
  caFile: string | null;
  /** Any OpenID Connect issuer (`--authority`), when the session was made with one. */
  authority?: string;
}

/** Everything a profile keeps, decrypted. */
export interface ProfileRecord {
  schema: typeof SCHEMA_VERSION;
  profile: string;
  kind: SessionKind;
  clientId: string;
  /** The tenant given at connect (id, domain, `organizations`). */
  tenant: string;
  /** The home tenant id, once known. */
  tenantId: string | null;
  environment: SessionEnvironment;
  account: { username: string | null; homeAccountId: string } | null;
  /** The scopes asked for at connect; the default of `token`. */
  scopes: string[];
  /** A confidential app's secret (App + User or service principal), when given as a value. */
  clientSecret?: string;
  /**
   * Instead of `clientSecret`: the store the secret is kept in (`keyvault:…`, `keyring:…`,
   * `file:…`), read at each renewal so that a rotated secret is picked up; the value is not kept.
   */
  clientSecretStore?: string;
  /** `path` is a file, or a store URI (read at each renewal, like `clientSecretStore`). */
  certificate?: { path?: string; thumbprint?: string; password?: string };
  /** The refresh token, when it is kept here rather than in an external store. */
  refreshToken?: { token: string; updatedAt: number };
  /** The external store that keeps the refresh token (`--refresh-token-store`), when one does. */
  refreshTokenStore?: string;
  /** Known lifetime of the refresh token's inactivity window (90 days in Entra ID). */
  refreshTokenWindowDays: number;
  /** Set when a renewal was refused for a reason only a new sign-in fixes. */
  signInRequired?: { code: string; message: string; at: number };
  connectedAt: number;
  /** Cached access tokens by cache key. */
  tokens: Record<string, CachedToken>;
}

/** The file exists but was written by a newer partner-token. `exitCode` 1. */
export class CacheVersionError extends PartnerTokenError {}

interface FileShape {
  schema: number;
  profile: string;
  sealed: unknown;
}

export interface ProfileFileOptions extends CacheKeyOptions {
  warn?: (line: string) => void;
}

export class ProfileFile {
  readonly path: string;
  private key: Buffer | undefined;
  private readonly aad: string;
  /** The last record read, with the file identity it came from: unchanged file, no decrypt. */
  private last: { identity: string; record: ProfileRecord } | undefined;

  readonly cacheDir: string;
  readonly profile: string;
  private readonly options: ProfileFileOptions;

  constructor(cacheDir: string, profile: string, options: ProfileFileOptions = {}) {
    this.cacheDir = cacheDir;
    this.profile = profile;
    this.options = options;
    this.path = join(cacheDir, "profiles", `${profile}.json`);
    this.aad = `partner-token:profile:${profile}`;
  }

  get lockPath(): string {
    return `${this.path}.lock`;
  }

  /** The decrypted record, or undefined when there is no usable session. */
  async read(): Promise<ProfileRecord | undefined> {
    let text: string;
    let identity: string;
    try {
      // Every write renames a new file into place: a new inode, so (inode, size, mtime) names a version.
      // Synchronous: a small file read on every token request; the thread pool would cost more.
      const s = statSync(this.path, { bigint: true });
      identity = `${s.ino}:${s.size}:${s.mtimeNs}`;
      if (this.last?.identity === identity) return this.last.record;
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let shape: FileShape;
    try {
      shape = JSON.parse(text) as FileShape;
      if (typeof shape !== "object" || shape === null || typeof shape.schema !== "number")
        throw new Error("not a cache file");
    } catch {
      await this.setAside("it is not valid JSON (truncated or altered)");
      return undefined;
    }
    if (shape.schema > SCHEMA_VERSION)
      throw new CacheVersionError(
        "ERR_CACHE_VERSION",
        `${this.path} was written by a newer partner-token (cache schema ${shape.schema}; this one reads ${SCHEMA_VERSION}).`,
        { hint: "Upgrade partner-token, or use another --cache-dir." },
      );
    if (shape.schema !== SCHEMA_VERSION) {
      await this.setAside(`its schema ${shape.schema} is not one this version reads`);
      return undefined;
    }
    this.key ??= (await loadCacheKey(this.cacheDir, this.profile))?.key;
    if (!this.key) {
      await this.setAside("the key that encrypts it is gone (key file or keyring entry removed)");
      return undefined;
    }
    let record: ProfileRecord;
    try {
      record = JSON.parse(
        unseal(this.key, shape.sealed, this.aad).toString("utf8"),
      ) as ProfileRecord;
    } catch {
      await this.setAside("it does not decrypt with its key (altered, or another key)");
      return undefined;
    }
    this.last = { identity, record };
    return record;
  }

  /**
   * Read-modify-write under the profile's lock. `change` returns the new record, or null to delete
   * the file. Resolves to what was written.
   */
  async update(
    change: (
      current: ProfileRecord | undefined,
    ) => ProfileRecord | null | Promise<ProfileRecord | null>,
    signal?: AbortSignal,
  ): Promise<ProfileRecord | null> {
    await ensurePrivateDir(join(this.cacheDir, "profiles"));
    const release = await acquireLock(this.lockPath, {
      staleMs: 30_000,
      ...(signal ? { signal } : {}),
    });
    try {
      const next = await change(await this.read());
      if (next === null) await rm(this.path, { force: true });
      else await this.write(next);
      return next;
    } finally {
      await release();
    }
  }

  private async write(record: ProfileRecord): Promise<void> {
    this.key ??= (await loadOrCreateCacheKey(this.cacheDir, this.profile, this.options)).key;
    const sealed = seal(this.key, Buffer.from(JSON.stringify(record), "utf8"), this.aad);
    const shape: FileShape = { schema: SCHEMA_VERSION, profile: this.profile, sealed };
    await writeFileAtomic(this.path, JSON.stringify(shape) + "\n");
  }

  /** Renames an unreadable file out of the way, with a warning that says where it went. */
  private async setAside(why: string): Promise<void> {
    const aside = `${this.path}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // another process did it
      throw error;
    }
    this.options.warn?.(
      `partner-token: the session of profile '${this.profile}' could not be read: ${why}. ` +
        `It was set aside as ${aside}; sign in again with partner-token connect.`,
    );
  }
}
