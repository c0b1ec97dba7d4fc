/**
 * The Graph client over real HTTP: a local server answering in Graph's documented shapes
 * (paging with an absolute @odata.nextLink, `{"error":{code,message,innerError}}`, `request-id`,
 * 429 with Retry-After, 5xx), and a token source that records what it was asked.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { GraphClient, GraphError } from "../../src/graph/client.ts";
import { findServicePrincipal, listRelationships } from "../../src/graph/directory.ts";
import type { GetTokenOptions, TokenSource } from "../../src/session/types.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server;
let origin: string;
let handler: Handler;
const seen: { method: string; path: string; auth: string | undefined }[] = [];

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function graphError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  json(
    res,
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString(),
          "request-id": "req-123",
          "client-request-id": "c-1",
        },
      },
    },
    { "request-id": "req-123", ...headers },
  );
}

class RecordingSource implements TokenSource {
  readonly asked: GetTokenOptions[] = [];
  async getToken(options: GetTokenOptions) {
    this.asked.push(options);
    return {
      accessToken: `token-for-${options.tenant ?? "home"}${options.forceRefresh ? "-fresh" : ""}`,
      tokenType: "Bearer",
      expiresOn: new Date(Date.now() + 3600_000).toISOString(),
      extExpiresOn: null,
      scopes: options.scopes,
      tenantId: options.tenant ?? "home",
      account: null,
      idToken: null,
      refreshToken: null,
      correlationId: null,
    } as unknown as Awaited<ReturnType<TokenSource["getToken"]>>;
  }
}

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, origin);
    seen.push({
      method: req.method!,
      path: url.pathname + url.search,
      auth: req.headers.authorization,
    });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function client(source = new RecordingSource(), retries = 2) {
  return { source, graph: new GraphClient({ source, endpoint: origin, retries }) };
}

describe("GraphClient", () => {
  it("follows every absolute @odata.nextLink page, with the tenant's token", async () => {
    handler = (_req, res, url) => {
      const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
      const value = Array.from({ length: 3 }, (_, i) => ({
        id: `r${skip + i}`,
        status: "active",
        customer: { tenantId: `T${skip + i}`, displayName: `Customer ${skip + i}` },
        accessDetails: {
          unifiedRoles: [{ roleDefinitionId: "62e90394-69f5-4237-9190-012177145e10" }],
        },
        autoExtendDuration: "P180D",
        endDateTime: "2027-01-01T00:00:00Z",
      }));
      json(res, 200, {
        value,
        ...(skip < 6
          ? { "@odata.nextLink": `${origin}${url.pathname}?$skiptoken=${skip + 3}` }
          : {}),
      });
    };
    const { graph, source } = client();
    seen.length = 0;
    const ids = [];
    for await (const r of listRelationships(graph)) ids.push(r.id + ":" + r.customerTenantId);
    assert.deepEqual(ids, [
      "r0:t0",
      "r1:t1",
      "r2:t2",
      "r3:t3",
      "r4:t4",
      "r5:t5",
      "r6:t6",
      "r7:t7",
      "r8:t8",
    ]);
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.auth === "Bearer token-for-home"));
    assert.deepEqual(source.asked[0]!.scopes, ["https://graph.microsoft.com/.default"]);
  });

  it("asks the customer tenant's token for a customer-tenant read and escapes the OData filter", async () => {
    handler = (_req, res) =>
      json(res, 200, { value: [{ id: "sp1", appId: "A'B", displayName: "App" }] });
    const { graph, source } = client();
    seen.length = 0;
    const sp = await findServicePrincipal(graph, "A'B", "customer-1");
    assert.equal(sp?.id, "sp1");
    assert.equal(source.asked.at(-1)!.tenant, "customer-1");
    assert.match(decodeURIComponent(seen[0]!.path), /\$filter=appId eq 'A''B'/);
  });

  it("refuses a nextLink to another origin (the token would go there)", async () => {
    handler = (_req, res) =>
      json(res, 200, { value: [{ id: "x" }], "@odata.nextLink": "https://evil.example/v1.0/next" });
    const { graph } = client();
    const items = [];
    await assert.rejects(
      async () => {
        for await (const i of graph.list("/v1.0/groups")) items.push(i);
      },
      (e: unknown) => e instanceof GraphError && /not followed/.test(e.message),
    );
    assert.equal(items.length, 1);
  });

  it("a Graph error keeps its code, message and request id; a 403 is not retried", async () => {
    handler = (_req, res) =>
      graphError(
        res,
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
      );
    const { graph } = client();
    seen.length = 0;
    const error = await graph.request({ path: "/v1.0/organization" }).catch((e: unknown) => e);
    assert.ok(error instanceof GraphError);
    assert.equal(error.status, 403);
    assert.equal(error.graphCode, "Authorization_RequestDenied");
    assert.equal(error.requestId, "req-123");
    assert.equal(error.code, "ERR_GRAPH_403");
    assert.match(
      error.message,
      /Insufficient privileges to complete the operation\. \(request id req-123\)/,
    );
    assert.equal(seen.length, 1);
  });

  it("a 401 is tried once more with a freshly redeemed token", async () => {
    handler = (req, res) =>
      req.headers.authorization === "Bearer token-for-home-fresh"
        ? json(res, 200, { id: "me" })
        : graphError(
            res,
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
          );
    const { graph, source } = client();
    assert.deepEqual(await graph.request({ path: "/v1.0/me" }), { id: "me" });
    assert.equal(source.asked.at(-1)!.forceRefresh, true);
  });

  it("429 with Retry-After and 503 are retried, then answered", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      if (calls === 1)
        return graphError(res, 429, "TooManyRequests", "Too many requests.", {
          "retry-after": "1",
        });
      if (calls === 2) return graphError(res, 503, "serviceNotAvailable", "Service unavailable.");
      json(res, 200, { value: [] });
    };
    const { graph } = client();
    const started = Date.now();
    assert.deepEqual(await graph.request({ path: "/v1.0/groups" }), { value: [] });
    assert.equal(calls, 3);
    assert.ok(Date.now() - started >= 900, "Retry-After was honoured");
  });

  it("gives up after the bounded retries with the last Graph error", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      graphError(res, 500, "generalException", "Something failed.");
    };
    const { graph } = client(new RecordingSource(), 1);
    const error = await graph.request({ path: "/v1.0/groups" }).catch((e: unknown) => e);
    assert.ok(error instanceof GraphError);
    assert.equal(error.status, 500);
    assert.equal(error.graphCode, "generalException");
    assert.equal(calls, 2);
  });

  it("refuses an answer larger than its bound, and one that is not JSON", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = "x".repeat(1024 * 1024);
      for (let i = 0; i <= 4; i++) res.write(chunk);
      res.end();
    };
    const { graph } = client();
    await assert.rejects(
      graph.request({ path: "/v1.0/groups" }),
      (e: unknown) =>
        (e as { code?: string }).code === "ERR_RESPONSE_TOO_LARGE" &&
        /larger than/.test((e as Error).message),
    );
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>proxy</html>");
    };
    await assert.rejects(
      graph.request({ path: "/v1.0/groups" }),
      (e: unknown) => e instanceof GraphError && /not JSON/.test(e.message),
    );
  });

  it("refuses a page without 'value' and a plain-http endpoint off this machine", async () => {
    handler = (_req, res) => json(res, 200, { items: [] });
    const { graph } = client();
    await assert.rejects(
      async () => {
        for await (const _ of graph.list("/v1.0/groups"));
      },
      (e: unknown) => e instanceof GraphError && /no 'value' list/.test(e.message),
    );
    assert.throws(
      () => new GraphClient({ source: new RecordingSource(), endpoint: "http://graph.example" }),
      (e: unknown) => (e as { code?: string }).code === "ERR_INSECURE_ENDPOINT",
    );
  });
});
