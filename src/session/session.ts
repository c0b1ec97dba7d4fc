/**
 * Sessions, as `Connect-PartnerCenter` keeps them: sign in once (`connectSession`), then every
 * later command gets its tokens silently (`openSession(…).getToken(…)`), renewing and rotating
 * the refresh token as needed. One session per profile, kept encrypted in the cache folder.
 */
import { PartnerTokenError, SignInRequiredError, UsageError } from "../client/errors.ts";
import { tryDecodeClaims } from "../client/decode.ts";
import { resolveEnvironment } from "../client/environments.ts";
import type { AuthResult, ClientOptions, NewPartnerAccessTokenParams } from "../client/types.ts";
import {
  DEFAULT_WARN_DAYS,
  partnerCenterResource,
  REFRESH_TOKEN_WINDOW_DAYS,
  RefreshTokenWriteError,
  TokenBroker,
  withoutRefreshToken,
  type TokenBrokerOptions,
} from "./broker.ts";
import { deleteCacheKey } from "./cache-key.ts";
import { FileTokenCache, LocalRefreshTokenStore } from "./file-cache.ts";
import { defaultCacheDir, PROFILE_NAME } from "./paths.ts";
import {
  ProfileFile,
  SCHEMA_VERSION,
  type ProfileRecord,
  type SessionEnvironment,
  type SessionKind,
} from "./profile-file.ts";
import { isCredentialStoreUri, storeValueReader } from "./store-reader.ts";
import type { CachedToken, RefreshTokenStore, TokenCache } from "./types.ts";
import type { BrokerApp } from "./broker.ts";

/** `Connect-PartnerCenter`'s default application: the Azure CLI's public client. */
export const DEFAULT_APPLICATION_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

export interface SessionOptions {
  /** Profile name (default `$PARTNER_TOKEN_PROFILE`, else `default`). */
  profile?: string;
  /** Cache folder (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Where access tokens are cached: default the profile's encrypted file; a MemoryTokenCache or a RedisTokenCache otherwise. */
  cache?: TokenCache;
  clientOptions?: ClientOptions;
  /** Notices for a person: the key-file warning, a refresh token near the end of its window. */
  warn?: (line: string) => void;
  warnDays?: number;
  /**
   * Opens an external store by URI: the refresh token's (`--refresh-token-store`), and the one a
   * client secret or certificate is kept in (`--credential keyvault:…`), read at each renewal.
   * `caFile` is the session's extra CA, for a store that has none of its own.
   */
  openStore?: (uri: string, options?: { caFile?: string }) => Promise<RefreshTokenStore>;
  /** CAE tokens (cp1) where the resource takes them (default true; `--no-cae` turns it off). */
  cae?: boolean;
}

const DAY_MS = 86_400_000;

export function profileName(profile?: string): string {
  const name = profile ?? process.env.PARTNER_TOKEN_PROFILE ?? "default";
  if (!PROFILE_NAME.test(name))
    throw new UsageError(
      "ERR_INVALID_PROFILE",
      `'${name}' is not a profile name: use letters, digits, '.', '_' and '-' (at most 64 characters).`,
    );
  return name;
}

function fileFor(options: SessionOptions): ProfileFile {
  return new ProfileFile(options.cacheDir ?? defaultCacheDir(), profileName(options.profile), {
    ...(options.warn ? { warn: options.warn } : {}),
  });
}

/** Who and where a session is, nothing secret: `Session.info` and `StoreSession.info`. */
export interface SessionInfo {
  /** The profile (a store's session: the profile of its local token cache). */
  profile: string;
  kind: SessionKind;
  applicationId: string;
  tenant: string;
  tenantId: string | null;
  account: string | null;
  environment: SessionEnvironment;
}

/** A signed-in profile: a {@link TokenBroker} with what the session knows about itself. */
export class Session extends TokenBroker {
  readonly record: ProfileRecord;

  constructor(record: ProfileRecord, options: TokenBrokerOptions) {
    super(options);
    this.record = record;
  }

  /** Who and where, nothing secret. */
  get info(): SessionInfo {
    const r = this.record;
    return {
      profile: r.profile,
      kind: r.kind,
      applicationId: r.clientId,
      tenant: r.tenant,
      tenantId: r.tenantId,
      account: r.account?.username ?? null,
      environment: r.environment,
    };
  }
}

async function storeFor(
  record: ProfileRecord,
  file: ProfileFile,
  options: SessionOptions,
): Promise<RefreshTokenStore> {
  if (!record.refreshTokenStore) return new LocalRefreshTokenStore(file);
  if (!options.openStore)
    throw new PartnerTokenError(
      "ERR_STORE_UNAVAILABLE",
      `The session of profile '${record.profile}' keeps its refresh token in ${record.refreshTokenStore}, which this caller cannot open.`,
    );
  return options.openStore(record.refreshTokenStore);
}

/**
 * Opens the store a profile keeps its secret or certificate in, for `what`; an error naming it
 * when this caller was given no way to open stores.
 */
function credentialStoreOpener(
  record: Pick<ProfileRecord, "profile" | "environment">,
  options: SessionOptions,
  what: string,
): (uri: string) => Promise<RefreshTokenStore> {
  const caFile = record.environment.caFile;
  return async (uri) => {
    if (!options.openStore)
      throw new PartnerTokenError(
        "ERR_STORE_UNAVAILABLE",
        `The session of profile '${record.profile}' reads its ${what} from ${uri}, which this caller cannot open.`,
        { hint: "Give SessionOptions.openStore (the command line does)." },
      );
    return options.openStore(uri, caFile ? { caFile } : {});
  };
}

/**
 * The app of a profile's session: a secret or certificate kept in a store is read from it at
 * each renewal (a profile from before `clientSecretStore` keeps its secret's value: still used).
 */
function appOf(record: ProfileRecord, options: SessionOptions): BrokerApp {
  const { certificate, clientSecretStore } = record;
  return {
    clientId: record.clientId,
    ...(clientSecretStore
      ? {
          readClientSecret: storeValueReader(
            clientSecretStore,
            credentialStoreOpener(record, options, "client secret"),
            "client secret",
          ),
        }
      : record.clientSecret
        ? { clientSecret: record.clientSecret }
        : {}),
    ...(certificate
      ? {
          certificate: isCredentialStoreUri(certificate.path)
            ? {
                read: storeValueReader(
                  certificate.path,
                  credentialStoreOpener(record, options, "certificate"),
                  "certificate",
                  "empty",
                ),
                description: certificate.path,
                ...(certificate.thumbprint ? { thumbprint: certificate.thumbprint } : {}),
                ...(certificate.password ? { password: certificate.password } : {}),
              }
            : certificate,
        }
      : {}),
    environment: record.environment,
    tenant: record.tenantId ?? record.tenant,
  };
}

function brokerOptions(
  record: ProfileRecord,
  file: ProfileFile,
  refreshTokens: RefreshTokenStore | undefined,
  options: SessionOptions,
): TokenBrokerOptions {
  return {
    kind: record.kind,
    app: appOf(record, options),
    ...(record.account ? { accountId: record.account.homeAccountId } : {}),
    ...(refreshTokens ? { refreshTokens } : {}),
    cache: options.cache ?? new FileTokenCache(file),
    ...(record.kind === "accessToken" && record.tokens.accessToken
      ? { accessToken: record.tokens.accessToken.result }
      : {}),
    defaultScopes: record.scopes,
    ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
    warnDays: options.warnDays ?? DEFAULT_WARN_DAYS,
    ...(options.cae !== undefined ? { cae: options.cae } : {}),
    label: `profile '${record.profile}'`,
    onSignInRequired: async (error) => {
      await file.update((current) =>
        current
          ? {
              ...current,
              signInRequired: { code: error.code, message: error.message, at: Date.now() },
            }
          : null,
      );
    },
  };
}

function noSession(profile: string): SignInRequiredError {
  return new SignInRequiredError("ERR_NO_SESSION", `No session for profile '${profile}'.`, {
    hint: `Sign in first: partner-token connect${profile === "default" ? "" : ` --profile ${profile}`} (see partner-token connect --help).`,
  });
}

/**
 * Opens the profile's session.
 *
 * @example
 * ```ts
 * const session = await openSession({ profile: "contoso" });
 * const { accessToken } = await session.getToken({
 *   scopes: ["https://graph.microsoft.com/.default"],
 *   tenant: customerTenantId,
 * });
 * ```
 * @throws {SignInRequiredError} `ERR_NO_SESSION` (exit 4) when the profile has no usable session.
 */
export async function openSession(options: SessionOptions = {}): Promise<Session> {
  const file = fileFor(options);
  const record = await file.read();
  if (!record) throw noSession(file.profile);
  const refreshTokens = record.kind === "user" ? await storeFor(record, file, options) : undefined;
  return new Session(record, brokerOptions(record, file, refreshTokens, options));
}

/** What `connectSession` takes: `New-PartnerAccessToken`'s parameters, with Connect-PartnerCenter's defaults. */
export interface ConnectParams extends NewPartnerAccessTokenParams {
  /** Keep the refresh token in this store instead of the local cache. */
  refreshTokenStore?: string;
  /**
   * The store the client secret is kept in (`keyvault:…`, `keyring:…`, `file:…`), opened through
   * `options.openStore`: the session keeps this URI, never the secret, and reads the secret from
   * it at each renewal. The sign-in uses `credential` when given, else reads the store.
   */
  clientSecretStore?: string;
  /**
   * The store the certificate is kept in (the base64 of a PFX, or PEM with its key), read through
   * `options.openStore` at the sign-in and each renewal; the session keeps the URI. Instead of
   * `certificatePath`/`certificateReader`.
   */
  certificateStore?: string;
}

/** The kind of session a set of parameters makes. */
export function sessionKind(params: ConnectParams): SessionKind {
  if (params.accessToken) return "accessToken";
  if (params.servicePrincipal && !params.useAuthorizationCode && !params.refreshToken)
    return "servicePrincipal";
  return "user";
}

/**
 * `Connect-PartnerCenter`: signs in (browser, device code, refresh token, service principal,
 * certificate, or an access token) and saves the session under the profile.
 *
 * @example
 * ```ts
 * await connectSession({ useDeviceAuthentication: true }, { profile: "default" });
 * ```
 */
export async function connectSession(
  params: ConnectParams,
  options: SessionOptions = {},
): Promise<{ session: Session; result: AuthResult }> {
  const file = fileFor(options);
  const kind = sessionKind(params);
  const resolved = resolveEnvironment(params);
  const environment: SessionEnvironment = {
    name: resolved.name,
    authorityHost: resolved.authorityHost,
    partnerCenterEndpoint: resolved.partnerCenterEndpoint,
    caFile: resolved.caFile,
    ...(params.authority ? { authority: params.authority } : {}),
  };
  const pc = partnerCenterResource(environment);
  const request: NewPartnerAccessTokenParams = {
    ...params,
    applicationId: params.applicationId ?? params.credential?.userName ?? DEFAULT_APPLICATION_ID,
    scopes:
      params.scopes ??
      (params.resource
        ? undefined
        : [kind === "servicePrincipal" ? `${pc}/.default` : `${pc}/user_impersonation`]),
  };
  delete (request as ConnectParams).refreshTokenStore;
  delete (request as ConnectParams).clientSecretStore;
  delete (request as ConnectParams).certificateStore;
  // A store URI as the certificate's path (as sessions kept it before certificateStore) is one too.
  const certificateStore =
    params.certificateStore ??
    (isCredentialStoreUri(params.certificatePath) ? params.certificatePath : undefined);
  for (const [name, uri] of [
    ["clientSecretStore", params.clientSecretStore],
    ["certificateStore", certificateStore],
  ] as const)
    if (uri !== undefined && !isCredentialStoreUri(uri))
      throw new UsageError(
        "ERR_INVALID_ARGUMENT",
        `${name} takes a store URI (keyvault:https://VAULT.vault.azure.net/secrets/NAME, keyring:NAME or file:PATH), not '${uri}'.`,
      );
  if (params.certificateReader && !certificateStore)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "A session cannot keep a certificateReader: give certificateStore (the store's URI), which it reads at each renewal.",
    );
  // The stores the first sign-in reads are the ones every renewal reads again.
  const where = { profile: file.profile, environment };
  if (params.clientSecretStore && !params.credential) {
    const read = storeValueReader(
      params.clientSecretStore,
      credentialStoreOpener(where, options, "client secret"),
      "client secret",
    );
    request.credential = { userName: request.applicationId!, password: await read() };
  }
  if (certificateStore) {
    delete request.certificatePath;
    request.certificateReader = {
      read: storeValueReader(
        certificateStore,
        credentialStoreOpener(where, options, "certificate"),
        "certificate",
        "empty",
      ),
      description: certificateStore,
    };
  }
  let store: RefreshTokenStore | undefined;
  if (params.refreshTokenStore) {
    if (!options.openStore)
      throw new PartnerTokenError(
        "ERR_STORE_UNAVAILABLE",
        "refreshTokenStore needs options.openStore.",
      );
    store = await options.openStore(params.refreshTokenStore);
  }
  const { newPartnerAccessToken } = await import("../client/new-partner-access-token.ts");
  const result = await newPartnerAccessToken(request, options.clientOptions ?? {});
  const now = Date.now();
  if (kind === "user" && result.refreshToken === null)
    options.warn?.(
      "partner-token: the server issued no refresh token, so this session lasts only until its access token expires.",
    );
  let storeFailure: unknown;
  if (store && result.refreshToken) {
    try {
      await store.write(result.refreshToken);
    } catch (error) {
      // Nothing is lost: the session keeps the token in its local cache instead.
      storeFailure = error;
      await store.close?.();
      store = undefined;
    }
  }
  const scopes = request.scopes ?? result.scopes;
  const clientId = request.applicationId!;
  const record: ProfileRecord = {
    schema: SCHEMA_VERSION,
    profile: file.profile,
    kind,
    clientId,
    tenant: params.tenant ?? "organizations",
    tenantId: result.tenantId,
    environment,
    account: result.account
      ? {
          username: result.account.username,
          homeAccountId: result.account.homeAccountId.identifier,
        }
      : null,
    scopes,
    // A secret kept in a store stays there: the session keeps where, and reads it at each renewal.
    ...(params.clientSecretStore
      ? { clientSecretStore: params.clientSecretStore }
      : params.credential
        ? { clientSecret: params.credential.password }
        : {}),
    ...(certificateStore || params.certificatePath || params.certificateThumbprint
      ? {
          certificate: {
            ...(certificateStore || params.certificatePath
              ? { path: (certificateStore ?? params.certificatePath)! }
              : {}),
            ...(params.certificateThumbprint ? { thumbprint: params.certificateThumbprint } : {}),
            ...(params.certificatePassword ? { password: params.certificatePassword } : {}),
          },
        }
      : {}),
    ...(result.refreshToken && !store
      ? { refreshToken: { token: result.refreshToken, updatedAt: now } }
      : {}),
    ...(store ? { refreshTokenStore: params.refreshTokenStore! } : {}),
    refreshTokenWindowDays: REFRESH_TOKEN_WINDOW_DAYS,
    connectedAt: now,
    tokens: {},
  };
  const refreshTokens = kind === "user" ? (store ?? new LocalRefreshTokenStore(file)) : undefined;
  const cached = {
    result: withoutRefreshToken(result),
    expiresAt: Date.parse(result.expiresOn),
    obtainedAt: now,
  };
  const session = new Session(record, brokerOptions(record, file, refreshTokens, options));
  record.tokens[
    kind === "accessToken"
      ? "accessToken"
      : session.cacheKey(scopes, record.tenantId ?? record.tenant)
  ] = cached;
  await file.update(() => record);
  if (storeFailure !== undefined)
    throw new RefreshTokenWriteError(
      params.refreshTokenStore!,
      storeFailure,
      result.refreshToken!,
      `The session of profile '${file.profile}' keeps the new refresh token in its local cache instead, so nothing is lost; fix the store and connect again with --refresh-token-store.`,
    );
  return { session, result };
}

/**
 * Removes the profile's session: its tokens, its refresh token in the local cache, and its key.
 * A refresh token kept in an external store stays there (other workers may use it).
 * Resolves to false when there was no session.
 */
export async function disconnectSession(options: SessionOptions = {}): Promise<boolean> {
  const file = fileFor(options);
  let existed = false;
  try {
    await file.update((record) => {
      existed = record !== undefined;
      return null;
    });
  } finally {
    await deleteCacheKey(file.cacheDir, file.profile);
  }
  return existed;
}

export type SessionState = "ok" | "expiring" | "signInRequired";

/** What `partner-token status` shows: nothing secret. */
export interface SessionStatus {
  profile: string;
  state: SessionState;
  kind: SessionKind | null;
  account: string | null;
  tenant: string | null;
  tenantId: string | null;
  environment: SessionEnvironment | null;
  applicationId: string | null;
  connectedAt: string | null;
  refreshToken: {
    location: string;
    lastRotation: string | null;
    daysLeft: number | null;
    expiresOn: string | null;
  } | null;
  tokens: Array<{ scopes: string[]; tenant: string; expiresOn: string; valid: boolean }>;
  signInRequired: { code: string; message: string; at: string } | null;
  /**
   * Whether the sign-in behind the session's refresh token was multi-factor (`mfa` in the `amr`
   * of its newest cached access token, which Entra carries over from that sign-in); null when no
   * cached token says (renew one with any 'token' command). Partner Center refuses App + User
   * calls without it.
   */
  mfa: boolean | null;
  /** Why the state is what it is, for a person. */
  reason: string;
}

/**
 * The profile's health: `ok`; `expiring` when the refresh token has fewer than `warnDays` days left
 * of its window; `signInRequired` when there is no session, the window has passed, or the last
 * renewal was refused.
 */
export async function sessionStatus(
  options: SessionOptions & { warnDays?: number } = {},
): Promise<SessionStatus> {
  const file = fileFor(options);
  const record = await file.read();
  const empty: SessionStatus = {
    profile: file.profile,
    state: "signInRequired",
    kind: null,
    account: null,
    tenant: null,
    tenantId: null,
    environment: null,
    applicationId: null,
    connectedAt: null,
    refreshToken: null,
    tokens: [],
    signInRequired: null,
    mfa: null,
    reason: `no session for profile '${file.profile}': sign in with partner-token connect`,
  };
  if (!record) return empty;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  let refreshToken: SessionStatus["refreshToken"] = null;
  if (record.kind === "user") {
    let updatedAt: number | undefined;
    let location = "local cache";
    if (record.refreshTokenStore) {
      location = record.refreshTokenStore;
      if (options.openStore) {
        const store = await options.openStore(record.refreshTokenStore);
        try {
          updatedAt = (await store.read())?.updatedAt;
        } finally {
          await store.close?.();
        }
      }
    } else updatedAt = record.refreshToken?.updatedAt;
    const window = record.refreshTokenWindowDays ?? REFRESH_TOKEN_WINDOW_DAYS;
    refreshToken = {
      location,
      lastRotation: updatedAt === undefined ? null : iso(updatedAt),
      daysLeft:
        updatedAt === undefined
          ? null
          : Math.round(((updatedAt + window * DAY_MS - now) / DAY_MS) * 10) / 10,
      expiresOn: updatedAt === undefined ? null : iso(updatedAt + window * DAY_MS),
    };
  }
  const tokens = Object.entries(record.tokens).map(([key, t]) => {
    const parts = key.split("|");
    return {
      scopes: t.result.scopes.length ? t.result.scopes : (parts[4] ?? "").split(" "),
      tenant: t.result.tenantId ?? parts[3] ?? "",
      expiresOn: t.result.expiresOn,
      valid: t.expiresAt > now,
    };
  });
  const warnDays = options.warnDays ?? DEFAULT_WARN_DAYS;
  let state: SessionState = "ok";
  let reason = "healthy";
  if (record.signInRequired) {
    state = "signInRequired";
    reason = `the last renewal was refused (${record.signInRequired.message}): sign in again with partner-token connect`;
  } else if (record.kind === "accessToken") {
    const t = record.tokens.accessToken;
    if (!t || t.expiresAt <= now) {
      state = "signInRequired";
      reason = "the session's access token has expired and cannot be renewed: connect again";
    }
  } else if (record.kind === "user") {
    const left = refreshToken?.daysLeft;
    if (!record.refreshTokenStore && !record.refreshToken) {
      state = "signInRequired";
      reason = "the session has no refresh token: connect again";
    } else if (left !== null && left !== undefined && left <= 0) {
      state = "signInRequired";
      reason = `the refresh token was not used for ${record.refreshTokenWindowDays} days and has expired (AADSTS700082): sign in again with partner-token connect`;
    } else if (left !== null && left !== undefined && left < warnDays) {
      state = "expiring";
      reason = `the refresh token expires in ${left} days unless it is used: run partner-token token (any scope) to renew it`;
    }
  }
  return {
    profile: record.profile,
    state,
    kind: record.kind,
    account: record.account?.username ?? null,
    tenant: record.tenant,
    tenantId: record.tenantId,
    environment: record.environment,
    applicationId: record.clientId,
    connectedAt: iso(record.connectedAt),
    refreshToken,
    tokens,
    signInRequired: record.signInRequired
      ? { ...record.signInRequired, at: iso(record.signInRequired.at) }
      : null,
    mfa: record.kind === "user" ? mfaOf(Object.values(record.tokens)) : null,
    reason,
  };
}

/** `mfa` in the `amr` of the newest cached access token that has an `amr`; null when none has. */
function mfaOf(tokens: CachedToken[]): boolean | null {
  const newest = [...tokens].sort((a, b) => b.obtainedAt - a.obtainedAt);
  for (const t of newest) {
    const amr = tryDecodeClaims(t.result.accessToken)?.["amr"];
    if (Array.isArray(amr)) return amr.includes("mfa");
  }
  return null;
}
