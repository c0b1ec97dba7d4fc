/** Discovery documents (v2 and v1), the JWKS and MSAL's instance discovery. */
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";

/** GET /{tenant}/v2.0/.well-known/openid-configuration */
export function discoveryV2(emu: Emulator, ctx: Ctx): void {
  const key = ctx.match[1]!;
  const tenant = emu.tenantOf(key);
  const t = tenant?.id ?? key.toLowerCase();
  const base = `${emu.url}/${t}`;
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
    issuer: `${emu.url}/${tenant?.id ?? "{tenantid}"}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${emu.url}/oidc/userinfo`,
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
  const base = `${emu.url}/${t}`;
  sendJson(ctx, 200, {
    token_endpoint: `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: [
      "client_secret_post",
      "private_key_jwt",
      "client_secret_basic",
    ],
    jwks_uri: `${emu.url}/common/discovery/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "token id_token", "token"],
    scopes_supported: ["openid"],
    issuer: `${emu.url}/${tenant?.id ?? "{tenantid}"}/`,
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

/** GET /common/discovery/instance?api-version=1.1&authorization_endpoint=… — what MSAL asks first. */
export function instanceDiscovery(emu: Emulator, ctx: Ctx): void {
  const host = new URL(emu.url).host;
  sendJson(ctx, 200, {
    tenant_discovery_endpoint: `${emu.url}/{tenant}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}
