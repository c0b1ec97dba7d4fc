/**
 * The emulator's HTTP plumbing: request context, body parsing and response helpers. No routing
 * or protocol decisions live here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { EntraError } from "./errors.ts";

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  /** Form or JSON body fields (strings only), merged with nothing else. */
  body: Record<string, string>;
  /** The raw JSON body, for the control API. */
  json: unknown;
  match: RegExpExecArray;
  correlationId: string;
  requestId: string;
  /** Filled in by handlers for the request log. */
  note: Record<string, string>;
  status?: number;
}

const MAX_BODY = 1024 * 1024;

/**
 * The raw body. Event listeners rather than an async iterator: this runs on every token request.
 * An oversized body is read to its end (and dropped) so that the 413 answer reaches the client.
 */
function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on("end", () =>
      size > MAX_BODY
        ? reject(new EntraError(413, "invalid_request", 90015, "The request body is too large."))
        : resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
    req.on("error", () =>
      reject(new EntraError(400, "invalid_request", 90014, "The request body was cut off.")),
    );
  });
}

export async function readBody(
  req: IncomingMessage,
): Promise<{ body: Record<string, string>; json: unknown }> {
  if (req.method === "GET" || req.method === "HEAD") return { body: {}, json: undefined };
  const text = (await collect(req)).toString("utf8");
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (type.startsWith("application/json") || type.startsWith("text/json")) {
    if (!text) return { body: {}, json: undefined };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EntraError(400, "invalid_request", 90014, "The request body is not valid JSON.");
    }
    const body: Record<string, string> = {};
    if (json && typeof json === "object")
      for (const [k, v] of Object.entries(json)) if (typeof v === "string") body[k] = v;
    return { body, json };
  }
  const body: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) body[k] = v;
  return { body, json: undefined };
}

export function correlationIdOf(req: IncomingMessage): string {
  const h =
    req.headers["client-request-id"] ??
    req.headers["ms-correlationid"] ??
    req.headers["x-ms-correlation-id"];
  const value = Array.isArray(h) ? h[0] : h;
  return value && /^[0-9a-zA-Z-]{1,64}$/.test(value) ? value : randomUUID();
}

export function sendJson(
  ctx: Ctx,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  ctx.status = status;
  ctx.res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store, no-cache",
    pragma: "no-cache",
    "x-ms-request-id": ctx.requestId,
    "client-request-id": ctx.correlationId,
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  ctx.res.end(text);
}

export function sendHtml(ctx: Ctx, status: number, html: string): void {
  ctx.status = status;
  ctx.res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "content-security-policy":
      "default-src 'none'; style-src 'unsafe-inline'; form-action *; script-src 'unsafe-inline'",
    "x-ms-request-id": ctx.requestId,
  });
  ctx.res.end(html);
}

export function redirect(ctx: Ctx, location: string): void {
  ctx.status = 302;
  ctx.res.writeHead(302, {
    location,
    "cache-control": "no-store",
    "x-ms-request-id": ctx.requestId,
  });
  ctx.res.end();
}

export function sendEntraError(ctx: Ctx, error: EntraError, now: Date): void {
  ctx.note["error"] = `${error.error} AADSTS${error.aadsts}`;
  const headers: Record<string, string> = {};
  if (error.status === 401) headers["www-authenticate"] = `Bearer error="${error.error}"`;
  sendJson(ctx, error.status, error.body(ctx.correlationId, now), headers);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
