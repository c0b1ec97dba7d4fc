/**
 * Which Microsoft service a request is for, and how that service shapes its errors. Under
 * `--impersonate` the Host header decides (the emulator answers under Microsoft's own names);
 * otherwise, on one host and port, the path does. Each service answers its errors in its own
 * shape, so a client's error handling sees what it would see from Microsoft.
 */
import { EntraError } from "./errors.ts";
import { sendJson, type Ctx } from "./http.ts";

export type Service = "entra" | "partnerCenter" | "arm" | "vault" | "graph" | "outlook" | "control";

/** Entra ID's sign-in hosts, public and national clouds (all aliases MSAL knows). */
export const LOGIN_HOSTS = [
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
  "sts.windows.net",
  "login.microsoftonline.us",
  "login.usgovcloudapi.net",
  "login-us.microsoftonline.com",
  "login.chinacloudapi.cn",
  "login.partner.microsoftonline.cn",
  "login.microsoftonline.de",
  "login.windows-ppe.net",
];

/** Partner Center's API hosts, public and national clouds. */
export const PARTNER_CENTER_HOSTS = [
  "api.partnercenter.microsoft.com",
  "partner.partnercenterapi.microsoftonline.cn",
  "api.partnercenter.microsoft-ppe.com",
];

const OTHER_HOSTS: Record<string, Service> = {
  "management.azure.com": "arm",
  "graph.microsoft.com": "graph",
  "outlook.office365.com": "outlook",
};

/** The names a host file must point at the emulator under `--impersonate`, in a stable order. */
export function impersonatedHosts(vaultNames: string[] = []): string[] {
  return [
    ...LOGIN_HOSTS,
    ...PARTNER_CENTER_HOSTS,
    ...Object.keys(OTHER_HOSTS),
    ...vaultNames.map((v) => `${v.toLowerCase()}.vault.azure.net`),
  ];
}

/** The certificate's DNS names under `--impersonate`: every host above, and any vault. */
export function impersonatedCertificateNames(): string[] {
  return [...impersonatedHosts(), "*.vault.azure.net"];
}

/** The service a Host header names; undefined for any other name (127.0.0.1, localhost). */
export function serviceOfHost(hostHeader: string | undefined): Service | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
  if (LOGIN_HOSTS.includes(host)) return "entra";
  if (PARTNER_CENTER_HOSTS.includes(host)) return "partnerCenter";
  if (host.endsWith(".vault.azure.net")) return "vault";
  return Object.hasOwn(OTHER_HOSTS, host) ? OTHER_HOSTS[host] : undefined;
}

/** The service a path belongs to when one host serves them all. */
export function serviceOfPath(path: string): Service {
  if (path.startsWith("/_emulator/")) return "control";
  if (path === "/generatetoken" || path.startsWith("/v1/")) return "partnerCenter";
  if (/^\/(?:tenants|subscriptions)(?:\/|$)/.test(path)) return "arm";
  if (/^\/(?:secrets|deletedsecrets)(?:\/|$)/i.test(path)) return "vault";
  if (/^\/(?:v1\.0|beta)(?:\/|$)/.test(path)) return "graph";
  return "entra";
}

/** An error any service can answer: HTTP status, a code and a sentence. */
export class ServiceError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const ENTRA_CODES: Record<number, [string, number]> = {
  404: ["invalid_request", 90056],
  405: ["invalid_request", 900561],
  413: ["invalid_request", 90015],
  500: ["server_error", 90033],
};

const PARTNER_CENTER_CODES: Record<number, number> = {
  400: 900400,
  401: 900401,
  403: 900403,
  404: 900404,
  405: 900405,
  413: 900413,
  429: 900429,
};

/**
 * Answers `error` in `service`'s shape: Entra's (`error`, `error_codes`, `trace_id`,
 * `correlation_id`…), Partner Center's (`code`, `description`, `source`), Azure's (ARM, Graph,
 * Key Vault, Exchange: `{"error":{"code","message"}}`), or the control API's.
 */
export function sendServiceError(
  ctx: Ctx,
  service: Service,
  error: ServiceError | EntraError,
  now: Date,
  headers: Record<string, string> = {},
): void {
  const status = error.status;
  ctx.note["error"] =
    error instanceof EntraError
      ? `${error.error} AADSTS${error.aadsts}`
      : `${status} ${error.code}`;
  switch (service) {
    case "entra": {
      const entra =
        error instanceof EntraError
          ? error
          : new EntraError(
              status,
              ENTRA_CODES[status]?.[0] ?? "invalid_request",
              ENTRA_CODES[status]?.[1] ?? 900144,
              error.message,
            );
      const extra: Record<string, string> = { ...headers };
      if (status === 401) extra["www-authenticate"] = `Bearer error="${entra.error}"`;
      return sendJson(ctx, status, entra.body(ctx.correlationId, now), extra);
    }
    case "partnerCenter":
      return sendJson(
        ctx,
        status,
        {
          code: PARTNER_CENTER_CODES[status] ?? (status >= 500 ? 900500 : 900400),
          description: error.message,
          data: [],
          source: "PartnerFD",
        },
        { "ms-correlationid": ctx.correlationId, "ms-cv": ctx.requestId, ...headers },
      );
    case "graph": {
      // Graph's shape: error.code, error.message, error.innerError {date, request-id,
      // client-request-id}; the same ids as headers.
      const graphCode =
        error instanceof EntraError
          ? error.status === 413
            ? "RequestEntityTooLarge"
            : "BadRequest"
          : error.code;
      const extra: Record<string, string> = {
        "request-id": ctx.requestId,
        "client-request-id": ctx.correlationId,
        ...headers,
      };
      if (status === 401)
        extra["www-authenticate"] =
          // A CAE claims challenge carries its own (see ../graph/auth.ts).
          "wwwAuthenticate" in error && typeof error.wwwAuthenticate === "string"
            ? error.wwwAuthenticate
            : 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';
      return sendJson(
        ctx,
        status,
        {
          error: {
            code: graphCode,
            message: error.message,
            innerError: {
              date: now.toISOString().replace(/\.\d+Z$/, ""),
              "request-id": ctx.requestId,
              "client-request-id": ctx.correlationId,
            },
          },
        },
        extra,
      );
    }
    case "control":
      return sendJson(ctx, status, { error: code(error), message: error.message }, headers);
    default:
      return sendJson(
        ctx,
        status,
        { error: { code: code(error), message: error.message } },
        { "x-ms-correlation-request-id": ctx.correlationId, ...headers },
      );
  }
}

function code(error: ServiceError | EntraError): string {
  if (error instanceof ServiceError) return error.code;
  return error.status === 413 ? "RequestEntityTooLarge" : error.error;
}
