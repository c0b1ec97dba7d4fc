/** Discovery documents (v2 and v1), the JWKS, MSAL's instance discovery and user-realm discovery. */
import { errors } from "../errors.ts";
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { LOGIN_HOSTS } from "../services.ts";

/** GET /{tenant}/v2.0/.well-known/openid-configuration */
export function discoveryV2(emu: Emulator, ctx: Ctx): void {
  const key = ctx.match[1]!;
  const tenant = emu.tenantOf(key);
  const t = tenant?.id ?? key.toLowerCase();
  const origin = emu.originOf(ctx);
  const base = `${origin}/${t}`;
  sendJson(ctx, 200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: [
      "client_secret_post",
      "private_key_jwt",
      "client_secret_basic",
    ],
    token_endpoint_auth_signing_alg_values_supported: ["RS256", "PS256"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${emu.issuerV2Origin}/${tenant?.id ?? "{tenantid}"}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${origin}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      "sub",
      "iss",
      "cloud_instance_name",
      "cloud_instance_host_name",
      "cloud_graph_host_name",
      "msgraph_host",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "acr",
      "nonce",
      "preferred_username",
      "name",
      "tid",
      "ver",
      "at_hash",
      "c_hash",
      "email",
    ],
    grant_types_supported: [
      "authorization_code",
      "refresh_token",
      "client_credentials",
      "password",
      "urn:ietf:params:oauth:grant-type:device_code",
    ],
    code_challenge_methods_supported: ["S256", "plain"],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: "WW",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
    rbac_url: "https://pas.windows.net",
  });
}

/** GET /{tenant}/.well-known/openid-configuration (v1) */
export function discoveryV1(emu: Emulator, ctx: Ctx): void {
  const key = ctx.match[1]!;
  const tenant = emu.tenantOf(key);
  const t = tenant?.id ?? key.toLowerCase();
  const origin = emu.originOf(ctx);
  const base = `${origin}/${t}`;
  sendJson(ctx, 200, {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: [
      "client_secret_post",
      "private_key_jwt",
      "client_secret_basic",
    ],
    jwks_uri: `${origin}/common/discovery/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
    scopes_supported: ["openid"],
    issuer: `${emu.issuerV1Origin}/${tenant?.id ?? "{tenantid}"}/`,
    authorization_endpoint: `${base}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/oauth2/devicecode`,
    cloud_instance_name: "microsoftonline.com",
  });
}

/** GET /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys */
export function jwks(emu: Emulator, ctx: Ctx): void {
  const key = ctx.match[1]!;
  emu.tenantOf(key);
  sendJson(ctx, 200, { keys: [emu.key.publicJwk] });
}

/** Entra's clouds, as instance discovery lists them: the host to use, the one to cache under, aliases. */
const CLOUDS: { preferred_network: string; preferred_cache: string; aliases: string[] }[] = [
  {
    preferred_network: "login.microsoftonline.com",
    preferred_cache: "login.windows.net",
    aliases: [
      "login.microsoftonline.com",
      "login.windows.net",
      "login.microsoft.com",
      "sts.windows.net",
    ],
  },
  {
    preferred_network: "login.partner.microsoftonline.cn",
    preferred_cache: "login.partner.microsoftonline.cn",
    aliases: ["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
  },
  {
    preferred_network: "login.microsoftonline.de",
    preferred_cache: "login.microsoftonline.de",
    aliases: ["login.microsoftonline.de"],
  },
  {
    preferred_network: "login.microsoftonline.us",
    preferred_cache: "login.microsoftonline.us",
    aliases: ["login.microsoftonline.us", "login.usgovcloudapi.net"],
  },
  {
    preferred_network: "login-us.microsoftonline.com",
    preferred_cache: "login-us.microsoftonline.com",
    aliases: ["login-us.microsoftonline.com"],
  },
  {
    preferred_network: "login.windows-ppe.net",
    preferred_cache: "login.windows-ppe.net",
    aliases: ["login.windows-ppe.net"],
  },
];

/**
 * GET /common/discovery/instance?api-version=1.1&authorization_endpoint=… — what MSAL asks first:
 * where the tenant's discovery document is, and which hosts are aliases of the authority's. An
 * authority on a host Entra does not serve is `invalid_instance` (AADSTS50049).
 */
export function instanceDiscovery(emu: Emulator, ctx: Ctx): void {
  const own = new URL(emu.url).host;
  const endpoint = ctx.url.searchParams.get("authorization_endpoint");
  let authority: URL | undefined;
  try {
    authority = endpoint ? new URL(endpoint) : undefined;
  } catch {
    authority = undefined;
  }
  const host = authority?.host.toLowerCase() ?? own;
  if (authority && authority.protocol !== "https:" && authority.protocol !== "http:")
    authority = undefined;
  // A login host on another port (the emulator's under --impersonate --port N) is still Entra's.
  const served = host === own || LOGIN_HOSTS.includes(authority?.hostname.toLowerCase() ?? "");
  if (endpoint !== null && (!authority || !served)) throw errors.invalidInstance();
  // The tenant and version come from the authorize URL: /{tenant}/oauth2/v2.0/authorize.
  const segments = authority?.pathname.split("/").filter(Boolean) ?? [];
  const tenant = segments[0] ?? "{tenant}";
  const v2 = !authority || segments.includes("v2.0");
  const origin = authority ? `${authority.protocol}//${host}` : emu.url;
  const metadata = emu.impersonate
    ? CLOUDS
    : [{ preferred_network: own, preferred_cache: own, aliases: [own] }];
  sendJson(ctx, 200, {
    tenant_discovery_endpoint: `${origin}/${tenant}${v2 ? "/v2.0" : ""}/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata,
  });
}

/**
 * GET /common/userrealm/{user}?api-version=1.0 (and 2.1, and `?user=`): whether the user's domain
 * is managed by Entra here, as MSAL asks before a username/password sign-in.
 */
export function userRealm(emu: Emulator, ctx: Ctx): void {
  let username = ctx.url.searchParams.get("user") ?? "";
  const segment = ctx.match[1];
  if (segment) {
    try {
      username = decodeURIComponent(segment);
    } catch {
      throw errors.invalidRequest("The user name in the path is not validly URL-encoded.", 90014);
    }
  }
  const domain = username.includes("@") ? username.slice(username.lastIndexOf("@") + 1) : "";
  const user = emu.directory.user(username);
  const tenant = user?.home ?? (domain ? emu.directory.tenant(domain) : undefined);
  const managed = tenant !== undefined;
  if (ctx.url.searchParams.get("api-version") === "2.1")
    return sendJson(ctx, 200, {
      NameSpaceType: managed ? "Managed" : "Unknown",
      Login: username,
      DomainName: managed ? (tenant.domains[0] ?? domain) : domain,
      FederationBrandName: managed ? tenant.displayName : null,
      TenantBrandingInfo: null,
      cloud_instance_name: "microsoftonline.com",
    });
  sendJson(ctx, 200, {
    ver: "1.0",
    account_type: managed ? "Managed" : "Unknown",
    ...(managed ? { domain_name: tenant.domains[0] ?? domain } : {}),
    cloud_instance_name: "microsoftonline.com",
    cloud_audience_urn: "urn:federation:MicrosoftOnline",
  });
}
