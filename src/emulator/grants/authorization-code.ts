/** grant_type=authorization_code: single-use codes bound to client, redirect URI and PKCE challenge. */
import { createHash } from "node:crypto";
import { errors } from "../errors.ts";
import { parseScope, OIDC_SCOPES } from "../scopes.ts";
import { issueUserTokens, type Grant } from "./grant.ts";

export const authorizationCodeGrant: Grant = (emu, ctx, g) => {
  const codeValue = ctx.body["code"];
  if (!codeValue) throw errors.missingParameter("code");
  const code = emu.store.codes.get(codeValue);
  if (!code || code.clientId !== g.client.app.clientId.toLowerCase()) throw errors.invalidCode();
  if (code.redeemed) throw errors.codeRedeemed();
  if (code.expiresAt < emu.nowMs()) throw errors.invalidCode();
  if (g.tenant && g.tenant.id !== code.tenantId) throw errors.invalidCode();
  const redirectUri = ctx.body["redirect_uri"];
  if (redirectUri !== code.redirectUri)
    throw errors.replyUrlMismatch(redirectUri ?? "", g.client.app.clientId);
  if (code.codeChallenge !== undefined) {
    const verifier = ctx.body["code_verifier"];
    if (!verifier) throw errors.codeVerifierMismatch();
    const computed =
      code.codeChallengeMethod === "S256"
        ? createHash("sha256").update(verifier).digest("base64url")
        : verifier;
    if (computed !== code.codeChallenge) throw errors.codeVerifierMismatch();
  }
  code.redeemed = true;
  const tenant = emu.directory.tenant(code.tenantId)!;
  const user = emu.directory.user(code.username);
  if (!user) throw errors.badCredentials();
  // The token request may name another resource than the authorize request; OpenID scopes of
  // the authorize request still apply.
  const codeOidc = code.scope.split(/\s+/).filter((s) => OIDC_SCOPES.has(s.toLowerCase()));
  const request = parseScope(
    `${g.scope ?? code.scope} ${codeOidc.join(" ")}`,
    emu.directory,
    tenant,
  );
  return issueUserTokens(emu, ctx, g, {
    tenant,
    request,
    user,
    authentication: code,
    ...(code.nonce !== undefined ? { nonce: code.nonce } : {}),
  });
};
