/** grant_type=password (ROPC): no MFA possible, so users who require it get AADSTS50076. */
import { errors } from "../errors.ts";
import { parseScope } from "../scopes.ts";
import { issueUserTokens, type Grant } from "./grant.ts";

export const passwordGrant: Grant = (emu, ctx, g) => {
  const username = ctx.body["username"];
  const password = ctx.body["password"];
  if (!username) throw errors.missingParameter("username");
  if (!password) throw errors.missingParameter("password");
  const user = emu.directory.user(username);
  if (!user || user.password !== password) throw errors.badCredentials();
  const tenant = emu.userTenant(user, g.tenant, g.client.app);
  const request = parseScope(g.scope ?? "openid profile offline_access", emu.directory, tenant);
  if (user.mfaRequired) throw errors.mfaRequired(request.resource.appId);
  const authentication = emu.authenticate(user, ["pwd"]);
  return issueUserTokens(emu, ctx, g, { tenant, request, user, authentication });
};
