/**
 * The public shapes of the token library: the parameters of `newPartnerAccessToken` (named like
 * the cmdlet's, in camelCase) and the AuthResult it returns (SPEC §4).
 */

/** Where a client secret, refresh token or access token comes from is the CLI's business; the library takes values. */
export interface ClientCredential {
  /** The cmdlet's PSCredential user name: the application (client) id. */
  userName: string;
  /** The client secret. */
  password: string;
}

export type ModuleName = "ExchangeOnline";

export interface NewPartnerAccessTokenParams {
  accessToken?: string;
  applicationId?: string;
  certificateThumbprint?: string;
  /** A certificate file (PEM with key, or PFX) used instead of a thumbprint lookup. */
  certificatePath?: string;
  /** Password of a PFX certificate file. */
  certificatePassword?: string;
  /**
   * A certificate the caller reads from where it keeps it (a vault, the OS keyring), instead of
   * `certificatePath`: the library opens no store. Read at each use.
   */
  certificateReader?: CertificateReader;
  credential?: ClientCredential;
  /** Environment name (AzureCloud, AzureChinaCloud, …, legacy names, `Emulator`), any case. */
  environment?: string;
  module?: ModuleName;
  refreshToken?: string;
  /** Azure AD v1 resource (module 1.5.x `-Resource`): mapped to `{resource}/.default`. */
  resource?: string;
  scopes?: string[];
  servicePrincipal?: boolean;
  tenant?: string;
  useAuthorizationCode?: boolean;
  useDeviceAuthentication?: boolean;
  /**
   * Any OpenID Connect issuer, found through its discovery document (ADFS, B2C, any server).
   * The issuer decides where to sign in, so no parameter set requires `tenant` then.
   */
  authority?: string;
  /** A custom environment: authority host (e.g. the emulator's URL). */
  authorityHost?: string;
  partnerCenterEndpoint?: string;
  /** PEM file of an extra certificate authority to trust (the emulator's). */
  caFile?: string;
}

export interface AccountInfo {
  username: string | null;
  environment: string;
  homeAccountId: { identifier: string; objectId: string; tenantId: string };
}

/** SPEC §4. JSON on stdout, camelCase. */
export interface AuthResult {
  accessToken: string;
  /** null only when the server issued none. */
  refreshToken: string | null;
  idToken: string | null;
  tokenType: string;
  /** ISO 8601, UTC. */
  expiresOn: string;
  extendedExpiresOn: string;
  tenantId: string | null;
  uniqueId: string | null;
  account: AccountInfo | null;
  scopes: string[];
  correlationId: string;
  isExtendedLifeTimeToken: boolean;
}

/** Injectable IO for every library call. Nothing is written to stdout or stderr directly. */
export interface ClientOptions {
  /** Progress for a person (stderr in the CLI): the device code message, "Opening your browser…". */
  log?: (line: string) => void;
  /** The HTTP exchange, one line per call, every secret and token redacted. */
  debug?: (line: string) => void;
  /** Opens the sign-in URL. Default: `$BROWSER`, else the system's opener; the URL is always logged too. */
  openBrowser?: (url: string) => Promise<void>;
  /** Cancels the operation (throws `CancelledError`). */
  signal?: AbortSignal;
  /**
   * Told of every throttled answer (429, or 503 with `Retry-After`) before the HTTP layer retries
   * it, so that a caller running many requests can slow all of them down (the bulk customer job
   * shares one throttle state across its workers). Return `"defer"` to get the answer back at
   * once instead of a retry in place: the request fails with its 429 and the caller retries it
   * later, its worker free meanwhile.
   */
  onThrottled?: (answer: ThrottledAnswer) => "retry" | "defer" | void;
  /**
   * The deadline of one operation in milliseconds: every request to the servers (discovery, token,
   * key set) with all its retries, retry waits and body reads together. Time spent waiting for a
   * person (the browser sign-in, a device code's approval) does not count: the deadline starts
   * again after it, for each poll. Default 60 000. Over it: `TimeoutError` (`ERR_TIMEOUT`).
   */
  timeoutMs?: number;
  /**
   * The longest silence of a server, in milliseconds: before its answer's headers or between two
   * parts of its body. The attempt is then retried within the deadline. Default 30 000.
   */
  idleTimeoutMs?: number;
  /**
   * The largest answer read, in bytes; reading stops there with `ResponseTooLargeError`
   * (`ERR_RESPONSE_TOO_LARGE`). Default 4 MiB (4 194 304).
   */
  maxResponseBytes?: number;
}

/** A throttled answer as the HTTP layer saw it (see {@link ClientOptions.onThrottled}). */
export interface ThrottledAnswer {
  method: string;
  /** The URL without its query. */
  url: string;
  status: number;
  /** `Retry-After` in milliseconds, when the server sent one. */
  retryAfterMs: number | undefined;
}

/**
 * Reads a certificate from wherever the caller keeps it: the base64 of a PFX (what Key Vault holds
 * in a certificate's secret) or PEM text with its private key; `""` when there is none.
 */
export interface CertificateReader {
  read: () => Promise<string>;
  /** Where it reads from, for messages (`keyvault:https://…/secrets/app-cert`); never a secret. */
  description: string;
}

/** A certificate for a signed client assertion: by thumbprint (certificate folder), by file, or read by the caller. */
export interface CertificateSource {
  /** SHA-1 thumbprint (hex, as Windows shows it; spaces and colons ignored). SHA-256 also accepted. */
  thumbprint?: string;
  /** A PEM file (certificate and key; a key in another file of the same folder is found too) or a PFX file. */
  path?: string;
  /**
   * Instead of `path`: reads the certificate — the base64 of a PFX or PEM text with its key —
   * from where the caller keeps it (a store), at each use, so a rotated certificate is picked up
   * without a restart. The library imports no store: whoever knows the store gives the reader.
   */
  read?: () => Promise<string>;
  /** What `read` reads from, for messages (default "the certificate reader"). */
  description?: string;
  /** Password of a PFX file or of an encrypted PEM key. */
  password?: string;
  /** The only folder searched by thumbprint. Default: `$PARTNER_TOKEN_CERTIFICATE_DIR`, else `~/.config/partner-token/certificates` (`%APPDATA%\partner-token\certificates`), then on Linux .NET's store My of CurrentUser (`~/.dotnet/corefx/cryptography/x509stores/my`). */
  directory?: string;
  /** `PS256` with `x5t#S256` (default), or `RS256` with `x5t` for servers that want the older form. */
  assertionAlgorithm?: "PS256" | "RS256";
}

/** What every per-flow function takes: the app, the scopes, and where to sign in. */
export interface FlowRequest {
  clientId: string;
  scopes: string[];
  /** Tenant id, domain, `organizations` (default) or `common`. */
  tenant?: string;
  /** Environment name (any case, legacy names, `Emulator`). Default `AzureCloud`. */
  environment?: string;
  /** A custom authority host (origin); overrides `environment`. */
  authorityHost?: string;
  partnerCenterEndpoint?: string;
  /** PEM file of an extra certificate authority to trust for every request. */
  caFile?: string;
  /** Any OpenID Connect issuer, found through its discovery document; overrides environment and tenant. */
  authority?: string;
  /** Makes the client confidential (client_secret_post). */
  clientSecret?: string;
  /** Makes the client confidential (private_key_jwt). */
  certificate?: CertificateSource;
}

export type ClientCredentialsRequest = FlowRequest;

export interface RefreshTokenRequest extends FlowRequest {
  refreshToken: string;
  /** A claims challenge from a resource (`WWW-Authenticate: … claims=`), sent as the `claims` parameter. */
  claims?: string;
}

export interface AuthorizationCodeRequest extends FlowRequest {
  /** Default `login` (as the cmdlet); `login consent` for a non-Entra `authority`, so that it issues a refresh token. */
  prompt?: string;
  loginHint?: string;
  /** Loopback ports tried in order; default 8400 … 8999. */
  ports?: { first: number; last: number };
}

export type DeviceCodeRequest = FlowRequest;
