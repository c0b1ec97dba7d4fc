import type { AuthenticatedClient } from "../client-auth.ts";
import type { Tenant, User } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import type { Ctx } from "../http.ts";
import { grantDelegated, type ScopeRequest } from "../scopes.ts";
import type { Authentication } from "../store.ts";
import { issueTokens } from "../tokens.ts";
import { isCaeResource, parseClaimsRequest } from "../cae.ts";
import { errors } from "../errors.ts";

export interface GrantContext {
  /** The tenant the path names; null for organizations/common. */
  tenant: Tenant | null;
  tenantKey: string;
  client: AuthenticatedClient;
  /** `scope`, or `{resource}/.default` on the v1 endpoint. */
  scope: string | undefined;
  v1: boolean;
}

/** A grant handler returns (or resolves to) the token response body, or throws an EntraError. */
export type Grant = (
  emu: Emulator,
  ctx: Ctx,
  g: GrantContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface UserGrant {
  tenant: Tenant;
  request: ScopeRequest;
  user: User;
  authentication: Authentication;
  nonce?: string;
  /** Default: when `offline_access` was asked (always on the v1 endpoint). */
  refreshToken?: boolean;
}

/** The end of every delegated grant: the consented scopes (AADSTS65001 otherwise), then tokens. */
export function issueUserTokens(emu: Emulator, ctx: Ctx, g: GrantContext, u: UserGrant) {
  if (u.user.accountEnabled === false) throw errors.userDisabled();
  const claims = parseClaimsRequest(ctx.body["claims"]);
  return issueTokens(emu, {
    tenant: u.tenant,
    app: g.client.app,
    request: u.request,
    // The consent model: the grants of the app's service principal in this tenant.
    granted: grantDelegated(
      g.client.app,
      u.request,
      emu.directory.consent.delegatedScopes(
        g.client.app,
        u.request.resource,
        u.tenant,
        u.user.objectId,
      ),
    ),
    user: u.user,
    authentication: u.authentication,
    ...(u.nonce !== undefined ? { nonce: u.nonce } : {}),
    clientAuth: g.client.method,
    refreshToken: u.refreshToken ?? (u.request.oidc.has("offline_access") || g.v1),
    clientInfo: ctx.body["client_info"] === "1",
    v1Endpoint: g.v1,
    cae: claims.cp1 && isCaeResource(u.request.resource),
  });
}
