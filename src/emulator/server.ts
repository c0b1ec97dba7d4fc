/**
 * The emulator's HTTP(S) server: routing, faults injected by the control API, the request log,
 * and errors turned into Entra's (or Partner Center's) answers. Handlers live in ./endpoints.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { randomUUID } from "node:crypto";
import { EntraError } from "./errors.ts";
import { redactParams, type Emulator } from "./emulator.ts";
import { correlationIdOf, readBody, sendEntraError, sendJson, type Ctx } from "./http.ts";
import { authorize, login, loginMfa } from "./endpoints/authorize.ts";
import { control } from "./endpoints/control.ts";
import { deviceAuthorization, deviceLoginPage, deviceLoginSubmit } from "./endpoints/device.ts";
import { discoveryV1, discoveryV2, instanceDiscovery, jwks } from "./endpoints/metadata.ts";
import {
  generateToken,
  isPartnerCenterError,
  listCustomers,
  organizationProfile,
  sendPartnerCenterError,
} from "./endpoints/partner-center.ts";
import { tokenV1, tokenV2 } from "./endpoints/token.ts";

type Handler = (emu: Emulator, ctx: Ctx) => void | Promise<void>;
interface Route {
  methods: string[];
  pattern: RegExp;
  handler: Handler;
}

const T = "([^/]+)";
const routes: Route[] = [
  { methods: ["GET"], pattern: /^\/common\/discovery\/instance$/, handler: instanceDiscovery },
  {
    methods: ["GET"],
    pattern: new RegExp(`^/${T}/v2\\.0/\\.well-known/openid-configuration$`),
    handler: discoveryV2,
  },
  {
    methods: ["GET"],
    pattern: new RegExp(`^/${T}/\\.well-known/openid-configuration$`),
    handler: discoveryV1,
  },
  { methods: ["GET"], pattern: new RegExp(`^/${T}/discovery/(?:v2\\.0/)?keys$`), handler: jwks },
  {
    methods: ["GET", "POST"],
    pattern: new RegExp(`^/${T}/oauth2/v2\\.0/authorize$`),
    handler: authorize,
  },
  { methods: ["POST"], pattern: new RegExp(`^/${T}/oauth2/v2\\.0/token$`), handler: tokenV2 },
  {
    methods: ["POST"],
    pattern: new RegExp(`^/${T}/oauth2/v2\\.0/devicecode$`),
    handler: deviceAuthorization,
  },
  { methods: ["POST"], pattern: new RegExp(`^/${T}/oauth2/token$`), handler: tokenV1 },
  {
    methods: ["POST"],
    pattern: new RegExp(`^/${T}/oauth2/devicecode$`),
    handler: deviceAuthorization,
  },
  { methods: ["POST"], pattern: new RegExp(`^/${T}/login$`), handler: login },
  { methods: ["POST"], pattern: new RegExp(`^/${T}/login/mfa$`), handler: loginMfa },
  { methods: ["GET"], pattern: /^\/devicelogin$/, handler: deviceLoginPage },
  { methods: ["POST"], pattern: /^\/devicelogin$/, handler: deviceLoginSubmit },
  { methods: ["POST"], pattern: /^\/generatetoken$/, handler: generateToken },
  { methods: ["GET"], pattern: /^\/v1\/customers$/, handler: listCustomers },
  { methods: ["GET"], pattern: /^\/v1\/profiles\/organization$/, handler: organizationProfile },
];

const SAFE_HEADERS = [
  "client-request-id",
  "ms-correlationid",
  "ms-requestid",
  "x-client-sku",
  "x-client-ver",
  "x-ms-lib-capability",
];

export interface ServerOptions {
  tls?: { cert: string; key: string };
  info: () => unknown;
  onError: (error: unknown) => void;
}

export function createEmulatorServer(emu: Emulator, options: ServerOptions): Server {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(emu, options, req, res);
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 5000;
  return server;
}

async function handle(
  emu: Emulator,
  options: ServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? "/", "http://emulator");
  const method = req.method ?? "GET";
  const ctx: Ctx = {
    req,
    res,
    url,
    method,
    body: {},
    json: undefined,
    match: /^/.exec("")!,
    correlationId: correlationIdOf(req),
    requestId: randomUUID(),
    note: {},
  };
  let faultName: string | undefined;
  try {
    const isControl = url.pathname.startsWith("/_emulator/");
    const fault = isControl ? undefined : emu.takeFault(method, url.pathname);
    if (fault) {
      faultName = JSON.stringify(fault);
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.drop) {
        req.socket.destroy();
        ctx.status = 0;
        return;
      }
      if (fault.malformed) {
        ctx.status = 200;
        res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        res.end('{"token_type":"Bearer","access_token":');
        return;
      }
      if (fault.status) {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
        const error = new EntraError(
          fault.status,
          fault.status === 429
            ? "too_many_requests"
            : fault.status >= 500
              ? "temporarily_unavailable"
              : "invalid_request",
          fault.status === 429 ? 50196 : 90033,
          fault.status === 429
            ? "The server is throttling requests; retry after the time given in Retry-After."
            : "A transient error has occurred. Please try again.",
        );
        sendJson(ctx, fault.status, error.body(ctx.correlationId, emu.clock.now()), headers);
        return;
      }
    }
    if (isControl) {
      const parsed = await readBody(req);
      ctx.body = parsed.body;
      ctx.json = parsed.json;
      ctx.match = /^\/_emulator\/(.+)$/.exec(url.pathname)!;
      return control(emu, ctx, options.info);
    }
    // A path may have one route per method (GET and POST /devicelogin): 405 only when none
    // of the routes for the path takes the method.
    const onPath = routes.filter((r) => r.pattern.test(url.pathname));
    if (onPath.length === 0)
      return sendJson(ctx, 404, {
        error: "not_found",
        error_description: `No endpoint at ${url.pathname}.`,
      });
    const route = onPath.find((r) => r.methods.includes(method));
    if (!route)
      return sendJson(
        ctx,
        405,
        {
          error: "invalid_request",
          error_description: `${method} is not allowed on ${url.pathname}.`,
        },
        { allow: onPath.flatMap((r) => r.methods).join(", ") },
      );
    const parsed = await readBody(req);
    ctx.body = parsed.body;
    ctx.json = parsed.json;
    ctx.match = route.pattern.exec(url.pathname)!;
    await route.handler(emu, ctx);
  } catch (error) {
    if (res.headersSent) return;
    if (error instanceof EntraError) return sendEntraError(ctx, error, emu.clock.now());
    if (isPartnerCenterError(error)) return sendPartnerCenterError(ctx, error);
    options.onError(error);
    sendEntraError(
      ctx,
      new EntraError(500, "server_error", 90033, "An internal error occurred in the emulator."),
      emu.clock.now(),
    );
  } finally {
    // The control API's own calls stay out of the log that it serves.
    if (!url.pathname.startsWith("/_emulator/")) logRequest(emu, ctx, req, res, started, faultName);
  }
}

function logRequest(
  emu: Emulator,
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  started: number,
  faultName: string | undefined,
): void {
  const headers: Record<string, string> = {};
  const url = ctx.url;
  const method = ctx.method;
  for (const h of SAFE_HEADERS) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = v;
  }
  emu.logRequest({
    time: emu.clock.now().toISOString(),
    method,
    path: url.pathname,
    query: redactParams(url.searchParams),
    status: ctx.status ?? res.statusCode,
    correlationId: ctx.correlationId,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    userAgent: req.headers["user-agent"],
    headers,
    note: {
      ...ctx.note,
      ...(ctx.body["grant_type"] ? { grant_type: ctx.body["grant_type"] } : {}),
    },
    ...(faultName ? { fault: faultName } : {}),
  });
}
