/**
 * Microsoft Graph's answers: errors in Graph's shape (`error.code`, `error.message`,
 * `error.innerError` with the date and request ids, `request-id`/`client-request-id` headers),
 * and OData collections: `$top` (bounded per endpoint), `$skiptoken` in an absolute
 * `@odata.nextLink`, `$select`, and the `eq` filters partner tools use.
 */
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { ServiceError } from "../services.ts";

/** A Graph error: HTTP status, Graph's code and message. */
export class GraphError extends ServiceError {}

export const graphErrors = {
  badRequest: (message: string, code = "BadRequest") => new GraphError(400, code, message),
  notFound: (id: string) =>
    new GraphError(
      404,
      "Request_ResourceNotFound",
      `Resource '${clip(id)}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  denied: () =>
    new GraphError(
      403,
      "Authorization_RequestDenied",
      "Insufficient privileges to complete the operation.",
    ),
  duplicate: (message: string) =>
    new GraphError(409, "Request_MultipleObjectsWithSameKeyValue", message),
};

export const clip = (text: string, max = 100) =>
  text.length > max ? `${text.slice(0, max)}…` : text;

/** The headers every Graph answer carries. */
export function graphHeaders(ctx: Ctx, now: Date): Record<string, string> {
  return {
    "request-id": ctx.requestId,
    "client-request-id": ctx.correlationId,
    date: now.toUTCString(),
  };
}

export function sendGraph(emu: Emulator, ctx: Ctx, status: number, body?: unknown): void {
  const headers = { ...graphHeaders(ctx, emu.clock.now()), "odata-version": "4.0" };
  if (body === undefined) {
    ctx.status = status;
    ctx.res.writeHead(status, {
      "cache-control": "no-cache",
      "x-ms-request-id": ctx.requestId,
      ...headers,
    });
    ctx.res.end();
    return;
  }
  sendJson(ctx, status, body, headers);
}

/** The origin and version prefix a request used, for `@odata.context` and `@odata.nextLink`. */
export function base(emu: Emulator, ctx: Ctx): string {
  const version = ctx.url.pathname.startsWith("/beta/") ? "beta" : "v1.0";
  return `${emu.originOf(ctx)}/${version}`;
}

/** One `property eq 'value'` clause; the property may be a path (`customer/tenantId`). */
export interface FilterClause {
  property: string;
  value: string;
}

const MAX_FILTER = 2048;

/** Parses `a eq 'x' and b/c eq 'y'`: the only filters the emulator serves. */
export function parseFilter(text: string): FilterClause[] {
  if (text.length > MAX_FILTER)
    throw graphErrors.badRequest(`Invalid filter clause: longer than ${MAX_FILTER} characters.`);
  const clauses: FilterClause[] = [];
  let rest = text.trim();
  const clause = /^([A-Za-z][A-Za-z0-9]*(?:\/[A-Za-z][A-Za-z0-9]*)?)\s+eq\s+'((?:[^']|'')*)'/i;
  while (rest.length > 0) {
    const m = clause.exec(rest);
    if (!m)
      throw graphErrors.badRequest(
        `Invalid filter clause: '${clip(rest)}' is not of the form property eq 'value' (the emulator serves eq and 'and' only).`,
      );
    clauses.push({ property: m[1]!, value: m[2]!.replace(/''/g, "'") });
    rest = rest.slice(m[0].length).trim();
    if (rest.length === 0) break;
    const and = /^and\s+/i.exec(rest);
    if (!and)
      throw graphErrors.badRequest(`Invalid filter clause: expected 'and' at '${clip(rest)}'.`);
    rest = rest.slice(and[0].length);
  }
  if (clauses.length === 0) throw graphErrors.badRequest("Invalid filter clause: it is empty.");
  return clauses;
}

export interface Collection<T> {
  /** The entity set's name in `@odata.context` (`servicePrincipals`). */
  context: string;
  /** Graph's type name, for errors (`microsoft.graph.servicePrincipal`). */
  type: string;
  items: readonly T[];
  toJson: (item: T) => Record<string, unknown>;
  /** Filterable properties (as Graph spells them) and how to read each from an item. */
  filters?: Record<string, (item: T) => string | null | undefined>;
  /** Largest `$top` the endpoint allows, and its page size without one. */
  maxTop: number;
  defaultTop: number;
}

const SYSTEM_OPTIONS = new Set(["$top", "$skiptoken", "$select", "$filter", "$count"]);

function skipOf(token: string | null): number {
  if (token === null) return 0;
  const text = /^[A-Za-z0-9_-]{1,40}$/.test(token)
    ? Buffer.from(token, "base64url").toString("utf8")
    : "";
  const m = /^skip:(\d{1,9})$/.exec(text);
  if (!m)
    throw graphErrors.badRequest(
      "The specified page token value has expired or is invalid. Restart the listing from its first page.",
      "Request_BadRequest",
    );
  return Number(m[1]);
}

/** Checks the query's system options for a single entity (only `$select`). */
export function selectOf(ctx: Ctx, type: string, sample: Record<string, unknown>): string[] | null {
  for (const key of ctx.url.searchParams.keys())
    if (key.startsWith("$") && key !== "$select")
      throw graphErrors.badRequest(`The query option '${clip(key, 40)}' is not supported here.`);
  return parseSelect(ctx.url.searchParams.get("$select"), type, sample);
}

function parseSelect(
  text: string | null,
  type: string,
  sample: Record<string, unknown>,
): string[] | null {
  if (text === null) return null;
  const names = text.split(",").map((s) => s.trim());
  if (names.length > 64 || names.some((n) => n === ""))
    throw graphErrors.badRequest("Invalid $select: list up to 64 property names, comma-separated.");
  const known = Object.keys(sample);
  return names.map((n) => {
    const match = known.find((k) => k.toLowerCase() === n.toLowerCase());
    if (!match)
      throw graphErrors.badRequest(
        `Parsing OData Select and Expand failed: Could not find a property named '${clip(n, 60)}' on type '${type}'.`,
      );
    return match;
  });
}

export function project(
  json: Record<string, unknown>,
  select: string[] | null,
): Record<string, unknown> {
  if (!select) return json;
  const out: Record<string, unknown> = {};
  if (json["@odata.type"] !== undefined) out["@odata.type"] = json["@odata.type"];
  for (const k of select) out[k] = json[k];
  return out;
}

/** Answers one entity (with `$select`). */
export function sendEntity(
  emu: Emulator,
  ctx: Ctx,
  context: string,
  type: string,
  json: Record<string, unknown>,
  status = 200,
): void {
  const select = selectOf(ctx, type, json);
  sendGraph(emu, ctx, status, {
    "@odata.context": `${base(emu, ctx)}/$metadata#${context}/$entity`,
    ...project(json, select),
  });
}

/** Answers one page of a collection, honouring `$filter`, `$top`, `$select` and `$skiptoken`. */
export function sendCollection<T>(emu: Emulator, ctx: Ctx, c: Collection<T>): void {
  const q = ctx.url.searchParams;
  for (const key of q.keys())
    if (key.startsWith("$") && !SYSTEM_OPTIONS.has(key))
      throw graphErrors.badRequest(
        `The query option '${clip(key, 40)}' is not supported by the emulator on this collection.`,
        "Request_UnsupportedQuery",
      );
  const topText = q.get("$top");
  let top = c.defaultTop;
  if (topText !== null) {
    top = /^\d{1,6}$/.test(topText) ? Number(topText) : NaN;
    if (!(top >= 1 && top <= c.maxTop))
      throw graphErrors.badRequest(
        `Invalid page size specified: '${clip(topText, 20)}'. Must be between 1 and ${c.maxTop} inclusive.`,
        "Request_BadRequest",
      );
  }
  const skip = skipOf(q.get("$skiptoken"));
  let items = c.items;
  const filterText = q.get("$filter");
  if (filterText !== null) {
    const clauses = parseFilter(filterText);
    const readers = clauses.map((cl) => {
      const key = Object.keys(c.filters ?? {}).find(
        (k) => k.toLowerCase() === cl.property.toLowerCase(),
      );
      if (!key)
        throw graphErrors.badRequest(
          `Unsupported or invalid query filter clause specified for property '${clip(cl.property, 60)}' of resource '${c.type}'.`,
          "Request_UnsupportedQuery",
        );
      const read = c.filters![key]!;
      const want = cl.value.toLowerCase();
      return (item: T) => (read(item) ?? "").toLowerCase() === want;
    });
    items = items.filter((item) => readers.every((r) => r(item)));
  }
  const page = items.slice(skip, skip + top);
  const first = page[0];
  const select = first ? parseSelect(q.get("$select"), c.type, c.toJson(first)) : null;
  const body: Record<string, unknown> = {
    "@odata.context": `${base(emu, ctx)}/$metadata#${c.context}`,
  };
  const count = q.get("$count");
  if (count !== null && count !== "true" && count !== "false")
    throw graphErrors.badRequest("Invalid $count: use true or false.", "Request_BadRequest");
  if (count === "true") body["@odata.count"] = items.length;
  if (skip + top < items.length) {
    const next = new URL(`${base(emu, ctx)}${ctx.url.pathname.replace(/^\/(?:v1\.0|beta)/, "")}`);
    for (const [k, v] of q) if (k !== "$skiptoken") next.searchParams.append(k, v);
    next.searchParams.set("$skiptoken", Buffer.from(`skip:${skip + top}`).toString("base64url"));
    body["@odata.nextLink"] = next.toString();
  }
  body["value"] = page.map((item) => project(c.toJson(item), select));
  sendGraph(emu, ctx, 200, body);
}

/** An ISO date as Graph writes it (no fractional seconds), or null. */
export function isoDate(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}
