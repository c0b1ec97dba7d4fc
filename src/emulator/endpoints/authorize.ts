/**
 * The authorization endpoint and the sign-in pages behind it (and behind the device login page):
 * validate the request, sign the user in (password, then MFA for users who require it, or
 * nobody with --auto-approve), then answer the redirect URI by query or form_post.
 */
import type { Application, Tenant, User } from "../directory.ts";
import { EntraError, errors } from "../errors.ts";
import type { Emulator } from "../emulator.ts";
import { redirect, sendHtml, type Ctx } from "../http.ts";
import { errorPage, formPostPage, mfaPage, signInPage } from "../pages.ts";
import { opaque, type Authentication, type LoginFlow } from "../store.ts";
import { approveDevice } from "./device.ts";

/** Entra ignores the port of loopback redirect URIs (RFC 8252 §7.3); everything else must match exactly. */
export function redirectUriRegistered(app: Application, redirectUri: string): boolean {
  let asked: URL;
  try {
    asked = new URL(redirectUri);
  } catch {
    return false;
  }
  const loopback = (u: URL) =>
    u.protocol === "http:" &&
    (u.hostname === "localhost" || u.hostname === "127.0.0.1" || u.hostname === "[::1]");
  return app.redirectUris.some((registered) => {
    const r = new URL(registered);
    if (loopback(r) && loopback(asked))
      return (
        r.hostname === asked.hostname && r.pathname === asked.pathname && r.search === asked.search
      );
    return registered === redirectUri;
  });
}

/** Errors that make the redirect URI untrustworthy are shown on a page, not sent to it. */
function pageError(ctx: Ctx, e: EntraError): void {
  ctx.note["error"] = `AADSTS${e.aadsts}`;
  sendHtml(ctx, e.status, errorPage(e.aadsts, e.message, ctx.correlationId));
}

/** GET or POST /{tenant}/oauth2/v2.0/authorize */
export function authorize(emu: Emulator, ctx: Ctx): void {
  const params: Record<string, string> = {
    ...Object.fromEntries(ctx.url.searchParams),
    ...ctx.body,
  };
  const tenantKey = ctx.match[1]!;
  let tenant: Tenant | null;
  let app: Application;
  try {
    tenant = emu.tenantOf(tenantKey);
    const clientId = params["client_id"];
    if (!clientId) throw errors.missingParameter("client_id");
    app = emu.appIn(clientId, tenant, tenantKey);
    const redirectUri = params["redirect_uri"];
    if (!redirectUri) throw errors.missingParameter("redirect_uri");
    if (!redirectUriRegistered(app, redirectUri))
      throw errors.replyUrlMismatch(redirectUri, app.clientId);
  } catch (e) {
    if (e instanceof EntraError) return pageError(ctx, e);
    throw e;
  }
  ctx.note["client_id"] = app.clientId;
  const fail = (error: string, description: string) =>
    respond(ctx, params, { error, error_description: description });
  if (params["response_type"] !== "code")
    return fail(
      "unsupported_response_type",
      `AADSTS700054: response_type '${params["response_type"] ?? ""}' is not enabled for the application.`,
    );
  const mode = params["response_mode"] ?? "query";
  if (!["query", "form_post", "fragment"].includes(mode))
    return fail("invalid_request", `AADSTS900144: response_mode '${mode}' is not supported.`);
  if (!params["scope"])
    return fail(
      "invalid_request",
      "AADSTS900144: The request body must contain the following parameter: 'scope'.",
    );
  const method = params["code_challenge_method"];
  if (params["code_challenge"] && method && method !== "S256" && method !== "plain")
    return fail("invalid_request", `AADSTS501491: Invalid code_challenge_method '${method}'.`);

  const prompt = params["prompt"];
  const session = sessionOf(emu, ctx);
  if (session && prompt !== "login" && prompt !== "select_account") {
    const user = emu.directory.user(session.username);
    if (user) return completeAuthorize(emu, ctx, params, tenantKey, user, session);
  }
  if (prompt === "none")
    return fail(
      "login_required",
      "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
    );

  if (emu.autoApprove) {
    const hinted = params["login_hint"] ? emu.directory.user(params["login_hint"]) : undefined;
    const user = hinted ?? emu.defaultUser();
    if (!user)
      return fail(
        "invalid_request",
        "AADSTS50034: The user account does not exist in the directory.",
      );
    return completeAuthorize(emu, ctx, params, tenantKey, user, emu.authenticate(user));
  }
  const flow: LoginFlow = {
    id: opaque("", 24),
    params,
    tenantKey,
    kind: "authorize",
    userOid: undefined,
    expiresAt: emu.nowMs() + 15 * 60_000,
  };
  emu.store.flows.set(flow.id, flow);
  sendHtml(
    ctx,
    200,
    signInPage({
      action: `/${tenantKey}/login`,
      flow: flow.id,
      appName: app.displayName,
      username: params["login_hint"],
    }),
  );
}

/** Answers the client: query string or an auto-posting form (response_mode=form_post). */
function respond(ctx: Ctx, params: Record<string, string>, fields: Record<string, string>): void {
  const out = { ...fields };
  if (params["state"] !== undefined) out["state"] = params["state"];
  const redirectUri = params["redirect_uri"]!;
  const mode = params["response_mode"] ?? "query";
  if (mode === "form_post") return sendHtml(ctx, 200, formPostPage(redirectUri, out));
  const target = new URL(redirectUri);
  if (mode === "fragment") target.hash = new URLSearchParams(out).toString();
  else for (const [k, v] of Object.entries(out)) target.searchParams.set(k, v);
  redirect(ctx, target.toString());
}

function completeAuthorize(
  emu: Emulator,
  ctx: Ctx,
  params: Record<string, string>,
  tenantKey: string,
  user: User,
  authentication: Authentication,
): void {
  let tenant: Tenant;
  try {
    const app = emu.appIn(params["client_id"]!, null, tenantKey);
    tenant = emu.userTenant(user, emu.tenantOf(tenantKey), app);
  } catch (e) {
    if (!(e instanceof EntraError)) throw e;
    return respond(ctx, params, {
      error: e.error,
      error_description: `AADSTS${e.aadsts}: ${e.message}`,
    });
  }
  const code = opaque("1.AQ", 240);
  emu.store.codes.set(code, {
    ...authentication,
    clientId: params["client_id"]!.toLowerCase(),
    tenantId: tenant.id,
    redirectUri: params["redirect_uri"]!,
    scope: params["scope"]!,
    nonce: params["nonce"],
    codeChallenge: params["code_challenge"],
    codeChallengeMethod: params["code_challenge"]
      ? (params["code_challenge_method"] ?? "plain")
      : undefined,
    expiresAt: emu.nowMs() + emu.settings.authorizationCodeLifetimeSeconds * 1000,
    redeemed: false,
  });
  const fields: Record<string, string> = { code };
  if (params["client_info"] === "1" || params["client_info"] === undefined)
    fields["client_info"] = Buffer.from(
      JSON.stringify({ uid: user.objectId, utid: user.home.id }),
    ).toString("base64url");
  fields["session_state"] = opaque("", 12);
  respond(ctx, params, fields);
}

const SESSION_COOKIE = "ESTSAUTH";

/** The signed-in session a browser's cookie names, if still valid. */
function sessionOf(emu: Emulator, ctx: Ctx): Authentication | undefined {
  const cookies = ctx.req.headers.cookie ?? "";
  const id = /(?:^|;\s*)ESTSAUTH=([\w-]+)/.exec(cookies)?.[1];
  const session = id ? emu.store.sessions.get(id) : undefined;
  if (!session || session.expiresAt < emu.nowMs()) return undefined;
  return session;
}

/** Starts a browser session after an interactive sign-in, so the next authorize needs no form. */
function startSession(emu: Emulator, ctx: Ctx, authentication: Authentication): void {
  const id = opaque("", 32);
  emu.store.sessions.set(id, { ...authentication, expiresAt: emu.nowMs() + 24 * 3600_000 });
  // form_post answers are cross-site POSTs, so the cookie must be SameSite=None (which needs Secure).
  const attributes = emu.url.startsWith("https:") ? "SameSite=None; Secure" : "SameSite=Lax";
  ctx.res.setHeader("set-cookie", `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; ${attributes}`);
}

function liveFlow(emu: Emulator, id: string | undefined): LoginFlow | undefined {
  const flow = id ? emu.store.flows.get(id) : undefined;
  if (flow && flow.expiresAt < emu.nowMs()) {
    emu.store.flows.delete(flow.id);
    return undefined;
  }
  return flow;
}

function appName(emu: Emulator, flow: LoginFlow): string {
  return (
    emu.directory.application(flow.params["client_id"] ?? "")?.displayName ?? "the application"
  );
}

function finish(emu: Emulator, ctx: Ctx, flow: LoginFlow, user: User, amr: string[]): void {
  emu.store.flows.delete(flow.id);
  if (flow.kind === "device") return approveDevice(emu, ctx, flow, user, amr);
  const authentication = emu.authenticate(user, amr);
  startSession(emu, ctx, authentication);
  completeAuthorize(emu, ctx, flow.params, flow.tenantKey, user, authentication);
}

function flowExpired(ctx: Ctx): void {
  const message = "The sign-in session was not found or has expired. Start the sign-in again.";
  sendHtml(ctx, 400, errorPage(50058, message, ctx.correlationId));
}

/** POST /{tenant}/login — the password step. */
export function login(emu: Emulator, ctx: Ctx): void {
  const flow = liveFlow(emu, ctx.body["flow"]);
  if (!flow) return flowExpired(ctx);
  const action = `/${flow.tenantKey}/login`;
  const device = flow.kind === "device";
  if (device && ctx.body["decision"] === "deny") {
    emu.store.flows.delete(flow.id);
    return approveDevice(emu, ctx, flow, undefined, []);
  }
  const user = emu.directory.user(ctx.body["username"] ?? "");
  if (!user || user.password !== ctx.body["password"]) {
    ctx.note["error"] = "AADSTS50126";
    return sendHtml(
      ctx,
      200,
      signInPage({
        action,
        flow: flow.id,
        appName: appName(emu, flow),
        username: ctx.body["username"],
        device,
        error: "AADSTS50126: Error validating credentials due to invalid username or password.",
      }),
    );
  }
  if (user.mfaRequired) {
    flow.userOid = user.objectId;
    return sendHtml(ctx, 200, mfaPage(`/${flow.tenantKey}/login/mfa`, flow.id, user.username));
  }
  finish(emu, ctx, flow, user, ["pwd"]);
}

/** POST /{tenant}/login/mfa — the second factor for users who require it. */
export function loginMfa(emu: Emulator, ctx: Ctx): void {
  const flow = liveFlow(emu, ctx.body["flow"]);
  const user = flow?.userOid
    ? [...emu.directory.users.values()].find((u) => u.objectId === flow.userOid)
    : undefined;
  if (!flow || !user) return flowExpired(ctx);
  if (ctx.body["otc"] !== user.mfaCode) {
    ctx.note["error"] = "AADSTS50181";
    return sendHtml(
      ctx,
      200,
      mfaPage(
        `/${flow.tenantKey}/login/mfa`,
        flow.id,
        user.username,
        "AADSTS50181: The verification code is not correct. Try again.",
      ),
    );
  }
  finish(emu, ctx, flow, user, ["pwd", "mfa"]);
}
