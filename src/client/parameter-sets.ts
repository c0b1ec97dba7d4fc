/**
 * The parameter sets of `New-PartnerAccessToken` (SPEC §2): which parameters each set requires
 * and allows, which set a set of parameters binds to (the cmdlet's dispatch order when several
 * fit), and the flow and request that follow from it.
 */
import { UsageError } from "./errors.ts";
import type { CertificateSource, FlowRequest, NewPartnerAccessTokenParams } from "./types.ts";

export type ParameterSetName =
  | "AccessToken"
  | "RefreshToken"
  | "ServicePrincipal"
  | "ServicePrincipalCertificate"
  | "User"
  | "ByModule";
export type FlowName =
  "accessToken" | "authorizationCode" | "refreshToken" | "deviceCode" | "clientCredentials";

/**
 * The cmdlet parameters that decide the set (environment, authority, CA file… fit every set;
 * an authority lifts the sets' need for a tenant).
 */
type SetParameter =
  | "accessToken"
  | "applicationId"
  | "certificateThumbprint"
  | "credential"
  | "module"
  | "refreshToken"
  | "scopes"
  | "servicePrincipal"
  | "tenant"
  | "useAuthorizationCode"
  | "useDeviceAuthentication";

interface ParameterSet {
  name: ParameterSetName;
  required: SetParameter[];
  optional: SetParameter[];
}

/** SPEC §2, in the order `Get-Help New-PartnerAccessToken` lists them. */
export const parameterSets: readonly ParameterSet[] = [
  {
    name: "AccessToken",
    required: ["accessToken", "applicationId", "scopes"],
    optional: ["credential", "tenant"],
  },
  {
    name: "RefreshToken",
    required: ["refreshToken", "scopes"],
    optional: [
      "applicationId",
      "credential",
      "certificateThumbprint",
      "module",
      "servicePrincipal",
      "tenant",
    ],
  },
  {
    name: "ServicePrincipal",
    required: ["applicationId", "credential", "scopes", "tenant", "servicePrincipal"],
    optional: ["useAuthorizationCode"],
  },
  {
    name: "ServicePrincipalCertificate",
    required: ["applicationId", "certificateThumbprint", "scopes", "tenant"],
    optional: ["servicePrincipal", "useAuthorizationCode"],
  },
  {
    name: "User",
    required: ["applicationId", "scopes"],
    optional: ["tenant", "useAuthorizationCode", "useDeviceAuthentication"],
  },
  { name: "ByModule", required: ["module"], optional: ["refreshToken", "tenant"] },
];

/** Exchange Online PowerShell's public client, and the scope it asks for (SPEC §2, ByModule). */
export const EXCHANGE_ONLINE = {
  applicationId: "a0c73c16-a7e3-4564-9a95-2bdf47383716",
  scope: "https://outlook.office365.com/.default",
} as const;

/** How the parameters bind: the set, the flow it runs, and the request for that flow. */
export interface ResolvedParameters {
  parameterSet: ParameterSetName;
  flow: FlowName;
  /** Whether the client authenticates (secret or certificate). */
  confidential: boolean;
  request: FlowRequest;
  refreshToken?: string;
  accessToken?: string;
}

/** Kebab-free display names as the cmdlet spells them, for messages. */
const cmdletName: Record<SetParameter, string> = {
  accessToken: "AccessToken",
  applicationId: "ApplicationId",
  certificateThumbprint: "CertificateThumbprint",
  credential: "Credential",
  module: "Module",
  refreshToken: "RefreshToken",
  scopes: "Scopes",
  servicePrincipal: "ServicePrincipal",
  tenant: "Tenant",
  useAuthorizationCode: "UseAuthorizationCode",
  useDeviceAuthentication: "UseDeviceAuthentication",
};

function present(params: NewPartnerAccessTokenParams): Set<SetParameter> {
  const given = new Set<SetParameter>();
  const has = (value: unknown) =>
    value !== undefined && value !== null && value !== "" && value !== false;
  if (has(params.accessToken)) given.add("accessToken");
  if (has(params.applicationId)) given.add("applicationId");
  if (
    has(params.certificateThumbprint) ||
    has(params.certificatePath) ||
    has(params.certificateReader)
  )
    given.add("certificateThumbprint");
  if (has(params.credential)) given.add("credential");
  if (has(params.module)) given.add("module");
  if (has(params.refreshToken)) given.add("refreshToken");
  if ((params.scopes?.length ?? 0) > 0 || has(params.resource)) given.add("scopes");
  if (params.servicePrincipal === true) given.add("servicePrincipal");
  if (has(params.tenant)) given.add("tenant");
  if (params.useAuthorizationCode === true) given.add("useAuthorizationCode");
  if (params.useDeviceAuthentication === true) given.add("useDeviceAuthentication");
  return given;
}

function flowOf(set: ParameterSetName, given: Set<SetParameter>): FlowName {
  if (set === "AccessToken") return "accessToken";
  if (given.has("useAuthorizationCode") && set !== "RefreshToken" && set !== "ByModule")
    return "authorizationCode";
  if (set === "RefreshToken" || (set === "ByModule" && given.has("refreshToken")))
    return "refreshToken";
  if (set === "ByModule") return "deviceCode";
  if (set === "User")
    return given.has("useDeviceAuthentication") ? "deviceCode" : "authorizationCode";
  return "clientCredentials";
}

/** The cmdlet's dispatch order: AccessToken → UseAuthorizationCode → RefreshToken → user flows → client credentials. */
function rank(set: ParameterSetName, flow: FlowName, given: Set<SetParameter>): number {
  if (flow === "accessToken") return 0;
  if (flow === "authorizationCode" && given.has("useAuthorizationCode")) return 1;
  if (flow === "refreshToken") return 2;
  if (set === "User" || set === "ByModule") return 3;
  return 4;
}

/**
 * What a set requires for these parameters. With `authority` (any OpenID Connect issuer) the
 * issuer decides where to sign in and the tenant goes unused, so no set requires one; it stays
 * allowed wherever the cmdlet allows it.
 */
function requiredOf(set: ParameterSet, withAuthority: boolean): SetParameter[] {
  return withAuthority ? set.required.filter((name) => name !== "tenant") : set.required;
}

function describeSets(withAuthority: boolean): string {
  return parameterSets
    .map((set) => {
      const required = requiredOf(set, withAuthority)
        .map((name) => cmdletName[name])
        .join(", ");
      const optional = set.optional.map((name) => cmdletName[name]).join(", ");
      return `  ${set.name}: requires ${required}${optional ? `; allows ${optional}` : ""}`;
    })
    .join("\n");
}

function noSetFits(given: Set<SetParameter>, withAuthority: boolean): UsageError {
  const names = [...given].map((name) => cmdletName[name]);
  // The set needing the fewest changes, to point at what is missing or extra.
  const scored = parameterSets.map((set) => {
    const missing = requiredOf(set, withAuthority).filter((name) => !given.has(name));
    const extra = [...given].filter(
      (name) => !set.required.includes(name) && !set.optional.includes(name),
    );
    return { set, missing, extra, score: missing.length + extra.length };
  });
  // Ties go to the set whose required parameters were given the most (the user's likely intent).
  scored.sort(
    (a, b) =>
      a.score - b.score ||
      requiredOf(b.set, withAuthority).length -
        b.missing.length -
        (requiredOf(a.set, withAuthority).length - a.missing.length),
  );
  const best = scored[0]!;
  const closest = [
    best.missing.length ? `missing ${best.missing.map((n) => cmdletName[n]).join(", ")}` : "",
    best.extra.length ? `not allowed ${best.extra.map((n) => cmdletName[n]).join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  return new UsageError(
    "ERR_PARAMETER_SET",
    `No parameter set fits the parameters given (${names.join(", ") || "none"}). Closest: ${best.set.name} (${closest}).\nThe parameter sets are${withAuthority ? " (with an authority, none needs Tenant)" : ""}:\n${describeSets(withAuthority)}`,
  );
}

/**
 * Binds cmdlet-style parameters to a parameter set and the flow it runs, as
 * `New-PartnerAccessToken` does. No network, no file access.
 *
 * @example
 * ```ts
 * const { parameterSet, flow } = resolveParameterSet({
 *   applicationId: appId, credential: { userName: appId, password: secret },
 *   scopes: ["https://api.partnercenter.microsoft.com/user_impersonation"],
 *   tenant: "contoso.onmicrosoft.com", servicePrincipal: true, useAuthorizationCode: true,
 * });
 * // parameterSet "ServicePrincipal", flow "authorizationCode" (App + User)
 * ```
 * @throws {UsageError} `ERR_PARAMETER_SET` listing the sets and what each needs.
 */
export function resolveParameterSet(params: NewPartnerAccessTokenParams): ResolvedParameters {
  if (typeof params !== "object" || params === null)
    throw new UsageError("ERR_INVALID_ARGUMENT", "params must be an object.");
  if (params.scopes !== undefined && params.resource !== undefined) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "Give either scopes or resource (the 1.5.x spelling), not both.",
    );
  }
  if (params.module !== undefined && params.module.toLowerCase() !== "exchangeonline") {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `Unknown module '${params.module}'. The only module is ExchangeOnline.`,
    );
  }
  const given = present(params);
  const withAuthority = typeof params.authority === "string" && params.authority !== "";
  const fitting = parameterSets.filter(
    (set) =>
      requiredOf(set, withAuthority).every((name) => given.has(name)) &&
      [...given].every((name) => set.required.includes(name) || set.optional.includes(name)),
  );
  if (fitting.length === 0) throw noSetFits(given, withAuthority);
  const chosen = fitting
    .map((set) => ({ set: set.name, flow: flowOf(set.name, given) }))
    .sort((a, b) => rank(a.set, a.flow, given) - rank(b.set, b.flow, given))[0]!;

  if (given.has("credential") && given.has("certificateThumbprint")) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "Give either a Credential (client secret) or a CertificateThumbprint, not both.",
    );
  }
  const credential = params.credential;
  if (
    credential !== undefined &&
    (typeof credential.userName !== "string" || typeof credential.password !== "string")
  ) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "credential must have userName (the application id) and password (the client secret).",
    );
  }

  const byModule = chosen.set === "ByModule" || given.has("module");
  let clientId: string | undefined;
  if (chosen.set === "ByModule") clientId = EXCHANGE_ONLINE.applicationId;
  else if (chosen.set === "RefreshToken" && credential !== undefined)
    clientId = credential.userName; // as the cmdlet
  else clientId = params.applicationId ?? (byModule ? EXCHANGE_ONLINE.applicationId : undefined);
  if (!clientId) {
    throw new UsageError(
      "ERR_PARAMETER_SET",
      `The ${chosen.set} parameter set needs ApplicationId (or a Credential whose user name is the application id).`,
    );
  }

  const scopes =
    chosen.set === "ByModule"
      ? [EXCHANGE_ONLINE.scope]
      : params.resource !== undefined
        ? [`${params.resource}/.default`]
        : [...(params.scopes ?? [])];

  const certificate: CertificateSource | undefined =
    params.certificateThumbprint !== undefined ||
    params.certificatePath !== undefined ||
    params.certificateReader !== undefined
      ? {
          ...(params.certificateThumbprint !== undefined
            ? { thumbprint: params.certificateThumbprint }
            : {}),
          ...(params.certificatePath !== undefined ? { path: params.certificatePath } : {}),
          ...(params.certificateReader !== undefined
            ? {
                read: params.certificateReader.read,
                description: params.certificateReader.description,
              }
            : {}),
          ...(params.certificatePassword !== undefined
            ? { password: params.certificatePassword }
            : {}),
        }
      : undefined;
  const request: FlowRequest = {
    clientId,
    scopes,
    tenant: params.tenant ?? "organizations",
    ...(params.environment !== undefined ? { environment: params.environment } : {}),
    ...(params.authorityHost !== undefined ? { authorityHost: params.authorityHost } : {}),
    ...(params.partnerCenterEndpoint !== undefined
      ? { partnerCenterEndpoint: params.partnerCenterEndpoint }
      : {}),
    ...(params.caFile !== undefined ? { caFile: params.caFile } : {}),
    ...(params.authority !== undefined ? { authority: params.authority } : {}),
    // The AccessToken set allows a Credential, but sends nothing: no client authentication there.
    ...(credential !== undefined && chosen.flow !== "accessToken"
      ? { clientSecret: credential.password }
      : {}),
    ...(certificate !== undefined ? { certificate } : {}),
  };
  const confidential = request.clientSecret !== undefined || request.certificate !== undefined;
  return {
    parameterSet: chosen.set,
    flow: chosen.flow,
    confidential,
    request,
    ...(params.refreshToken !== undefined ? { refreshToken: params.refreshToken } : {}),
    ...(params.accessToken !== undefined ? { accessToken: params.accessToken } : {}),
  };
}
