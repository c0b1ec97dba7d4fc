/**
 * Entra ID's throttling of the token endpoint, per client app (`settings.throttle`): at most N
 * answered requests in any one-second window; above that, 429 with `Retry-After`, as Entra does.
 * A sliding window rather than a fixed one: no burst of twice the rate across a window's edge.
 * Real time, not the emulator's clock: moving the clock forward must not refill the budget.
 */
import type { Emulator } from "./emulator.ts";
import { EntraError } from "./errors.ts";
import type { Ctx } from "./http.ts";

/** The last `limit` accepted request times of one client app, as a ring. */
class Window {
  readonly #times: Float64Array;
  #next = 0;
  #size = 0;

  constructor(limit: number) {
    this.#times = new Float64Array(limit);
  }

  /** Accepts a request at `now` (ms) and returns 0, or refuses it and returns how long to wait. */
  take(now: number): number {
    const limit = this.#times.length;
    if (this.#size === limit) {
      // Full: the oldest accepted request is the one that frees a place when it leaves the window.
      const oldest = this.#times[this.#next]!;
      const wait = oldest + 1000 - now;
      if (wait > 0) return wait;
    } else this.#size++;
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % limit;
    return 0;
  }
}

/** Client apps tracked at once. */
const MAX_WINDOWS = 1_000;

export class TokenThrottle {
  readonly #limit: number;
  readonly #windows = new Map<string, Window>();

  constructor(requestsPerSecond: number) {
    this.#limit = requestsPerSecond;
  }

  /**
   * 0 when the request of `clientId` may go on, else the wait in milliseconds before the window
   * has room again (the answer's `Retry-After`, rounded up to whole seconds).
   */
  take(clientId: string, now = performance.now()): number {
    const key = clientId.toLowerCase();
    let window = this.#windows.get(key);
    if (!window) {
      // Any client_id may be sent, known or not: the oldest windows make room, so memory stays
      // bounded (a real app's window is rebuilt on its next request).
      if (this.#windows.size >= MAX_WINDOWS)
        this.#windows.delete(this.#windows.keys().next().value!);
      this.#windows.set(key, (window = new Window(this.#limit)));
    }
    return window.take(now);
  }
}

const throttles = new WeakMap<object, TokenThrottle>();

/**
 * Refuses a token request above `settings.throttle.tokenRequestsPerSecond` for its client app:
 * 429 with `Retry-After` (whole seconds) and Entra's error body.
 */
export function checkTokenThrottle(emu: Emulator, ctx: Ctx): void {
  const limit = emu.settings.throttle?.tokenRequestsPerSecond;
  if (limit === undefined) return;
  let throttle = throttles.get(emu);
  if (!throttle) throttles.set(emu, (throttle = new TokenThrottle(limit)));
  // The client is named in the body, or in the Basic header of client_secret_basic.
  let clientId = ctx.body["client_id"];
  const basic = /^basic (.+)$/i.exec(ctx.req.headers.authorization ?? "")?.[1];
  if (!clientId && basic)
    clientId = decodeURIComponent(Buffer.from(basic, "base64").toString("utf8").split(":")[0]!);
  const wait = throttle.take(clientId ?? "");
  if (wait === 0) return;
  ctx.res.setHeader("retry-after", String(Math.max(1, Math.ceil(wait / 1000))));
  throw new EntraError(
    429,
    "too_many_requests",
    50196,
    `The app '${clientId ?? "(unknown)"}' sent more than ${limit} token requests in one second; retry after the time given in Retry-After.`,
  );
}
