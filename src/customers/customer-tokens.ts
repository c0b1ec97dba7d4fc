/**
 * The bulk job: a token in every customer's tenant, many at a time, slowing down together when
 * Entra throttles, a failed tenant recorded and the job going on. An async iterator that yields
 * one result per customer as each completes, holding only what is in flight (memory stays flat
 * for any number of customers).
 */
import { CancelledError, PartnerTokenError, UsageError } from "../client/errors.ts";
import type { ClientOptions } from "../client/types.ts";
import { listCustomers, type Customer } from "../partner-center/customers.ts";
import type { PartnerCenterClient } from "../partner-center/client.ts";
import type { TokenSource } from "../session/types.ts";
import { customerHint, SESSION_WIDE_AADSTS, SESSION_WIDE_CODES } from "./hints.ts";
import { LocalThrottle, type Throttle } from "./throttle.ts";

/** A customer to get a token for: its tenant id (or a domain), and what is known of it. */
export interface CustomerRef {
  tenantId: string;
  domain?: string | null;
  name?: string | null;
}

export interface CustomerTokensOptions {
  /** Scopes of each token, e.g. `["https://graph.microsoft.com/.default"]`. */
  scopes: string[];
  /**
   * The customers: tenant ids or domains, or {@link CustomerRef}s, from a list or an async source.
   * Default: every customer of the partner, from `partnerCenter`. Duplicates are asked once.
   */
  customers?: Iterable<string | CustomerRef> | AsyncIterable<string | CustomerRef>;
  /** Where the customers come from when `customers` is not given. */
  partnerCenter?: PartnerCenterClient;
  /** Tenants in flight at once. Default {@link DEFAULT_CONCURRENCY}. */
  concurrency?: number;
  /** The shared throttle state. Default a new {@link LocalThrottle} for this job. */
  throttle?: Throttle;
  signal?: AbortSignal;
  /** Passed to `getToken`: a cached token must stay valid this many seconds. */
  minValidity?: number;
  forceRefresh?: boolean;
  /** Attempts per tenant for transient failures (5xx, timeouts, network). Default 4. */
  maxAttempts?: number;
  /** Throttled answers absorbed per tenant before it is given up. Default 30. */
  maxThrottled?: number;
  /**
   * The longest `Retry-After` the job waits for, in milliseconds. A tenant whose answer asks for
   * longer (a server asking for days) is given up with that error, whose hint names the wait, and
   * the other workers pause for this long at most. Default {@link DEFAULT_MAX_RETRY_AFTER_MS}.
   */
  maxRetryAfterMs?: number;
  /** Told of every throttled answer absorbed (for a summary). */
  onThrottled?: (event: { tenantId: string; retryAfterMs: number | undefined }) => void;
}

/** A token in one customer's tenant. */
export interface CustomerTokenSuccess {
  tenantId: string;
  status: "ok";
  accessToken: string;
  /** ISO 8601, UTC. */
  expiresOn: string;
  domain?: string | null;
  name?: string | null;
}

/** Why a customer's tenant gave no token, and what the partner must do. */
export interface CustomerTokenFailure {
  tenantId: string;
  status: "error";
  error: {
    /** `AADSTS50020`, … when Entra sent a number; else the library's code (`ERR_NETWORK`, …). */
    code: string;
    message: string;
    /** What the partner must do (re-establish GDAP access, consent the app, …). */
    hint: string;
    aadsts?: number;
    status?: number;
    correlationId?: string;
    traceId?: string;
  };
  domain?: string | null;
  name?: string | null;
}

export type CustomerTokenResult = CustomerTokenSuccess | CustomerTokenFailure;

/**
 * Enough to keep a few hundred tokens per second going when each takes 100–200 ms; the shared
 * throttle, not this, keeps the rate within what the server allows.
 */
export const DEFAULT_CONCURRENCY = 64;

/** Five minutes: far above Entra's usual Retry-After, far below a job left hanging for days. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The client options a token source should be built with for this job: throttled answers come
 * back at once (the job retries them later, through the shared throttle) instead of holding a
 * worker in the HTTP layer's own retry.
 *
 * @example
 * ```ts
 * const session = await openSession({ cache: new MemoryTokenCache(), clientOptions: bulkClientOptions });
 * ```
 */
export const bulkClientOptions: ClientOptions = { onThrottled: () => "defer" };

interface Item {
  ref: CustomerRef;
  attempts: number;
  throttled: number;
}

/**
 * A token for every customer, one result per customer as each completes (not in input order).
 * Stops (throws) only for a failure no tenant can get past — the session's refresh token expired
 * or revoked, a wrong client secret — or when cancelled.
 *
 * @example
 * ```ts
 * const session = await openSession({ cache: new MemoryTokenCache(), clientOptions: bulkClientOptions });
 * for await (const result of customerTokens(session, {
 *   scopes: ["https://graph.microsoft.com/.default"],
 *   partnerCenter: new PartnerCenterClient({ source: session, endpoint }),
 * })) {
 *   if (result.status === "ok") useToken(result.tenantId, result.accessToken);
 *   else console.error(result.tenantId, result.error.code, result.error.hint);
 * }
 * ```
 */
export async function* customerTokens(
  source: TokenSource,
  options: CustomerTokensOptions,
): AsyncGenerator<CustomerTokenResult, void, undefined> {
  const scopes = options.scopes;
  if (
    !Array.isArray(scopes) ||
    scopes.length === 0 ||
    scopes.some((s) => typeof s !== "string" || s.trim() === "")
  )
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "scopes must name at least one scope, e.g. https://graph.microsoft.com/.default.",
    );
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `concurrency must be a whole number from 1 to 1000, not ${concurrency}.`,
    );
  let customers = options.customers;
  if (customers === undefined) {
    if (!options.partnerCenter)
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        "Give the customers, or a partnerCenter client to list them.",
      );
    customers = (async function* () {
      for await (const c of listCustomers(options.partnerCenter!)) yield refOf(c);
    })();
  }
  const throttle = options.throttle ?? new LocalThrottle();
  const maxAttempts = options.maxAttempts ?? 4;
  const maxThrottled = options.maxThrottled ?? 30;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw new CancelledError();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const signal = controller.signal;

  const queue = new WorkQueue(customers);
  const out = new Channel<CustomerTokenResult>(concurrency * 2);

  const attempt = async (item: Item): Promise<CustomerTokenResult | undefined> => {
    const sentAt = await throttle.acquire(signal);
    const tenantId = item.ref.tenantId;
    try {
      const token = await source.getToken({
        scopes,
        tenant: tenantId,
        signal,
        ...(options.minValidity !== undefined ? { minValidity: options.minValidity } : {}),
        ...(options.forceRefresh ? { forceRefresh: true } : {}),
      });
      await throttle.succeeded(sentAt);
      return {
        tenantId,
        status: "ok",
        accessToken: token.accessToken,
        expiresOn: token.expiresOn,
        ...described(item.ref),
      };
    } catch (error) {
      if (signal.aborted) throw new CancelledError();
      const e = error as PartnerTokenError;
      const retryAfterMs = retryAfterOf(e);
      const throttledAnswer = e.status === 429 || (e.status === 503 && retryAfterMs !== undefined);
      // A refusal such as AADSTS50020 is an answer all the same: the server counted it.
      if (e.status !== undefined && e.status < 500 && !throttledAnswer)
        await throttle.succeeded(sentAt);
      else if (!throttledAnswer) await throttle.failed(sentAt);
      if (throttledAnswer) {
        const tooLong = retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs;
        await throttle.throttled(sentAt, tooLong ? maxRetryAfterMs : retryAfterMs);
        options.onThrottled?.({ tenantId, retryAfterMs });
        if (!tooLong && ++item.throttled <= maxThrottled) {
          queue.retry(item, Date.now() + (retryAfterMs ?? 1000));
          return undefined;
        }
      } else if (isTransient(e) && ++item.attempts < maxAttempts) {
        queue.retry(item, Date.now() + Math.min(8000, 500 * 2 ** item.attempts));
        return undefined;
      }
      if (isSessionWide(e)) throw error;
      return failure(item.ref, error);
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const item = await queue.next(signal);
      if (item === undefined) return;
      try {
        const result = await attempt(item);
        if (result) await out.push(result, signal);
      } finally {
        queue.done();
      }
    }
  };

  const workers = Array.from({ length: concurrency }, worker);
  Promise.all(workers).then(
    () => out.close(),
    (error: unknown) => {
      controller.abort();
      out.fail(error);
    },
  );
  try {
    yield* out;
  } finally {
    controller.abort();
    options.signal?.removeEventListener("abort", onOuterAbort);
    await Promise.allSettled(workers);
  }
}

function refOf(c: Customer | CustomerRef | string): CustomerRef {
  if (typeof c === "string") return { tenantId: c.trim() };
  return { tenantId: c.tenantId.trim(), domain: c.domain ?? null, name: c.name ?? null };
}

function described(ref: CustomerRef): { domain?: string | null; name?: string | null } {
  return {
    ...(ref.domain !== undefined ? { domain: ref.domain } : {}),
    ...(ref.name !== undefined ? { name: ref.name } : {}),
  };
}

function retryAfterOf(error: PartnerTokenError): number | undefined {
  const value = error.response?.headers?.get("retry-after");
  if (value === null || value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isTransient(error: PartnerTokenError): boolean {
  if (error.code === "ERR_NETWORK") return true;
  const status = error.status;
  return status === 408 || (status !== undefined && status >= 500);
}

function isSessionWide(error: PartnerTokenError): boolean {
  return (
    (error.aadsts !== undefined && SESSION_WIDE_AADSTS.has(error.aadsts)) ||
    (typeof error.code === "string" && SESSION_WIDE_CODES.has(error.code))
  );
}

function failure(ref: CustomerRef, error: unknown): CustomerTokenFailure {
  const e = error as Partial<PartnerTokenError> & Error;
  const aadsts = typeof e.aadsts === "number" ? e.aadsts : undefined;
  const code =
    aadsts !== undefined
      ? `AADSTS${aadsts}`
      : typeof e.code === "string"
        ? e.code
        : "ERR_UNEXPECTED";
  return {
    tenantId: ref.tenantId,
    status: "error",
    error: {
      code,
      message: String(e.message ?? error)
        .split(/\r?\n/)[0]!
        .replace(/\s*Trace ID:.*$/, ""),
      hint: customerHint(aadsts, typeof e.hint === "string" ? e.hint : undefined),
      ...(aadsts !== undefined ? { aadsts } : {}),
      ...(typeof e.status === "number" ? { status: e.status } : {}),
      ...(typeof e.correlationId === "string" ? { correlationId: e.correlationId } : {}),
      ...(typeof e.traceId === "string" ? { traceId: e.traceId } : {}),
    },
    ...described(ref),
  };
}

/**
 * The customers still to do: pulled one at a time from the input, plus the ones waiting to be
 * tried again (throttled, transient failure) until their time comes.
 */
class WorkQueue {
  readonly #input: AsyncIterator<string | CustomerRef> | Iterator<string | CustomerRef>;
  #inputDone = false;
  #pulling: Promise<unknown> = Promise.resolve();
  readonly #retries: { item: Item; at: number }[] = [];
  readonly #seen = new Set<string>();
  #active = 0;
  #waiters: (() => void)[] = [];

  constructor(input: Iterable<string | CustomerRef> | AsyncIterable<string | CustomerRef>) {
    this.#input =
      Symbol.asyncIterator in input
        ? (input as AsyncIterable<string | CustomerRef>)[Symbol.asyncIterator]()
        : (input as Iterable<string | CustomerRef>)[Symbol.iterator]();
  }

  /** The next customer to try, or undefined when there is nothing left to do. */
  async next(signal: AbortSignal): Promise<Item | undefined> {
    for (;;) {
      if (signal.aborted) throw new CancelledError();
      const now = Date.now();
      const due = this.#retries.findIndex((r) => r.at <= now);
      if (due >= 0) {
        const [{ item }] = this.#retries.splice(due, 1) as [{ item: Item; at: number }];
        this.#active++;
        return item;
      }
      if (!this.#inputDone) {
        const item = await this.#pull();
        if (item) {
          this.#active++;
          return item;
        }
        continue;
      }
      if (this.#retries.length === 0 && this.#active === 0) {
        this.#wakeAll();
        return undefined;
      }
      // Wait for the earliest retry, or for a worker to finish or hand back a customer.
      const earliest = Math.min(...this.#retries.map((r) => r.at));
      await wakeable(signal, (wake) => {
        this.#waiters.push(wake);
        return Number.isFinite(earliest) ? Math.max(1, earliest - now) : undefined;
      });
    }
  }

  retry(item: Item, at: number): void {
    this.#retries.push({ item, at });
    this.#wakeAll();
  }

  done(): void {
    this.#active--;
    this.#wakeAll();
  }

  #wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** One pull at a time: an async source is not asked twice at once. */
  #pull(): Promise<Item | undefined> {
    const pulled = this.#pulling.then(() => this.#pullOne());
    this.#pulling = pulled.catch(() => undefined);
    return pulled;
  }

  async #pullOne(): Promise<Item | undefined> {
    while (!this.#inputDone) {
      const next = await this.#input.next();
      if (next.done) {
        this.#inputDone = true;
        this.#wakeAll();
        return undefined;
      }
      const ref = refOf(next.value);
      if (ref.tenantId === "") continue;
      const key = ref.tenantId.toLowerCase();
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      return { ref, attempts: 0, throttled: 0 };
    }
    return undefined;
  }
}

/**
 * Waits until woken (`register` hands the wake function to whoever will call it), until the
 * timeout `register` returns, or until `signal` aborts; leaves no listener or timer behind.
 */
function wakeable(
  signal: AbortSignal,
  register: (wake: () => void) => number | undefined,
): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    signal.addEventListener("abort", wake, { once: true });
    const timeout = register(wake);
    if (timeout !== undefined) timer = setTimeout(wake, timeout);
  });
}

/** A bounded hand-over from the workers to the consumer: workers wait when it is full. */
class Channel<T> implements AsyncIterable<T> {
  readonly #capacity: number;
  readonly #items: T[] = [];
  #closed = false;
  #failed: { error: unknown } | undefined;
  #readers: (() => void)[] = [];
  #writers: (() => void)[] = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  async push(item: T, signal: AbortSignal): Promise<void> {
    while (this.#items.length >= this.#capacity && !this.#closed) {
      if (signal.aborted) throw new CancelledError();
      await wakeable(signal, (wake) => void this.#writers.push(wake));
    }
    this.#items.push(item);
    this.#wake("readers");
  }

  close(): void {
    this.#closed = true;
    this.#wake("readers");
  }

  fail(error: unknown): void {
    this.#failed = { error };
    this.close();
  }

  #wake(which: "readers" | "writers"): void {
    const list = which === "readers" ? this.#readers : this.#writers;
    if (which === "readers") this.#readers = [];
    else this.#writers = [];
    for (const wake of list) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        this.#wake("writers");
        yield item;
        continue;
      }
      if (this.#failed) throw this.#failed.error;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#readers.push(resolve));
    }
  }
}
