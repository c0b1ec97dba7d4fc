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
  /** Any OpenID Connect issuer, found through its discovery document (ADFS, B2C, any server). */
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
