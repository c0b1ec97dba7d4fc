/**
 * The throttle state shared by every worker of the bulk job (and, through Redis, by every process
 * of a fleet): a one-second window that mirrors the server's, with a limit learned from the
 * server's 429 answers.
 *
 * Why this shape. Entra throttles per app on requests per second and answers 429 with
 * `Retry-After` in whole seconds. Pausing every worker for the whole `Retry-After` after each 429
 * would idle the job for a second at a time, far below the rate the server allows; pausing only
 * the worker that got it would let the others keep hammering. So a 429 *slows every worker*: the
 * number of requests the server accepted in the second before the refused one is the rate it
 * allows, and from then on no worker sends more than 95 % of that in any one-second window. The
 * refused request itself is retried after its `Retry-After`. A `Retry-After` longer than the
 * one-second window means the server wants silence: then every worker waits it out. Without a 429
 * for a while the limit creeps up again, in case the server's allowance grew.
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
  /** The request let through at `sentAt` got no answer (network, 5xx): it counts for nothing. */
  failed(sentAt: number): Promise<void>;
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

/** A multiset of send times still waiting for their answer. */
export class Outstanding {
  readonly #counts = new Map<number, number>();
  #size = 0;

  add(t: number): void {
    this.#counts.set(t, (this.#counts.get(t) ?? 0) + 1);
    this.#size++;
  }

  delete(t: number): void {
    const n = this.#counts.get(t);
    if (n === undefined) return;
    this.#size--;
    if (n <= 1) this.#counts.delete(t);
    else this.#counts.set(t, n - 1);
  }

  get size(): number {
    return this.#size;
  }

  /** Whether a request sent before `t` is still waiting for its answer. */
  anyBefore(t: number): boolean {
    for (const sent of this.#counts.keys()) if (sent < t) return true;
    return false;
  }
}

/**
 * The throttle of one process.
 *
 * The window mirrors the server's, which counts a request when it arrives. A request's arrival is
 * taken as the middle of its round trip (between its send and its answer): send times alone would
 * not do (a busy client sends in bursts that reach the server spread out), nor answer times (an
 * answer can come long after the server counted the request). A request still in flight holds a
 * place; an accepted one holds it until a second after its estimated arrival; a refused one holds
 * none (the server did not count it).
 *
 * How the limit is learned: when a request is refused, the server's window held as many accepted
 * requests as it allows, those that arrived in the second before the refused one did. A first
 * estimate from the answers already in slows every worker at once; it is made exact when every
 * request sent before the refused one has its answer.
 *
 * @example
 * ```ts
 * const throttle = new LocalThrottle();
 * for await (const r of customerTokens(session, { scopes, throttle })) …
 * ```
 */
export class LocalThrottle implements Throttle {
  /** Accepted requests: send time and estimated arrival, oldest arrivals dropped. */
  #accepted: { sent: number; arrived: number }[] = [];
  readonly #outstanding = new Outstanding();
  readonly #pending: { sent: number; arrived: number }[] = [];
  #limit: number;
  #changedAt = 0;
  /** The send time of the refusal that set the limit, while its estimate may still be refined. */
  #changedBy: number | undefined;
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
      // Estimates look back up to a second before a refusal sent a little while ago.
      if (this.#accepted.length > 0 && this.#accepted[0]!.arrived < now - 3 * WINDOW_MS)
        this.#accepted = this.#accepted.filter((a) => a.arrived >= now - 3 * WINDOW_MS);
      if (Number.isFinite(this.#limit) && now - this.#changedAt > GROWTH_AFTER_MS) {
        this.#limit = Math.ceil(this.#limit * GROWTH);
        this.#changedAt = now;
        this.#changedBy = undefined;
      }
      if (!Number.isFinite(this.#limit)) {
        this.#outstanding.add(now);
        return now;
      }
      let inWindow = this.#outstanding.size;
      let frees = Infinity;
      for (const a of this.#accepted)
        if (a.arrived > now - WINDOW_MS) {
          inWindow++;
          frees = Math.min(frees, a.arrived + WINDOW_MS);
        }
      if (inWindow < this.#limit) {
        this.#outstanding.add(now);
        return now;
      }
      // Full: a place frees when the oldest arrival leaves the window, or a request in flight ends.
      await sleep(Math.max(1, Math.min(frees - now + 1, 20)), signal);
    }
  }

  async succeeded(sentAt: number): Promise<void> {
    const now = this.#now();
    this.#outstanding.delete(sentAt);
    this.#accepted.push({ sent: sentAt, arrived: (sentAt + now) / 2 });
    this.#refine();
  }

  async failed(sentAt: number): Promise<void> {
    this.#outstanding.delete(sentAt);
    this.#refine();
  }

  async throttled(sentAt: number, retryAfterMs: number | undefined): Promise<void> {
    const now = this.#now();
    this.#outstanding.delete(sentAt);
    // A request sent before the limit last changed says nothing about the new limit.
    if (sentAt >= this.#changedAt) {
      const refusal = { sent: sentAt, arrived: (sentAt + now) / 2 };
      this.#limit = this.#estimate(refusal);
      this.#changedAt = now;
      this.#changedBy = sentAt;
      this.#pending.push(refusal);
    }
    if (retryAfterMs !== undefined && retryAfterMs > WINDOW_MS)
      this.#pauseUntil = Math.max(this.#pauseUntil, now + retryAfterMs);
    this.#refine();
  }

  /**
   * 95 % of the accepted requests in the second before the refused one: by estimated arrival, or
   * by send time, whichever counts more. Both can only miss requests (one when round trips vary,
   * the other when a burst of sends reaches the server spread out), and a limit set too low costs
   * more than one set too high, which the next refusal corrects.
   */
  #estimate(refusal: { sent: number; arrived: number }): number {
    let byArrival = 0;
    let bySend = 0;
    for (const a of this.#accepted) {
      if (a.arrived <= refusal.arrived && a.arrived > refusal.arrived - WINDOW_MS) byArrival++;
      if (a.sent < refusal.sent && a.sent >= refusal.sent - WINDOW_MS) bySend++;
    }
    return Math.max(1, Math.floor(Math.max(byArrival, bySend) * LIMIT_MARGIN));
  }

  /** Makes a pending estimate exact once every request sent before its refusal is answered. */
  #refine(): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const refusal = this.#pending[i]!;
      if (this.#outstanding.anyBefore(refusal.sent)) continue;
      this.#pending.splice(i, 1);
      if (this.#changedBy === refusal.sent) this.#limit = this.#estimate(refusal);
    }
  }

  async currentLimit(): Promise<number> {
    return this.#limit;
  }
}
