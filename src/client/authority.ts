/**
 * Where to send requests. For Entra ID (the clouds, the emulator, a custom authority host) the
 * endpoints are fixed: `{host}/{tenant}/oauth2/v2.0/{authorize|token|devicecode}` — no network
 * discovery. For any other OpenID Connect issuer (`authority`), its discovery document is read.
 */
import * as oauth from "oauth4webapi";
import { checkAuthorityUrl, isLoopbackUrl, type Environment } from "./environments.ts";
import { PartnerTokenError, UsageError } from "./errors.ts";
import type { Http } from "./http.ts";
import type { FlowRequest } from "./types.ts";

/** The authorization server of one request, with what the flows need besides oauth4webapi's metadata. */
export interface Authority {
  as: oauth.AuthorizationServer;
  environment: Environment;
  /** True for Entra-shaped authorities (static endpoints, `client_info`, tenant-specific issuers). */
  entra: boolean;
  /** Host of the sign-in service, as MSAL reports `account.environment` (e.g. `login.microsoftonline.com`). */
  loginHost: string;
  tenant: string;
  /** The issuer an id token must carry, given its claims (tenant-specific for `organizations`/`common`). */
  expectedIssuer(claims: Record<string, unknown>): string;
  /** oauth4webapi options shared by every request to this authority. */
  requestOptions: {
    [oauth.customFetch]: Http["fetch"];
    [oauth.allowInsecureRequests]?: boolean;
    signal?: AbortSignal;
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_SHAPE = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

/**
 * oauth4webapi checks an id token's `iss` against `as.issuer`, or against what this hook returns.
 * The hook is the one openid-client uses for Entra's multi-tenant issuers; without it, a token
 * issued for `organizations` (`iss` = `…/{tid}/v2.0`) could not be accepted at all.
 */
const expectedIssuerHook = (oauth as unknown as { _expectedIssuer: symbol })._expectedIssuer;

/** Builds the {@link Authority} for a request: environment + tenant, or a discovered issuer. */
export async function resolveAuthority(
  request: FlowRequest,
  environment: Environment,
  http: Http,
): Promise<Authority> {
  if (request.authority !== undefined)
    return discoverAuthority(request.authority, environment, http);

  const tenant = request.tenant ?? "organizations";
  if (!TENANT_SHAPE.test(tenant)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `tenant must be a tenant id, a domain name, 'organizations' or 'common'; got '${tenant}'.`,
    );
  }
  const host = new URL(environment.authorityHost);
  const base = `${host.origin}/${encodeURIComponent(tenant)}`;
  const staticIssuer = `${base}/v2.0`;
  const expectedIssuer = (claims: Record<string, unknown>): string => {
    if (GUID.test(tenant)) return staticIssuer;
    // organizations, common, consumers or a domain name: Entra issues for the user's tenant.
    return typeof claims.tid === "string" && GUID.test(claims.tid)
      ? `${host.origin}/${claims.tid}/v2.0`
      : staticIssuer;
  };
  const as: oauth.AuthorizationServer = {
    issuer: staticIssuer,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    [expectedIssuerHook]: (result: { claims: Record<string, unknown> }) =>
      expectedIssuer(result.claims),
  } as oauth.AuthorizationServer;
  return {
    as,
    environment,
    entra: true,
    loginHost: host.host,
    tenant,
    expectedIssuer,
    requestOptions: requestOptionsFor(host, http),
  };
}

function requestOptionsFor(url: URL, http: Http): Authority["requestOptions"] {
  const options: Authority["requestOptions"] = { [oauth.customFetch]: http.fetch };
  // oauth4webapi refuses http: unless told; the URL was checked to be on this machine.
  if (url.protocol === "http:" && isLoopbackUrl(url)) options[oauth.allowInsecureRequests] = true;
  if (http.signal) options.signal = http.signal;
  return options;
}

async function discoverAuthority(
  authority: string,
  environment: Environment,
  http: Http,
): Promise<Authority> {
  const issuer = checkAuthorityUrl(authority, "authority");
  const options = requestOptionsFor(issuer, http);
  let as: oauth.AuthorizationServer;
  try {
    const response = await oauth.discoveryRequest(issuer, options);
    as = await oauth.processDiscoveryResponse(issuer, response);
  } catch (cause) {
    if (cause instanceof PartnerTokenError) throw cause;
    throw new PartnerTokenError(
      "ERR_DISCOVERY",
      `Cannot read the OpenID Connect discovery document of '${issuer.href}': ${(cause as Error).message}`,
      {
        cause,
        hint: "Give the issuer identifier exactly (its discovery document is at {issuer}/.well-known/openid-configuration).",
      },
    );
  }
  return {
    as,
    environment,
    entra: false,
    loginHost: new URL(as.issuer).host,
    tenant: "",
    expectedIssuer: () => as.issuer,
    requestOptions: options,
  };
}
