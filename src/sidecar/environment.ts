/**
 * The environment `partner-token exec` gives its command: the two variables that make every Azure
 * SDK choose App Service's managed identity, and none of those that would make it choose another
 * credential first.
 *
 * How the SDKs choose (MSAL for Node/.NET/Java/Python, and azure-identity in Python, .NET, Go
 * and JavaScript, all alike): `DefaultAzureCredential` tries the environment credential
 * (`AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH` or `AZURE_USERNAME`), then workload
 * identity (`AZURE_FEDERATED_TOKEN_FILE`), then managed identity. Managed identity picks its
 * source from the environment in this order: Service Fabric (`IDENTITY_ENDPOINT` +
 * `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT`), App Service (`IDENTITY_ENDPOINT` +
 * `IDENTITY_HEADER`), Azure Machine Learning (`MSI_ENDPOINT` + `MSI_SECRET`), Cloud Shell
 * (`MSI_ENDPOINT`), Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`), else the VM's IMDS.
 */

/** A variable removed from the command's environment, and why. */
export interface RemovedVariable {
  name: string;
  why: string;
}

/**
 * Removed by `exec`: each would make an SDK use another credential than the sidecar.
 *
 * @example
 * ```ts
 * // The shell line that does what exec does, for a program started by hand beside `serve`:
 * console.log(`unset ${REMOVED_VARIABLES.map((v) => v.name).join(" ")}`);
 * ```
 */
export const REMOVED_VARIABLES: readonly RemovedVariable[] = [
  {
    name: "AZURE_CLIENT_SECRET",
    why: "EnvironmentCredential (first in DefaultAzureCredential) would sign in as the app with this secret",
  },
  {
    name: "AZURE_CLIENT_CERTIFICATE_PATH",
    why: "EnvironmentCredential would sign in as the app with this certificate",
  },
  {
    name: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    why: "belongs to AZURE_CLIENT_CERTIFICATE_PATH; a secret the command does not need",
  },
  {
    name: "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    why: "belongs to AZURE_CLIENT_CERTIFICATE_PATH",
  },
  {
    name: "AZURE_USERNAME",
    why: "EnvironmentCredential would sign in with a user name and password",
  },
  { name: "AZURE_PASSWORD", why: "belongs to AZURE_USERNAME; a secret the command does not need" },
  {
    name: "AZURE_FEDERATED_TOKEN_FILE",
    why: "WorkloadIdentityCredential (second in DefaultAzureCredential) would exchange this file's token",
  },
  {
    name: "AZURE_TOKEN_CREDENTIALS",
    why: "'dev' or a credential name would take managed identity out of DefaultAzureCredential",
  },
  {
    name: "IDENTITY_SERVER_THUMBPRINT",
    why: "with IDENTITY_ENDPOINT and IDENTITY_HEADER it means Service Fabric, which is chosen before App Service",
  },
  {
    name: "IDENTITY_API_VERSION",
    why: "Service Fabric's api-version, meaningless for this endpoint",
  },
  {
    name: "MSI_ENDPOINT",
    why: "Azure Machine Learning or Cloud Shell managed identity (older SDKs also read it as App Service 2017-09-01)",
  },
  { name: "MSI_SECRET", why: "belongs to MSI_ENDPOINT" },
  {
    name: "IMDS_ENDPOINT",
    why: "with IDENTITY_ENDPOINT it means Azure Arc (which older @azure/identity tries before App Service), whose challenge protocol this endpoint does not speak",
  },
];

/** The variables `exec` sets. */
export const SET_VARIABLES = {
  IDENTITY_ENDPOINT:
    "the sidecar's URL, http://127.0.0.1:{port}/msi/token (App Service's variable)",
  IDENTITY_HEADER: "the secret of this start, sent back as X-IDENTITY-HEADER",
} as const;

/**
 * The command's environment: the parent's, less {@link REMOVED_VARIABLES}, plus
 * `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
 *
 * @example
 * ```ts
 * const env = childEnvironment(process.env, sidecar);
 * spawn(command, args, { env, stdio: "inherit" });
 * ```
 */
export function childEnvironment(
  parent: NodeJS.ProcessEnv,
  sidecar: { identityEndpoint: string; identityHeader: string },
): Record<string, string> {
  // Windows variable names are case-insensitive: compare in upper case.
  const removed = new Set(REMOVED_VARIABLES.map((v) => v.name));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    const upper = name.toUpperCase();
    if (value === undefined || removed.has(upper) || upper in SET_VARIABLES) continue;
    env[name] = value;
  }
  env.IDENTITY_ENDPOINT = sidecar.identityEndpoint;
  env.IDENTITY_HEADER = sidecar.identityHeader;
  return env;
}
