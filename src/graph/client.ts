/**
 * A small Microsoft Graph client: the few calls the customer diagnosis and repair make, on the
 * library's HTTP layer (`client/http.ts`: `client-request-id`, the extra CA, retries of 408, 429
 * and 5xx honouring a bounded `Retry-After`, redacted debug). Every call gets its token from a
 * {@link TokenSource} — in the partner's tenant (relationships, groups, the app) or in a
 * customer's (service principals, grants). Answers are bounded in size and time by that layer,
 * OData pages followed
 * through their absolute `@odata.nextLink` only on the same origin, and refusals become a
 * {@link GraphError} keeping Graph's `code` and `request-id`.
 */
import { PartnerTokenError, ServerError } from "../client/errors.ts";
import { createHttp, readJsonBody } from "../client/http.ts";
import type { TokenSource } from "../session/types.ts";

/** The resource of Microsoft Graph in the global cloud (and the emulator's audience for it). */
export const GRAPH_RESOURCE = "https://graph.microsoft.com";
/** Pages followed by one listing at most: a server that never stops paging cannot hold us. */
export const MAX_GRAPH_PAGES = 1000;

export interface GraphClientOptions {
  /** Where the tokens come from (a session, a refresh-token store). */
  source: TokenSource;
  /** Where Graph is: `https://graph.microsoft.com`, a national cloud's, or the emulator's origin. */
  endpoint?: string;
  /** The resource tokens are asked for (`{resource}/.default`); default {@link GRAPH_RESOURCE}. */
  resource?: string;
  /** PEM file of an extra certificate authority to trust (the emulator's). */
  caFile?: string;
  /** The HTTP exchange, secrets redacted. */
  debug?: (line: string) => void;
  signal?: AbortSignal;
  /** Retries after the first attempt of a call (408, 429, 5xx, network). Default 3. */
  retries?: number;
  /** Deadline of one call with its retries (the HTTP layer's default, 60 s, when not given). */
  timeoutMs?: number;
  /** The largest answer read (the HTTP layer's default, 4 MiB, when not given); more is `ERR_RESPONSE_TOO_LARGE`. */
  maxResponseBytes?: number;
}

export interface GraphRequest {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  /** Path under the endpoint with its query (`/v1.0/me?$select=id`), or an absolute nextLink. */
  path: string;
  /** The tenant whose token is used; default the source's own (the partner's). */
  tenant?: string;
  json?: unknown;
  /** Extra request headers (`ConsistencyLevel`, …). */
  headers?: Record<string, string>;
}

/**
 * Graph refused (or failed) a call: Graph's `code` (`Authorization_RequestDenied`,
 * `Request_ResourceNotFound`, …) as {@link graphCode}, its `request-id`, the HTTP status. The
 * token request that came first may fail instead, with the session's own errors. `exitCode` 1.
 *
 * @example
 * ```ts
 * try {
 *   await graph.request({ path: "/v1.0/organization" });
 * } catch (err) {
 *   if (err instanceof GraphError && err.graphCode === "Authorization_RequestDenied") askForRole();
 * }
 * ```
 */
export class GraphError extends ServerError {
  /** Graph's error code, e.g. `Authorization_RequestDenied`. */
  readonly graphCode: string | undefined;
  /** Graph's `request-id` (header or `innerError`), to quote to Microsoft support. */
  readonly requestId: string | undefined;

  constructor(
    message: string,
    fields: {
      status: number;
      graphCode?: string;
      requestId?: string;
      clientRequestId?: string;
      response?: Response;
      hint?: string;
    },
  ) {
    super(`ERR_GRAPH_${fields.status}`, message, {
      status: fields.status,
      ...(fields.graphCode !== undefined ? { error: fields.graphCode } : {}),
      ...(fields.clientRequestId !== undefined ? { correlationId: fields.clientRequestId } : {}),
      ...(fields.response ? { response: fields.response } : {}),
      hint:
        fields.hint ??
        statusHints[fields.status] ??
        (fields.status >= 500 ? statusHints[500] : undefined),
    });
    this.graphCode = fields.graphCode;
    this.requestId = fields.requestId;
  }
}

const statusHints: Record<number, string> = {
  401: "Graph did not accept the token: sign in again, for Graph, in the environment of the endpoint.",
  403: "The signed-in user (or the app) lacks the Graph permission or directory role this call needs.",
  404: "Graph found no such object.",
  429: "Graph kept throttling after the retries honoured its Retry-After. Try again later.",
  500: "Graph failed, even after retries. Try again later; quote the request id to Microsoft support if it persists.",
};

/** One OData collection page. */
interface Page<T> {
  value: T[];
  "@odata.nextLink"?: string;
}

/**
 * A Microsoft Graph client over a token source.
 *
 * @example
 * ```ts
 * const graph = new GraphClient({ source: session });
 * for await (const r of graph.list("/v1.0/tenantRelationships/delegatedAdminRelationships")) console.log(r);
 * ```
 */
export class GraphClient {
  readonly endpoint: string;
  readonly resource: string;
  readonly #options: GraphClientOptions;

  constructor(options: GraphClientOptions) {
    const endpoint = options.endpoint ?? GRAPH_RESOURCE;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new PartnerTokenError(
        "ERR_INVALID_ARGUMENT",
        `Graph endpoint is not a URL: '${endpoint}'.`,
      );
    }
    if (url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
      throw new PartnerTokenError(
        "ERR_INSECURE_ENDPOINT",
        `The Graph endpoint '${url.origin}' is not https; tokens would travel unencrypted.`,
      );
    this.endpoint = url.origin;
    this.resource = (options.resource ?? GRAPH_RESOURCE).replace(/\/+$/, "");
    this.#options = options;
  }

  /** One call: the token of its tenant, retries, the answer parsed (bounded) or a {@link GraphError}. */
  async request<T = unknown>(request: GraphRequest): Promise<T> {
    const o = this.#options;
    const http = createHttp({
      ...(o.caFile ? { caFile: o.caFile } : {}),
      ...(o.debug ? { debug: o.debug } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.maxResponseBytes !== undefined ? { maxResponseBytes: o.maxResponseBytes } : {}),
    });
    const url = this.#url(request.path);
    const headers: Record<string, string> = { accept: "application/json", ...request.headers };
    let body: string | undefined;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers["content-type"] = "application/json";
    }
    const method = request.method ?? (body === undefined ? "GET" : "POST");
    const where = `${method} ${new URL(url).pathname}`;
    // A 401 for a cached token may mean Graph saw it expire first: one retry with a fresh one.
    for (let attempt = 0; ; attempt++) {
      const token = await o.source.getToken({
        scopes: [`${this.resource}/.default`],
        ...(request.tenant ? { tenant: request.tenant } : {}),
        ...(attempt > 0 ? { forceRefresh: true } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      const response = await http.fetch(url, {
        method,
        headers: { ...headers, authorization: `Bearer ${token.accessToken}` },
        ...(body !== undefined ? { body } : {}),
      });
      if (response.status === 401 && attempt === 0) {
        await response.body?.cancel();
        continue;
      }
      // The HTTP layer stops reading at maxResponseBytes (ERR_RESPONSE_TOO_LARGE).
      const parsed = await readJsonBody(
        response,
        () =>
          new GraphError(`Graph answered ${where} with a body that is not JSON.`, {
            status: response.status,
            ...ids(response, undefined),
          }),
      );
      if (response.ok) return parsed as T;
      throw graphErrorFrom(response, parsed, where);
    }
  }

  /**
   * Every item of a collection, page after page (constant memory for any number).
   *
   * @example
   * ```ts
   * for await (const sp of graph.list<{ id: string }>("/v1.0/servicePrincipals", { tenant })) …
   * ```
   */
  async *list<T = Record<string, unknown>>(
    path: string,
    options: { tenant?: string; headers?: Record<string, string> } = {},
  ): AsyncGenerator<T> {
    let next: string | undefined = path;
    const seen = new Set<string>();
    for (let pages = 0; next !== undefined; pages++) {
      if (pages >= MAX_GRAPH_PAGES)
        throw new GraphError(`Graph paged ${path.split("?")[0]} beyond ${MAX_GRAPH_PAGES} pages.`, {
          status: 200,
        });
      const page: Page<T> | undefined = await this.request<Page<T>>({
        path: next,
        ...(options.tenant ? { tenant: options.tenant } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
      });
      if (!page || !Array.isArray(page.value))
        throw new GraphError(`Graph's page of ${path.split("?")[0]} holds no 'value' list.`, {
          status: 200,
        });
      yield* page.value;
      const link: unknown = page["@odata.nextLink"];
      if (link === undefined || link === null) next = undefined;
      else if (typeof link !== "string" || seen.has(link))
        throw new GraphError(
          `Graph's nextLink of ${path.split("?")[0]} is not usable (repeated or not a string).`,
          {
            status: 200,
          },
        );
      else {
        seen.add(link);
        next = link;
      }
    }
  }

  /** A path under the endpoint, or an absolute link that must stay on the endpoint's origin. */
  #url(path: string): string {
    if (/^https?:\/\//i.test(path)) {
      const url = new URL(path);
      if (url.origin !== this.endpoint)
        throw new GraphError(
          `Graph sent a link to ${url.origin}, not to ${this.endpoint}; it is not followed (the token would go there).`,
          { status: 200 },
        );
      return url.href;
    }
    return `${this.endpoint}${path.startsWith("/") ? "" : "/"}${path}`;
  }
}

function ids(response: Response, body: Record<string, unknown> | undefined) {
  const inner = (body?.["innerError"] ?? body?.["innererror"]) as
    Record<string, unknown> | undefined;
  const requestId =
    response.headers.get("request-id") ??
    (typeof inner?.["request-id"] === "string" ? (inner["request-id"] as string) : undefined);
  const clientRequestId =
    response.headers.get("client-request-id") ??
    (typeof inner?.["client-request-id"] === "string"
      ? (inner["client-request-id"] as string)
      : undefined);
  return {
    ...(requestId ? { requestId } : {}),
    ...(clientRequestId ? { clientRequestId } : {}),
  };
}

/** Graph's error shape `{"error":{"code","message","innerError":{…}}}`, or an empty body. */
function graphErrorFrom(response: Response, body: unknown, where: string): GraphError {
  const error = ((body as { error?: unknown } | undefined)?.error ?? undefined) as
    Record<string, unknown> | undefined;
  const code = typeof error?.["code"] === "string" ? (error["code"] as string) : undefined;
  const text = typeof error?.["message"] === "string" ? (error["message"] as string) : undefined;
  const found = ids(response, error);
  const message = text
    ? `Graph refused ${where} (HTTP ${response.status}${code ? `, ${code}` : ""}): ${text.split(/\r?\n/)[0]!.slice(0, 500)}${found.requestId ? ` (request id ${found.requestId})` : ""}`
    : `Graph answered ${where} with HTTP ${response.status} ${response.statusText}${found.requestId ? ` (request id ${found.requestId})` : ""}.`;
  return new GraphError(message, {
    status: response.status,
    ...(code ? { graphCode: code } : {}),
    ...found,
    response,
  });
}
