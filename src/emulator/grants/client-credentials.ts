/** grant_type=client_credentials: app-only tokens with the app roles granted for `{resource}/.default`. */
import { errors } from "../errors.ts";
import { grantApplication, parseScope } from "../scopes.ts";
import { issueTokens } from "../tokens.ts";
import type { Grant } from "./grant.ts";

export const clientCredentialsGrant: Grant = (emu, _ctx, g) => {
  if (!g.tenant) throw errors.tenantRequired(g.tenantKey);
  if (g.client.method === "0") throw errors.clientCredentialRequired();
  if (!g.scope) throw errors.missingParameter("scope");
  const request = parseScope(g.scope, emu.directory, g.tenant);
  // The app role assignments of the app's service principal in this tenant (the consent model).
  const granted = grantApplication(
    request,
    g.scope,
    emu.directory.consent.appRoles(g.client.app, request.resource, g.tenant),
  );
  return issueTokens(emu, {
    tenant: g.tenant,
    app: g.client.app,
    request,
    granted,
    clientAuth: g.client.method,
    refreshToken: false,
    clientInfo: false,
    v1Endpoint: g.v1,
  });
};
