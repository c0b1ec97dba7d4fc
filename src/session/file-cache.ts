/**
 * The local token cache of one profile: access tokens kept in the profile's encrypted file
 * (`profile-file.ts`), renewals serialised across processes by lock files in `{cacheDir}/locks`.
 * Also the local home of a session's refresh token ({@link LocalRefreshTokenStore}).
 */
import { join } from "node:path";
import { SignInRequiredError } from "../client/errors.ts";
import { ensurePrivateDir } from "./atomic-file.ts";
import { keyDigest } from "./broker.ts";
import { acquireLock } from "./lock.ts";
import type { ProfileFile, ProfileRecord } from "./profile-file.ts";
import type { CachedToken, RefreshTokenStore, StoredRefreshToken, TokenCache } from "./types.ts";

/** Tokens that expired more than this long ago are dropped when the file is written. */
const KEEP_EXPIRED_MS = 60 * 60_000;

export class FileTokenCache implements TokenCache {
  private readonly file: ProfileFile;
  /** Makes the record when a token is cached for a profile that has none (store-only use). */
  private readonly template: (() => ProfileRecord) | undefined;

  constructor(file: ProfileFile, template?: () => ProfileRecord) {
    this.file = file;
    this.template = template;
  }

  async get(key: string): Promise<CachedToken | undefined> {
    return (await this.file.read())?.tokens[key];
  }

  async set(key: string, token: CachedToken): Promise<void> {
    await this.file.update((record) => {
      const base = record ?? this.template?.();
      if (!base)
        throw new SignInRequiredError(
          "ERR_NO_SESSION",
          `The session of profile '${this.file.profile}' was removed while a token was being renewed.`,
          { hint: "Sign in again: partner-token connect." },
        );
      const now = Date.now();
      const tokens: Record<string, CachedToken> = {};
      for (const [k, t] of Object.entries(base.tokens))
        if (t.expiresAt > now - KEEP_EXPIRED_MS) tokens[k] = t;
      tokens[key] = token;
      return { ...base, tokens };
    });
  }

  async withLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const dir = join(this.file.cacheDir, "locks");
    await ensurePrivateDir(dir);
    const release = await acquireLock(join(dir, `${this.file.profile}-${keyDigest(name)}.lock`), {
      ...(signal ? { signal } : {}),
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  async list(): Promise<Array<{ key: string; token: CachedToken }>> {
    const record = await this.file.read();
    return Object.entries(record?.tokens ?? {}).map(([key, token]) => ({ key, token }));
  }
}

/** A session's refresh token kept in its encrypted profile file. */
export class LocalRefreshTokenStore implements RefreshTokenStore {
  readonly description: string;
  private readonly file: ProfileFile;

  constructor(file: ProfileFile) {
    this.file = file;
    this.description = `the local cache of profile '${file.profile}'`;
  }

  async read(): Promise<StoredRefreshToken | null> {
    const record = await this.file.read();
    return record?.refreshToken ?? null;
  }

  async write(token: string): Promise<void> {
    if (!/^[\x21-\x7e]{16,16384}$/.test(token))
      throw new Error("the refresh token in the response is not a printable single-line value");
    await this.file.update((record) => {
      if (!record)
        throw new Error(`the session of profile '${this.file.profile}' was removed meanwhile`);
      const { signInRequired: _cleared, ...rest } = record;
      return { ...rest, refreshToken: { token, updatedAt: Date.now() } };
    });
  }
}
