/**
 * A session over a refresh-token store, with no profile: the refresh token is read from the store
 * (a file, the OS keyring, Key Vault, Redis — `openRefreshTokenStore`), redeemed, and the rotated
 * one written back before the access token is handed out, as a profile's session does. What
 * `partner-token token --refresh-token-store URI --application-id A …` runs, for library users.
 */
import { createHash } from "node:crypto";
import { resolveEnvironment } from "../client/environments.ts";
import type { CertificateSource, ClientOptions } from "../client/types.ts";
import { DEFAULT_WARN_DAYS, partnerCenterResource, TokenBroker } from "./broker.ts";
import { FileTokenCache } from "./file-cache.ts";
import { defaultCacheDir } from "./paths.ts";
import { ProfileFile, SCHEMA_VERSION, type SessionEnvironment } from "./profile-file.ts";
import { profileName, type SessionInfo } from "./session.ts";
import type { RefreshTokenStore, TokenCache } from "./types.ts";

export interface StoreSessionOptions {
  /** Where the refresh token lives, opened (`openRefreshTokenStore(uri)`); the session closes it. */
  store: RefreshTokenStore;
  /** The application the refresh token was issued to. */
  applicationId: string;
  /** A confidential app's secret, or its certificate (neither for a public client). */
  clientSecret?: string;
  /**
   * Instead of `clientSecret`: reads the secret where it is kept, at each renewal, so a
   * long-running process picks up a rotated secret (`storeValueReader` reads a store).
   */
  readClientSecret?: () => Promise<string>;
  /** A certificate; one with `read` is read again at each renewal. */
  certificate?: CertificateSource;
  /** The cloud (`AzureCloud` by default, …, `Emulator`), or a custom login host, and an extra CA. */
  environment?: string;
  authorityHost?: string;
  caFile?: string;
  /** The default tenant of `getToken` (default `organizations`). */
  tenant?: string;
  /**
   * Where access tokens are cached: default a local encrypted file of a profile named after the
   * store (`store-` and a digest of its description) in `cacheDir`; a `MemoryTokenCache` or
   * `openTokenCache("redis://…")` otherwise. The session closes it.
   */
  cache?: TokenCache;
  /** The local cache's profile name (default `store-<digest>`) and folder. */
  profile?: string;
  cacheDir?: string;
  clientOptions?: ClientOptions;
  /** Notices for a person: the key-file warning, a refresh token near the end of its window. */
  warn?: (line: string) => void;
  warnDays?: number;
  /** CAE tokens (cp1) where the resource takes them (default true; `--no-cae` turns it off). */
  cae?: boolean;
}

/** A {@link TokenBroker} over a store, with the same `info` as a profile's session. */
export class StoreSession extends TokenBroker {
  readonly info: SessionInfo;
  readonly #close: () => Promise<void>;

  constructor(
    info: SessionInfo,
    options: ConstructorParameters<typeof TokenBroker>[0],
    close: () => Promise<void>,
  ) {
    super(options);
    this.info = info;
    this.#close = close;
  }

  /** Closes the store and the cache (a Redis connection, if any). */
  close(): Promise<void> {
    return this.#close();
  }
}

const digest = (text: string, length: number): string =>
  createHash("sha256").update(text).digest("hex").slice(0, length);

/**
 * Opens a session over `options.store`.
 *
 * @example
 * ```ts
 * const store = await openRefreshTokenStore("keyvault:https://kv.vault.azure.net/secrets/rt");
 * const session = await openStoreSession({ store, applicationId: appId, clientSecret });
 * try {
 *   const { accessToken } = await session.getToken({
 *     scopes: ["https://graph.microsoft.com/.default"],
 *     tenant: customerTenantId,
 *   });
 * } finally {
 *   await session.close();
 * }
 * ```
 */
export async function openStoreSession(options: StoreSessionOptions): Promise<StoreSession> {
  const { store } = options;
  const close = async (): Promise<void> => {
    await store.close?.().catch(() => undefined);
    await options.cache?.close?.().catch(() => undefined);
  };
  try {
    const resolved = resolveEnvironment({
      ...(options.environment !== undefined ? { environment: options.environment } : {}),
      ...(options.authorityHost !== undefined ? { authorityHost: options.authorityHost } : {}),
      ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
    });
    const environment: SessionEnvironment = {
      name: resolved.name,
      authorityHost: resolved.authorityHost,
      partnerCenterEndpoint: resolved.partnerCenterEndpoint,
      caFile: resolved.caFile,
    };
    const tenant = options.tenant ?? "organizations";
    const profile = profileName(options.profile ?? `store-${digest(store.description, 12)}`);
    const cache =
      options.cache ??
      localCache(options, profile, environment, tenant, store.description, options.warn);
    const info: SessionInfo = {
      profile,
      kind: "user",
      applicationId: options.applicationId,
      tenant,
      tenantId: null,
      account: null,
      environment,
    };
    return new StoreSession(
      info,
      {
        kind: "user",
        app: {
          clientId: options.applicationId,
          ...(options.readClientSecret
            ? { readClientSecret: options.readClientSecret }
            : options.clientSecret
              ? { clientSecret: options.clientSecret }
              : {}),
          ...(options.certificate ? { certificate: options.certificate } : {}),
          environment,
          tenant,
        },
        // Whose tokens: the store's, so two stores (two accounts) never share a cache entry.
        accountId: `store:${digest(store.description, 16)}`,
        refreshTokens: store,
        cache,
        defaultScopes: [`${partnerCenterResource(environment)}/user_impersonation`],
        ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
        ...(options.warn ? { warn: options.warn } : {}),
        warnDays: options.warnDays ?? DEFAULT_WARN_DAYS,
        ...(options.cae !== undefined ? { cae: options.cae } : {}),
        label: store.description,
      },
      close,
    );
  } catch (error) {
    await close();
    throw error;
  }
}

/** The local encrypted cache of a store's access tokens: a profile file of its own. */
function localCache(
  options: StoreSessionOptions,
  profile: string,
  environment: SessionEnvironment,
  tenant: string,
  storeDescription: string,
  warn: ((line: string) => void) | undefined,
): TokenCache {
  const file = new ProfileFile(options.cacheDir ?? defaultCacheDir(), profile, {
    ...(warn ? { warn } : {}),
  });
  return new FileTokenCache(file, () => ({
    schema: SCHEMA_VERSION,
    profile: file.profile,
    kind: "user",
    clientId: options.applicationId,
    tenant,
    tenantId: null,
    environment,
    account: null,
    scopes: [],
    refreshTokenStore: storeDescription,
    refreshTokenWindowDays: 90,
    connectedAt: Date.now(),
    tokens: {},
  }));
}
