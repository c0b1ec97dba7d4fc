/**
 * The heart of a session: tokens from the cache while they stay valid, otherwise one renewal —
 * single-flight within the process and, through the cache's lock, across processes — with the
 * rotated refresh token written back to its store before the token is handed out.
 */
import { createHash } from "node:crypto";
import { PartnerTokenError, SignInRequiredError } from "../client/errors.ts";
import type { AuthResult, CertificateSource, ClientOptions, FlowRequest } from "../client/types.ts";
import type {
  CachedToken,
  GetTokenOptions,
  RefreshTokenStore,
  TokenCache,
  TokenSource,
} from "./types.ts";
import type { SessionEnvironment, SessionKind } from "./profile-file.ts";
import { isCaeResource, mergeClaims } from "../client/claims.ts";

const DAY_MS = 86_400_000;
/** Entra ID's inactivity window for refresh tokens. */
export const REFRESH_TOKEN_WINDOW_DAYS = 90;
export const DEFAULT_MIN_VALIDITY = 300;
export const DEFAULT_WARN_DAYS = 14;

/** The app a broker signs in as, and where. */
export interface BrokerApp {
  clientId: string;
  clientSecret?: string;
  /**
   * Instead of `clientSecret`: reads the secret where it is kept (a store), at each renewal, so a
   * rotated secret is picked up without a reconnect or a restart.
   */
  readClientSecret?: () => Promise<string>;
  /** A certificate; one with `read` is read from its store at each renewal. */
  certificate?: CertificateSource;
  environment: SessionEnvironment;
  /** Default tenant of `getToken` (the home tenant id, or what was given at connect). */
  tenant: string;
}

export interface TokenBrokerOptions {
  kind: SessionKind;
  app: BrokerApp;
  /** Identifies whose tokens the cache holds (the account's home id; "app" for app-only). */
  accountId?: string;
  /** Where the refresh token lives (user sessions). */
  refreshTokens?: RefreshTokenStore;
  cache: TokenCache;
  /** An access-token session's only token. */
  accessToken?: AuthResult;
  defaultScopes?: string[];
  clientOptions?: ClientOptions;
  /** A notice for a person (stderr in the CLI). */
  warn?: (line: string) => void;
  /** Warn when a refresh token used has fewer days than this left (default 14). */
  warnDays?: number;
  /** Told when a renewal was refused for a reason only a new sign-in fixes. */
  onSignInRequired?: (error: PartnerTokenError) => Promise<void>;
  /** Label for messages ("profile 'default'", "the store keyvault:…"). */
  label?: string;
  /** false: never ask for CAE tokens (`--no-cae`); otherwise each request decides (default CAE). */
  cae?: boolean;
}

/**
 * The new refresh token could not be written back. The old one stays valid in Entra ID (rotation
 * does not revoke it), and the new one is on `refreshToken` (not enumerable, never logged) for a
 * caller that wants to keep it some other way. `exitCode` 1.
 */
export class RefreshTokenWriteError extends PartnerTokenError {
  declare readonly refreshToken: string;
  constructor(store: string, cause: unknown, refreshToken: string, where?: string) {
    // The store's own advice (which permission to grant, which server is down) comes first.
    const storeHint = (cause as { hint?: unknown } | null)?.hint;
    super(
      "ERR_REFRESH_TOKEN_WRITE",
      `The new refresh token could not be written to ${store}: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
        hint: [
          typeof storeHint === "string" ? storeHint : undefined,
          where ??
            `${store} still holds the previous refresh token, which stays valid; fix the store and run the command again.`,
        ]
          .filter(Boolean)
          .join("\n"),
      },
    );
    Object.defineProperty(this, "refreshToken", { value: refreshToken, enumerable: false });
  }
}

/** `https://…/user_impersonation` and friends: the Partner Center resource of an environment. */
export function partnerCenterResource(environment: SessionEnvironment): string {
  return environment.name === "Custom" || environment.name === "Emulator"
    ? "https://api.partnercenter.microsoft.com"
    : environment.partnerCenterEndpoint.replace(/\/+$/, "");
}

/** The flow request fields that say where to sign in. */
export function flowTarget(environment: SessionEnvironment): Partial<FlowRequest> {
  if (environment.authority) return { authority: environment.authority, ...caOf(environment) };
  if (environment.name === "Custom")
    return {
      authorityHost: environment.authorityHost,
      partnerCenterEndpoint: environment.partnerCenterEndpoint,
      ...caOf(environment),
    };
  return {
    environment: environment.name,
    partnerCenterEndpoint: environment.partnerCenterEndpoint,
    ...caOf(environment),
  };
}
const caOf = (e: SessionEnvironment) => (e.caFile ? { caFile: e.caFile } : {});

/** Scopes as a cache key part: trimmed, de-duplicated, sorted, case kept (scopes are case-sensitive in part). */
export function normaliseScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim()).filter((s) => s !== ""))].sort();
}

export function withoutRefreshToken(result: AuthResult): AuthResult {
  return result.refreshToken === null ? result : { ...result, refreshToken: null };
}

/**
 * Gives access tokens for any scopes and tenant from one app + account.
 *
 * @example
 * ```ts
 * const broker = new TokenBroker({ kind: "user", app, refreshTokens: store, cache: new MemoryTokenCache() });
 * const { accessToken } = await broker.getToken({ scopes: ["https://graph.microsoft.com/.default"], tenant: customer });
 * ```
 */
export class TokenBroker implements TokenSource {
  private readonly inflight = new Map<string, Promise<AuthResult>>();
  /** Tokens this process already holds: a valid token is valid whoever renewed it. */
  private readonly memory = new Map<string, CachedToken>();

  protected readonly options: TokenBrokerOptions;

  constructor(options: TokenBrokerOptions) {
    this.options = options;
  }

  /**
   * The app credential the next renewal signs in with: its client secret, or its certificate
   * source; neither for a public client. What `status` compares with the app's credentials in
   * Graph to warn before the one in use expires. A secret kept in a store is read from it now (a
   * certificate's source reads its store when loaded), so this is the rotated one once the store
   * holds it. Never logged or printed.
   */
  async appCredential(): Promise<{ clientSecret?: string; certificate?: CertificateSource }> {
    const { app } = this.options;
    const clientSecret = await this.clientSecret();
    return {
      ...(clientSecret ? { clientSecret } : {}),
      ...(app.certificate ? { certificate: app.certificate } : {}),
    };
  }

  /** The client secret of this renewal: read from its store when it lives in one. */
  private async clientSecret(): Promise<string | undefined> {
    const { app } = this.options;
    return app.readClientSecret ? app.readClientSecret() : app.clientSecret;
  }

  /**
   * The cache key of a request: where, which app, whose, which tenant, which scopes — and `|cae`
   * for a CAE token (bin/token-cache-hit.cjs computes the same key: change both together).
   */
  cacheKey(scopes: readonly string[], tenant: string, cae = false): string {
    const { app, accountId } = this.options;
    return [
      app.environment.authority ?? app.environment.authorityHost,
      app.clientId.toLowerCase(),
      accountId ?? "app",
      tenant.toLowerCase(),
      normaliseScopes(scopes).join(" "),
      ...(cae ? ["cae"] : []),
    ].join("|");
  }

  /** Whether a request gets a CAE token: a user's, for a CAE-capable resource, unless turned off. */
  wantsCae(scopes: readonly string[], request: Pick<GetTokenOptions, "cae"> = {}): boolean {
    return (
      this.options.kind === "user" &&
      // The session's opt-out (--no-cae) wins; otherwise the request decides, CAE by default.
      this.options.cae !== false &&
      (request.cae ?? true) &&
      isCaeResource(scopes)
    );
  }

  async getToken(request: GetTokenOptions): Promise<AuthResult> {
    const scopes = normaliseScopes(
      request.scopes?.length ? request.scopes : (this.options.defaultScopes ?? []),
    );
    if (scopes.length === 0)
      throw new PartnerTokenError(
        "ERR_INVALID_ARGUMENT",
        "scopes are required: name at least one.",
      );
    const tenant = (request.tenant ?? this.options.app.tenant).trim();
    const cae = this.wantsCae(scopes, request);
    const key = this.cacheKey(scopes, tenant, cae);
    const minMs = (request.minValidity ?? DEFAULT_MIN_VALIDITY) * 1000;
    const force = request.forceRefresh === true || request.claims !== undefined;
    const fresh = (t: CachedToken | undefined): t is CachedToken =>
      t !== undefined && t.expiresAt - Date.now() >= minMs;

    if (this.options.kind === "accessToken") return this.fromAccessToken(scopes, minMs);
    if (!force) {
      const held = this.memory.get(key);
      if (fresh(held)) return held.result;
      const cached = await this.options.cache.get(key);
      if (fresh(cached)) {
        this.memory.set(key, cached);
        return cached.result;
      }
    }
    const flightKey = force ? `${key}|force` : key;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      const startedAt = Date.now();
      flight = this.options.cache
        .withLock(
          key,
          async () => {
            // Another process may have renewed while this one waited for the lock.
            const cached = await this.options.cache.get(key);
            if (fresh(cached) && (!force || cached.obtainedAt >= startedAt)) return cached;
            const result = withoutRefreshToken(await this.redeem(scopes, tenant, request, cae));
            const token: CachedToken = {
              result,
              expiresAt: Date.parse(result.expiresOn),
              obtainedAt: Date.now(),
            };
            await this.options.cache.set(key, token);
            return token;
          },
          request.signal,
        )
        .then((token) => {
          this.memory.set(key, token);
          return token.result;
        })
        .finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  /** The write-back in progress, and the newest token waiting to follow it. */
  private writing: Promise<void> | undefined;
  private waiting: { token: string; done: Promise<void> } | undefined;

  /**
   * Writes a rotated refresh token back, coalescing: while one write is under way, later tokens
   * wait, and only the newest of them is written next — every one of them is valid (Entra ID does
   * not revoke a refresh token when it rotates), so the store always ends with a fresh one, and a
   * bulk job over thousands of tenants writes its store a few times, not once per tenant. Each
   * caller resolves only once its own token, or a newer one, is stored.
   */
  private writeBack(store: RefreshTokenStore, token: string): Promise<void> {
    if (this.waiting) {
      this.waiting.token = token;
      return this.waiting.done;
    }
    const previous = this.writing;
    const entry = { token, done: Promise.resolve() };
    entry.done = (async () => {
      await previous?.catch(() => undefined);
      if (this.waiting === entry) this.waiting = undefined;
      await store.write(entry.token);
    })();
    this.waiting = entry;
    const current = entry.done.finally(() => {
      if (this.writing === current) this.writing = undefined;
    });
    current.catch(() => undefined);
    this.writing = current;
    return entry.done;
  }

  private fromAccessToken(scopes: string[], minMs: number): AuthResult {
    const token = this.options.accessToken;
    const label = this.options.label ?? "this session";
    if (!token || Date.parse(token.expiresOn) - Date.now() < minMs)
      throw new SignInRequiredError(
        "ERR_ACCESS_TOKEN_EXPIRED",
        `The access token that ${label} was connected with has expired (or expires within the minimum validity); an access token cannot be renewed.`,
        {
          hint: "Connect again: partner-token connect (with a refresh token, a browser or device sign-in).",
        },
      );
    const granted = new Set(token.scopes.map((s) => s.toLowerCase()));
    const asked = scopes.filter(
      (s) => !granted.has(s.toLowerCase()) && !granted.has(s.replace(/^.*\//, "").toLowerCase()),
    );
    if (asked.length > 0 && !scopes.every((s) => s.endsWith("/.default")))
      throw new SignInRequiredError(
        "ERR_SCOPE_NOT_GRANTED",
        `${label} holds one access token, which was not granted ${asked.join(" ")}.`,
        { hint: "Connect with a refresh token or a sign-in to get tokens for other scopes." },
      );
    return token;
  }

  private async redeem(
    scopes: string[],
    tenant: string,
    request: GetTokenOptions,
    cae = false,
  ): Promise<AuthResult> {
    const { app, clientOptions = {} } = this.options;
    // Read at each renewal (outside the refresh's error handling: a store that fails to answer
    // says nothing of the refresh token).
    const clientSecret = await this.clientSecret();
    const base: FlowRequest = {
      ...flowTarget(app.environment),
      clientId: app.clientId,
      scopes,
      tenant,
      ...(clientSecret ? { clientSecret } : {}),
      ...(app.certificate ? { certificate: app.certificate } : {}),
    };
    const options: ClientOptions = request.signal
      ? { ...clientOptions, signal: request.signal }
      : clientOptions;
    if (this.options.kind === "servicePrincipal") {
      const { acquireTokenByClientCredentials } = await import("../client/client-credentials.ts");
      return acquireTokenByClientCredentials(base, options);
    }
    const store = this.options.refreshTokens;
    const label = this.options.label ?? "this session";
    const stored = store ? await store.read() : null;
    if (!store || !stored)
      throw new SignInRequiredError(
        "ERR_NO_REFRESH_TOKEN",
        `There is no refresh token for ${label}${store ? ` in ${store.description}` : ""}.`,
        {
          hint: "Sign in: partner-token connect (or partner-token new … --refresh-token-store URI).",
        },
      );
    const daysLeft =
      stored.updatedAt === undefined
        ? undefined
        : REFRESH_TOKEN_WINDOW_DAYS - (Date.now() - stored.updatedAt) / DAY_MS;
    const { acquireTokenByRefreshToken } = await import("../client/refresh-token.ts");
    // A claims challenge goes back with cp1 merged in, as MSAL sends it.
    const claims = mergeClaims(request.claims, cae);
    let result: AuthResult;
    try {
      result = await acquireTokenByRefreshToken(
        {
          ...base,
          refreshToken: stored.token,
          ...(claims !== undefined ? { claims } : {}),
        },
        options,
      );
    } catch (error) {
      // A refusal in one customer's tenant (no GDAP access, consent, that tenant's MFA policy)
      // says nothing of the session; only a dead refresh token, or a refusal at home, does.
      if (
        error instanceof SignInRequiredError &&
        (deadRefreshToken.has(error.aadsts ?? 0) ||
          tenant.toLowerCase() === this.options.app.tenant.toLowerCase())
      )
        await this.options.onSignInRequired?.(error);
      throw error;
    }
    if (result.refreshToken !== null && result.refreshToken !== stored.token) {
      try {
        await this.writeBack(store, result.refreshToken);
      } catch (error) {
        throw new RefreshTokenWriteError(store.description, error, result.refreshToken);
      }
    }
    if (daysLeft !== undefined && daysLeft < (this.options.warnDays ?? DEFAULT_WARN_DAYS))
      this.options.warn?.(
        `partner-token: the refresh token of ${label} had ${Math.max(0, Math.round(daysLeft * 10) / 10)} days left of its ` +
          `${REFRESH_TOKEN_WINDOW_DAYS}-day window${result.refreshToken ? "; it was renewed now and the window starts again" : ""}. ` +
          `Use it at least every ${REFRESH_TOKEN_WINDOW_DAYS - (this.options.warnDays ?? DEFAULT_WARN_DAYS)} days (a scheduled partner-token token does).`,
      );
    return result;
  }
}

/**
 * AADSTS codes that mean the refresh token itself is dead, in every tenant: expired after 90 idle
 * days (700082), revoked (50173, 70008, 9002313 malformed), or its session ended (50132, 70043).
 */
const deadRefreshToken = new Set([700082, 50173, 70008, 9002313, 50132, 70043, 700084]);

/** Short stable name of a cache key, for lock file names. */
export function keyDigest(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 24);
}
