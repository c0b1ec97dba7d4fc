/**
 * partner-token: Microsoft Entra ID access tokens and refresh tokens for Partner Center, Graph,
 * Exchange Online and any API — `New-PartnerAccessToken`, as a library.
 *
 * @example
 * ```ts
 * import { newPartnerAccessToken } from "partner-token";
 * const result = await newPartnerAccessToken({
 *   applicationId: appId,
 *   refreshToken,
 *   scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
 * });
 * ```
 * @packageDocumentation
 */
export { newPartnerAccessToken } from "./client/new-partner-access-token.ts";
export { acquireTokenByClientCredentials } from "./client/client-credentials.ts";
export { acquireTokenByRefreshToken } from "./client/refresh-token.ts";
export { acquireTokenByAuthorizationCode } from "./client/authorization-code.ts";
export { acquireTokenByDeviceCode } from "./client/device-code.ts";
export { authResultFromAccessToken } from "./client/access-token.ts";
export { decodeAccessToken, type DecodedToken } from "./client/decode.ts";
export {
  resolveParameterSet,
  parameterSets,
  EXCHANGE_ONLINE,
  type ParameterSetName,
  type FlowName,
  type ResolvedParameters,
} from "./client/parameter-sets.ts";
export {
  environments,
  resolveEnvironment,
  emulatorDataDir,
  EMULATOR_DEFAULT_URL,
  type Environment,
  type EnvironmentInput,
} from "./client/environments.ts";
export {
  loadCertificate,
  certificateDirectory,
  dotnetCertificateStoreDirectory,
  normalizeThumbprint,
  type LoadedCertificate,
} from "./client/certificates.ts";
export { createClientAssertion } from "./client/client-assertion.ts";
export {
  PartnerTokenError,
  UsageError,
  ServerError,
  SignInRequiredError,
  CancelledError,
  TimeoutError,
  ResponseTooLargeError,
  type ServerErrorFields,
} from "./client/errors.ts";
export { redact, secretNames } from "./client/redact.ts";
export { ERROR_CODES, isErrorCode, type ErrorCode } from "./error-codes.ts";
export {
  openSession,
  connectSession,
  disconnectSession,
  sessionStatus,
  Session,
  DEFAULT_APPLICATION_ID,
  type SessionOptions,
  type ConnectParams,
  type SessionStatus,
  type SessionInfo,
} from "./session/session.ts";
export {
  openStoreSession,
  StoreSession,
  type StoreSessionOptions,
} from "./session/store-session.ts";
export { storeValueReader } from "./session/store-reader.ts";
export { TokenBroker, RefreshTokenWriteError, type TokenBrokerOptions } from "./session/broker.ts";
export { MemoryTokenCache } from "./session/memory-cache.ts";
export {
  openRefreshTokenStore,
  openTokenCache,
  parseStoreUri,
  parseEncryptionKey,
  StoreError,
  StoreUriError,
  type StoreLocation,
  type OpenStoreOptions,
  type OpenCacheOptions,
} from "./stores/index.ts";
export {
  PartnerTokenCredential,
  CredentialUnavailableError,
  type PartnerTokenCredentialOptions,
} from "./session/credential.ts";
export type {
  GetTokenOptions,
  TokenSource,
  TokenCache,
  CachedToken,
  RefreshTokenStore,
  StoredRefreshToken,
} from "./session/types.ts";
export { startSidecar, type SidecarOptions, type RunningSidecar } from "./sidecar/server.ts";
export { childEnvironment, REMOVED_VARIABLES } from "./sidecar/environment.ts";
export {
  PartnerCenterClient,
  PartnerCenterError,
  PARTNER_CENTER_SCOPE,
  type PartnerCenterClientOptions,
  type PartnerCenterRequest,
  type PartnerCenterResponse,
} from "./partner-center/client.ts";
export {
  generatePartnerCenterToken,
  type PartnerCenterToken,
} from "./partner-center/generate-token.ts";
export { listCustomers, type Customer } from "./partner-center/customers.ts";
export {
  customerTokens,
  bulkClientOptions,
  DEFAULT_CONCURRENCY,
  type CustomerRef,
  type CustomerTokensOptions,
  type CustomerTokenResult,
  type CustomerTokenSuccess,
  type CustomerTokenFailure,
} from "./customers/customer-tokens.ts";
export { LocalThrottle, type Throttle } from "./customers/throttle.ts";
export { RedisThrottle } from "./customers/redis-throttle.ts";
export { customerHint } from "./customers/hints.ts";
export {
  checkCustomers,
  missingGrants,
  type CheckCustomersOptions,
  type CustomerCheck,
  type RelationshipView,
  type Problem,
  type ProblemCode,
} from "./customers/check.ts";
export {
  consentCustomers,
  defaultGrants,
  parseGrant,
  DEFAULT_CONSENT_GRANTS,
  type ConsentCustomersOptions,
  type CustomerConsent,
} from "./customers/consent.ts";
export {
  GraphClient,
  GraphError,
  GRAPH_RESOURCE,
  type GraphClientOptions,
  type GraphRequest,
} from "./graph/client.ts";
export {
  GRAPH_APP_ID,
  ROLE_NAMES,
  roleName,
  type DelegatedAdminRelationship,
  type AccessAssignment,
  type ServicePrincipal,
  type PermissionGrant,
  type ResourceGrant,
} from "./graph/directory.ts";
export { openSystemBrowser } from "./client/browser.ts";
export { LOOPBACK_FIRST_PORT, LOOPBACK_LAST_PORT } from "./client/loopback.ts";
export type {
  AuthResult,
  AccountInfo,
  NewPartnerAccessTokenParams,
  ClientCredential,
  ModuleName,
  ClientOptions,
  ThrottledAnswer,
  CertificateReader,
  CertificateSource,
  FlowRequest,
  ClientCredentialsRequest,
  RefreshTokenRequest,
  AuthorizationCodeRequest,
  DeviceCodeRequest,
} from "./client/types.ts";
