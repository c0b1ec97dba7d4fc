/**
 * An in-memory token cache (the module's `Register-PartnerTokenCache -InMemory`): nothing is
 * written anywhere; renewals are single-flight within the process only.
 */
import type { CachedToken, TokenCache } from "./types.ts";

/**
 * @example
 * ```ts
 * const session = await openSession({ cache: new MemoryTokenCache() });
 * ```
 */
export class MemoryTokenCache implements TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly locks = new Map<string, Promise<unknown>>();

  async get(key: string): Promise<CachedToken | undefined> {
    return this.tokens.get(key);
  }

  async set(key: string, token: CachedToken): Promise<void> {
    this.tokens.set(key, token);
  }

  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    }
  }

  async list(): Promise<Array<{ key: string; token: CachedToken }>> {
    return [...this.tokens].map(([key, token]) => ({ key, token }));
  }
}
