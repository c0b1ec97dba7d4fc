/**
 * The throttle state shared by every worker of the bulk job (and, through Redis, by every process
 * of a fleet): a sliding one-second window of sent requests with a limit learned from the
 * server's 429 answers.
 *
 * Why this shape. Entra throttles per app on requests per second and answers 429 with
 * `Retry-After` in whole seconds. Pausing every worker for the whole `Retry-After` after each 429
 * would idle the job for a second at a time, far below the rate the server allows; pausing only
 * the worker that got it would let the others keep hammering. So a 429 *slows every worker*: the
 * number of answers that came back in the second before the refusal is the rate the server
 * allows (answers, not sends: a busy client sends in bursts the server does not see as such),
 * and from then on no worker sends more than 95 % of that in any one-second window (a
 * window, not an even pace, so the workers' rhythm matches the server's own count). The refused
 * request itself is retried after its `Retry-After`. A `Retry-After` longer than the one-second
 * window means the server wants silence: then every worker waits it out. Without a 429 for a
 * while the limit creeps up again, in case the server's allowance grew.
 */
import { sleep } from "../client/http.ts";

/**
 * What a worker asks of the throttle around each request.
 *
 * @example
 * ```ts
 * const sentAt = await throttle.acquire(signal);
 * try {
 *   await send();
 *   await throttle.succeeded(sentAt);
 * } catch (e) {
 *   if (e.status === 429) await throttle.throttled(sentAt, retryAfterMs);
 * }
 * ```
 */
export interface Throttle {
  /**
   * Waits until a request may be sent (a place in the window, no pause in force) and returns the
   * time it was let through (milliseconds; pass it back to {@link Throttle.throttled}).
   */
  acquire(signal?: AbortSignal): Promise<number>;
  /** The request let through at `sentAt` was answered (not throttled). */
  succeeded(sentAt: number): Promise<void>;
  /** The request let through at `sentAt` was throttled: slow every worker down. */
  throttled(sentAt: number, retryAfterMs: number | undefined): Promise<void>;
  /** Requests per second allowed now (Infinity until the server has throttled). */
  currentLimit(): Promise<number>;
  close?(): Promise<void>;
}

/** The part of a limit learned from a 429 that is used: a margin for the server's own timing. */
export const LIMIT_MARGIN = 0.95;
/** Without a 429 for this long, the limit grows by {@link GROWTH}. */
export const GROWTH_AFTER_MS = 5_000;
export const GROWTH = 1.05;
const WINDOW_MS = 1_000;

/** A queue of times (ms), oldest first, that drops what left the window. */
class Times {
  #items: number[] = [];
  #head = 0;

  push(t: number): void {
    this.#items.push(t);
  }

  /** Drops times before `from`; compacts now and then so memory stays bounded. */
  dropBefore(from: number): void {
    while (this.#head < this.#items.length && this.#items[this.#head]! < from) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** The first time at or after `from`. */
  firstFrom(from: number): number | undefined {
    for (let i = this.#head; i < this.#items.length; i++)
      if (this.#items[i]! >= from) return this.#items[i];
    return undefined;
  }

  /** How many times fall in [from, to). */
  countBetween(from: number, to: number): number {
    let n = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const t = this.#items[i]!;
      if (t >= to) break;
      if (t >= from) n++;
    }
    return n;
  }
}

/**
 * The throttle of one process.
 *
 * @example
 * ```ts
 * const throttle = new LocalThrottle();
 * for await (const r of customerTokens(session, { scopes, throttle })) …
 * ```
 */
export class LocalThrottle implements Throttle {
  readonly #sent = new Times();
  readonly #answered = new Times();
  #limit: number;
  #changedAt = 0;
  #pauseUntil = 0;
  readonly #now: () => number;

  /** `limit`: a known allowance to start from (requests per second); default none. */
  constructor(options: { limit?: number; now?: () => number } = {}) {
    this.#limit = options.limit ?? Infinity;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  async acquire(signal?: AbortSignal): Promise<number> {
    for (;;) {
      const now = this.#now();
      if (now < this.#pauseUntil) {
        await sleep(this.#pauseUntil - now, signal);
        continue;
      }
      // Keep the last window and a little more: a 429 looks back one window from its send time.
      this.#sent.dropBefore(now - 3 * WINDOW_MS);
      this.#answered.dropBefore(now - 3 * WINDOW_MS);
      if (Number.isFinite(this.#limit) && now - this.#changedAt > GROWTH_AFTER_MS) {
        this.#limit = Math.ceil(this.#limit * GROWTH);
        this.#changedAt = now;
      }
      const inWindow = this.#sent.countBetween(now - WINDOW_MS, Infinity);
      if (inWindow < this.#limit) {
        this.#sent.push(now);
        return now;
      }
      // Full: a place frees when the oldest request of the window leaves it.
      const oldest = this.#sent.firstFrom(now - WINDOW_MS) ?? now - WINDOW_MS;
      await sleep(Math.max(1, oldest + WINDOW_MS - now + 1), signal);
    }
  }

  async succeeded(): Promise<void> {
    this.#answered.push(this.#now());
  }

  async throttled(sentAt: number, retryAfterMs: number | undefined): Promise<void> {
    const now = this.#now();
    // A request sent before the limit last changed says nothing about the new limit.
    if (sentAt >= this.#changedAt) {
      const accepted = this.#answered.countBetween(now - WINDOW_MS, now);
      this.#limit = Math.max(1, Math.floor(accepted * LIMIT_MARGIN));
      this.#changedAt = now;
    }
    if (retryAfterMs !== undefined && retryAfterMs > WINDOW_MS)
      this.#pauseUntil = Math.max(this.#pauseUntil, now + retryAfterMs);
  }

  async currentLimit(): Promise<number> {
    return this.#limit;
  }
}
