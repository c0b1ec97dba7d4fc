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
import type { Duplex } from "node:stream";
import { EntraError } from "./errors.ts";
import { redactParams, type Emulator } from "./emulator.ts";
import { correlationIdOf, readBody, type Ctx } from "./http.ts";
import {
  sendServiceError,
  serviceOfHost,
  serviceOfPath,
  ServiceError,
  type Service,
} from "./services.ts";
import { authorize, login, loginMfa } from "./endpoints/authorize.ts";
import { listSubscriptions, listTenants } from "./endpoints/arm.ts";
import { control } from "./endpoints/control.ts";
import { deviceAuthorization, deviceLoginPage, deviceLoginSubmit } from "./endpoints/device.ts";
import {
  discoveryV1,
  discoveryV2,
  instanceDiscovery,
  jwks,
  userRealm,
} from "./endpoints/metadata.ts";
import {
  generateToken,
  isPartnerCenterError,
  listCustomers,
  organizationProfile,
  sendPartnerCenterError,
} from "./endpoints/partner-center.ts";
import { tokenV1, tokenV2 } from "./endpoints/token.ts";
import { keyVault } from "./endpoints/key-vault.ts";
import {
  createApplicationConsent,
  deleteApplicationConsent,
} from "./endpoints/application-consents.ts";
import { graph } from "./graph/router.ts";

type Handler = (emu: Emulator, ctx: Ctx) => void | Promise<void>;
interface Route {
  methods: string[];
  pattern: RegExp;
  handler: Handler;
  /** The service whose host serves the route; by default the one its path belongs to. */
  service?: Service;
}

const T = "([^/]+)";
const routes: Route[] = [
  { methods: ["GET"], pattern: /^\/common\/discovery\/instance$/, handler: instanceDiscovery },
  { methods: ["GET"], pattern: /^\/common\/userrealm\/?([^/]*)$/, handler: userRealm },
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
  // Key Vault's secrets API: the handler answers its own errors in Key Vault's shape.
  {
    methods: ["GET", "PUT", "DELETE", "POST"],
    pattern: /^\/(?:secrets|deletedsecrets)(?:\/[^/]*){0,3}$/,
    handler: keyVault,
  },
  // Microsoft Graph: one route, its own table inside (./graph/router.ts).
  {
    methods: ["GET", "POST", "PATCH", "DELETE"],
    pattern: /^\/(?:v1\.0|beta)(?:\/.*)?$/,
    handler: graph,
    service: "graph",
  },
  {
    methods: ["POST"],
    pattern: /^\/v1\/customers\/([^/]+)\/applicationconsents$/i,
    handler: createApplicationConsent,
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v1\/customers\/([^/]+)\/applicationconsents\/([^/]+)$/i,
    handler: deleteApplicationConsent,
  },
  { methods: ["GET"], pattern: /^\/tenants$/, handler: listTenants, service: "arm" },
  { methods: ["GET"], pattern: /^\/subscriptions$/, handler: listSubscriptions, service: "arm" },
];

const SAFE_HEADERS = [
  "client-request-id",
  "ms-correlationid",
  "ms-requestid",
  "ms-partnercenter-client",
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
    handle(emu, options, req, res).catch((error: unknown) => lastResort(options, res, error));
  };
  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 5000;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerUnparsable(emu, error, socket),
  );
  // Bounded header and request times: a slow or stuck client holds a socket, never the process.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  // Each connection may hold one request body (at most 1 MiB) in memory: bounded connections,
  // bounded memory. Far above what any test, demo or benchmark opens at once.
  server.maxConnections = 1024;
  return server;
}

/**
 * Requests Node's parser refuses (a broken request line or header, headers too large, too slow)
 * never reach the handler: they get Entra's 400 (431, 408) here instead of a bare status line.
 */
function answerUnparsable(emu: Emulator, error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "The request headers are too large."]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "The request was not received in time."]
        : [400, "Bad Request", "The request could not be read as HTTP."];
  let now = new Date();
  try {
    now = emu.clock.now();
  } catch {
    // the real time will do
  }
  const body = JSON.stringify(
    new EntraError(status, "invalid_request", 900144, message).body(randomUUID(), now),
  );
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Only reached if answering an error failed too: the process stays up, the socket goes. */
function lastResort(options: ServerOptions, res: ServerResponse, error: unknown): void {
  try {
    options.onError(error);
  } catch {
    // A failing logger must not end the process either.
  }
  if (!res.headersSent) {
    try {
      res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end('{"error":"server_error"}');
      return;
    } catch {
      // fall through to destroying the socket
    }
  }
  res.destroy();
}

/** The request target as a URL; undefined when it is not an origin-form path (`/…`). */
function parseTarget(target: string | undefined): URL | undefined {
  if (!target || !target.startsWith("/") || target.startsWith("//")) return undefined;
  try {
    return new URL(target, "http://emulator");
  } catch {
    return undefined;
  }
}

async function handle(
  emu: Emulator,
  options: ServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const target = parseTarget(req.url);
  const url = target ?? new URL("http://emulator/");
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
  const isControl = url.pathname.startsWith("/_emulator/");
  // Under --impersonate the Host names the service; any other name (127.0.0.1) serves them all.
  const service: Service = isControl
    ? "control"
    : (serviceOfHost(req.headers.host) ?? serviceOfPath(url.pathname));
  let faultName: string | undefined;
  try {
    if (!target)
      throw new ServiceError(
        400,
        "InvalidRequestTarget",
        "The request target is not a path starting with '/'.",
      );
    // settings.latencyMs models the network: every answer but the control API's waits for it.
    if (!isControl && emu.settings.latencyMs > 0)
      await new Promise((r) => setTimeout(r, emu.settings.latencyMs));
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
      if (fault.status) return sendFault(emu, ctx, service, fault.status, fault.retryAfter);
    }
    if (isControl) {
      const parsed = await readBody(req);
      ctx.body = parsed.body;
      ctx.json = parsed.json;
      ctx.match = /^\/_emulator\/(.+)$/.exec(url.pathname) ?? /^/.exec("")!;
      return control(emu, ctx, options.info);
    }
    // A path may have one route per method (GET and POST /devicelogin): 405 only when none
    // of the routes for the path takes the method.
    const pathService = serviceOfPath(url.pathname);
    const onPath = routes.filter(
      (r) => (r.service ?? pathService) === service && r.pattern.test(url.pathname),
    );
    if (onPath.length === 0)
      throw new ServiceError(404, "NotFound", `No endpoint at ${clip(url.pathname, 200)}.`);
    const route = onPath.find((r) => r.methods.includes(method));
    if (!route) {
      const allow = onPath.flatMap((r) => r.methods).join(", ");
      return sendServiceError(
        ctx,
        service,
        new ServiceError(
          405,
          "MethodNotAllowed",
          `The endpoint only accepts ${allow} requests. Received a ${method} request.`,
        ),
        emu.clock.now(),
        { allow },
      );
    }
    const parsed = await readBody(req);
    ctx.body = parsed.body;
    ctx.json = parsed.json;
    ctx.match = route.pattern.exec(url.pathname)!;
    await route.handler(emu, ctx);
  } catch (error) {
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (isPartnerCenterError(error)) return sendPartnerCenterError(ctx, error);
    if (error instanceof EntraError || error instanceof ServiceError)
      return sendServiceError(ctx, service, error, emu.clock.now());
    // decodeURIComponent of something the client sent (a path segment, a Basic credential):
    // the client's mistake, wherever in a handler it surfaced.
    if (error instanceof URIError)
      return sendServiceError(
        ctx,
        service,
        new ServiceError(
          400,
          "BadRequest",
          "A value in the request is not validly percent-encoded.",
        ),
        emu.clock.now(),
      );
    options.onError(error);
    sendServiceError(
      ctx,
      service,
      new ServiceError(500, "InternalServerError", "An internal error occurred in the emulator."),
      emu.clock.now(),
    );
  } finally {
    // The control API's own calls stay out of the log that it serves.
    if (!isControl) {
      try {
        logRequest(emu, ctx, req, res, started, faultName);
      } catch (error) {
        options.onError(error);
      }
    }
  }
}

/** An injected status fault, in the shape of the service it hits. */
function sendFault(
  emu: Emulator,
  ctx: Ctx,
  service: Service,
  status: number,
  retryAfter: number | undefined,
): void {
  const headers: Record<string, string> = {};
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  const throttled = status === 429;
  const message = throttled
    ? "The server is throttling requests; retry after the time given in Retry-After."
    : "A transient error has occurred. Please try again.";
  const error =
    service === "entra"
      ? new EntraError(
          status,
          throttled
            ? "too_many_requests"
            : status >= 500
              ? "temporarily_unavailable"
              : "invalid_request",
          throttled ? 50196 : 90033,
          message,
        )
      : new ServiceError(
          status,
          throttled ? "TooManyRequests" : status >= 500 ? "ServiceUnavailable" : "BadRequest",
          message,
        );
  sendServiceError(ctx, service, error, emu.clock.now(), headers);
}

/** Cuts a client-chosen value to `max` characters, so one request cannot fill the log. */
const clip = (value: string, max: number) =>
  value.length > max ? `${value.slice(0, max)}…[${value.length - max} more]` : value;

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
  for (const h of SAFE_HEADERS) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = clip(v, 256);
  }
  const query: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(redactParams(url.searchParams))) {
    if (++n > 32) break;
    query[clip(k, 64)] = clip(v, 512);
  }
  const userAgent = req.headers["user-agent"];
  emu.logRequest({
    time: emu.clock.now().toISOString(),
    method: ctx.method,
    ...(req.headers.host ? { host: clip(req.headers.host, 256) } : {}),
    path: clip(url.pathname, 1024),
    query,
    status: ctx.status ?? res.statusCode,
    correlationId: ctx.correlationId,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    userAgent: userAgent === undefined ? undefined : clip(userAgent, 512),
    headers,
    note: {
      ...ctx.note,
      ...(ctx.body["grant_type"] ? { grant_type: clip(ctx.body["grant_type"], 128) } : {}),
    },
    ...(faultName ? { fault: faultName } : {}),
  });
}
