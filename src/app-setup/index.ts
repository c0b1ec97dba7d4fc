/**
 * The partner's app from nothing, and its credentials kept and rotated: `ensureApp` (the Secure
 * Application Model app, its service principal and admin consent, through Graph) and
 * `rotateSecret` (add, store, prove, then remove the old; undone on any failure).
 */
export {
  ensureApp,
  DEFAULT_PERMISSIONS,
  GRAPH_APP_ID,
  LOOPBACK_REDIRECT_URI,
  PARTNER_CENTER_APP_ID,
  AppSetupError,
  type EnsureAppOptions,
  type EnsuredApp,
  type PermissionRequest,
} from "./create-app.ts";
export {
  rotateSecret,
  RotationError,
  type RotateSecretOptions,
  type RotateSecretResult,
} from "./rotate-secret.ts";
export {
  rotateCertificate,
  makeSelfSignedCertificate,
  keyThumbprint,
  type RotateCertificateOptions,
  type RotateCertificateResult,
  type NewCertificate,
} from "./rotate-certificate.ts";
export {
  addPassword,
  removePassword,
  getApplication,
  findApplicationsByName,
  getServicePrincipal,
  waitForReplication,
  isCredentialLag,
  type AppGraph,
  type GraphApplication,
  type PasswordCredential,
  type KeyCredential,
} from "./graph-app.ts";
export {
  appCredentials,
  sessionCredentialExpiry,
  type AppCredentials,
  type CredentialInfo,
  type CredentialHolder,
  type SessionCredentialExpiry,
} from "./credentials.ts";
