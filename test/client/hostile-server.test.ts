/**
 * The client against deliberately broken servers of our own (node:http and node:https on free
 * ports): a huge or endless body, a body that drips, a connection reset, a device code interval of
 * 0.001 s or 100 000 s, a discovery document that names a plain-http token endpoint elsewhere, an
 * absurd `expires_in`, a Retry-After of 11 days. Each case runs over both HTTP paths where they
 * differ (global fetch for plain http on loopback; node:https with the extra CA file) and must end
 * with its own error code, well within a bound set by a short configured deadline.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { retryAfterHint } from "../../src/client/retry-after.ts";
import { ensurePki } from "../../src/emulator/pki.ts";
import {
  acquireTokenByClientCredentials,
  acquireTokenByDeviceCode,
  acquireTokenByRefreshToken,
  customerTokens,
  PartnerCenterClient,
  PartnerCenterError,
  PartnerTokenError,
  ResponseTooLargeError,
  ServerError,
  TimeoutError,
  type ClientOptions,
  type PartnerCenterClientOptions,
} from "../../src/index.ts";

const TENANT = "contoso.onmicrosoft.com";
const SECRET = "hostile-test-secret-value-0123456789";
const LIMIT = 256 * 1024;

interface Seen {
  method: string;
  url: string;
  body: string;
  /** When the request arrived (ms since epoch). */
  at: number;
  /** The operation's `client-request-id` (one per operation, kept across its retries). */
  operation: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Hostile {
  url: string;
  seen: Seen[];
  /** Bytes the handler wrote before the client went away (see {@link pump}). */
  written: { bytes: number; closed: boolean };
  handle(handler: Handler): void;
  close(): Promise<void>;
}

/** A server whose answers the test decides, recording every request it receives. */
async function startHostile(
  tls: { cert: string; key: string } | undefined,
  host = "127.0.0.1",
): Promise<Hostile> {
  let handler: Handler = (_req, res) => res.end();
  const seen: Seen[] = [];
  const written = { bytes: 0, closed: false };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk.slice(0, 10_000)));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        body,
        at: Date.now(),
        operation: String(req.headers["client-request-id"] ?? ""),
      });
      handler(req, res, body);
    });
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    seen,
    written,
    handle(next) {
      handler = next;
      seen.length = 0;
      written.bytes = 0;
      written.closed = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The requests of the operation seen last, by its `client-request-id`: a request of the previous
 * test's operation, aborted by the client, may still reach the server after the test moved on.
 */
function lastOperation(server: Hostile): Seen[] {
  const operation = server.seen.at(-1)?.operation;
  return server.seen.filter((s) => s.operation === operation);
}

/** Writes 64 KiB chunks as fast as the client takes them, until it goes away. */
function pump(res: ServerResponse, written: Hostile["written"]): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  res.on("close", () => (written.closed = true));
  const more = () => {
    while (!res.destroyed) {
      written.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
  };
  more();
}

/** Fails the test if `promise` has not settled within `ms`: the bound, not a speed measurement. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error `promise` rejects with (fails if it resolves). */
async function failure(promise: Promise<unknown>, bound = 30_000): Promise<PartnerTokenError> {
  const outcome = await within(
    bound,
    promise.then(
      () => undefined,
      (err: unknown) => err,
    ),
  );
  assert.ok(outcome instanceof PartnerTokenError, `expected a PartnerTokenError, got ${outcome}`);
  return outcome;
}

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

const tokenBody = (extra: Record<string, unknown> = {}) => ({
  token_type: "Bearer",
  access_token: "eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.",
  expires_in: 3599,
  ...extra,
});

let pki: ReturnType<typeof ensurePki>;
before(async () => {
  pki = ensurePki(await mkdtemp(join(tmpdir(), "partner-token-hostile-")));
});

for (const path of ["global fetch (http on loopback)", "node:https with the extra CA"] as const) {
  describe(`a hostile token server, over ${path}`, () => {
    let server: Hostile;
    const tlsPath = path.startsWith("node:https");
    before(async () => {
      server = await startHostile(
        tlsPath ? { cert: pki.serverCertPem, key: pki.serverKeyPem } : undefined,
      );
    });
    after(() => server.close());

    const clientCredentials = (options: ClientOptions = {}) =>
      acquireTokenByClientCredentials(
        {
          clientId: "11111111-1111-1111-1111-111111111111",
          scopes: ["https://graph.microsoft.com/.default"],
          tenant: TENANT,
          authorityHost: server.url,
          clientSecret: SECRET,
          ...(tlsPath ? { caFile: pki.caFile } : {}),
        },
        { timeoutMs: 5_000, idleTimeoutMs: 2_000, maxResponseBytes: LIMIT, ...options },
      );

    /** A Partner Center client of this server, its token from a source that needs no sign-in. */
    const partnerCenter = (options: Partial<PartnerCenterClientOptions>) =>
      new PartnerCenterClient({
        endpoint: server.url,
        source: {
          getToken: async () =>
            ({
              accessToken: "pc-token",
              expiresOn: new Date(Date.now() + 3600_000).toISOString(),
            }) as never,
        } as never,
        ...(tlsPath ? { caFile: pki.caFile } : {}),
        ...options,
      });

    test("a declared 512 MB body: ERR_RESPONSE_TOO_LARGE before reading it", async () => {
      server.handle((_req, res) => {
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": String(512 * 1024 * 1024),
        });
        res.write("{");
      });
      const err = await failure(clientCredentials());
      assert.ok(err instanceof ResponseTooLargeError, `${err.code}: ${err.message}`);
      assert.equal(err.code, "ERR_RESPONSE_TOO_LARGE");
      assert.match(err.message, new RegExp(`${server.url}/${TENANT}/oauth2/v2.0/token`));
      assert.match(err.message, new RegExp(`${LIMIT} bytes`));
      assert.equal(err.exitCode, 1);
    });

    for (const debug of [false, true])
      test(`an endless fast body${debug ? " with debug logging" : ""}: ERR_RESPONSE_TOO_LARGE, reading stopped near the limit`, async () => {
        server.handle((_req, res) => {
          res.writeHead(200, { "content-type": "application/json" });
          pump(res, server.written);
        });
        const lines: string[] = [];
        const err = await failure(
          clientCredentials(debug ? { debug: (line) => lines.push(line) } : {}),
        );
        assert.equal(err.code, "ERR_RESPONSE_TOO_LARGE", err.message);
        // The client hung up: the server could write only the limit plus what socket buffers hold.
        await within(
          10_000,
          waitFor(() => server.written.closed),
        );
        assert.ok(
          server.written.bytes < 64 * 1024 * 1024,
          `the server wrote ${server.written.bytes} bytes before the client stopped reading`,
        );
        if (debug) {
          assert.ok(
            lines.some((line) => /ERR_RESPONSE_TOO_LARGE|larger than the limit/.test(line)),
          );
          assert.ok(lines.every((line) => line.length < 200_000));
          assert.ok(lines.every((line) => !line.includes(SECRET)));
        }
      });

    test("a body that drips one byte every 200 ms: ERR_TIMEOUT at the deadline, not a JSON error", async () => {
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write("{");
        const timer = setInterval(() => res.write(" "), 200);
        res.on("close", () => clearInterval(timer));
      });
      const started = Date.now();
      const err = await failure(clientCredentials({ timeoutMs: 1_500, idleTimeoutMs: 1_000 }));
      assert.ok(err instanceof TimeoutError, `${err.code}: ${err.message}`);
      assert.equal(err.code, "ERR_TIMEOUT");
      assert.match(err.message, /deadline of 1\.5 s/);
      assert.doesNotMatch(err.message, /JSON/);
      assert.equal(err.option, "timeoutMs");
      // One attempt: the drip kept the idle timer happy, the deadline ended it.
      assert.equal(lastOperation(server).length, 1);
      assert.ok(Date.now() - started < 15_000);
    });

    test("a server that never answers: ERR_TIMEOUT, every attempt within the one deadline", async () => {
      server.handle(() => {
        /* headers never come */
      });
      const err = await failure(clientCredentials({ timeoutMs: 2_500, idleTimeoutMs: 500 }));
      assert.equal(err.code, "ERR_TIMEOUT", err.message);
      assert.doesNotMatch(err.message, /JSON/);
      const attempts = lastOperation(server).length;
      assert.ok(attempts >= 1 && attempts <= 4, `${attempts}`);
    });

    test("a connection reset in the middle of the body: ERR_NETWORK naming the reset, not invalid JSON", async () => {
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('{"token_type":"Bearer","access_');
        // A TCP reset (RST) where the socket allows one; a TLS socket is cut off mid-record.
        setTimeout(() => (tlsPath ? res.socket?.destroy() : res.socket?.resetAndDestroy()), 20);
      });
      const err = await failure(clientCredentials({ timeoutMs: 20_000 }));
      assert.equal(err.code, "ERR_NETWORK", err.message);
      assert.match(err.message, /reset|closed|aborted|terminated/i);
      assert.match(err.message, /while reading the answer/);
      assert.doesNotMatch(err.message, /JSON/);
      assert.equal(lastOperation(server).length, 4, "the first attempt and three retries");
    });

    test("expires_in 1e300: ERR_INVALID_RESPONSE naming expires_in", async () => {
      server.handle((_req, res) => json(res, 200, tokenBody({ expires_in: 1e300 })));
      const err = await failure(clientCredentials());
      assert.equal(err.code, "ERR_INVALID_RESPONSE");
      assert.match(err.message, /expires_in/);
      assert.doesNotMatch(err.message, /Invalid time value/);
    });

    for (const [field, value] of [
      ["expires_in", -5],
      ["expires_in", "soon"],
      ["ext_expires_in", "soon"],
      ["ext_expires_in", 1e300],
      ["ext_expires_in", -1],
      ["ext_expires_in", { seconds: 1 }],
    ] as const)
      test(`${field} ${JSON.stringify(value)}: ERR_INVALID_RESPONSE naming ${field}`, async () => {
        server.handle((_req, res) => json(res, 200, tokenBody({ [field]: value })));
        const err = await failure(clientCredentials());
        assert.equal(err.code, "ERR_INVALID_RESPONSE", err.message);
        assert.match(err.message, new RegExp(`"?${field}"?`));
      });

    test("numeric strings for the lifetimes are still accepted", async () => {
      server.handle((_req, res) =>
        json(res, 200, tokenBody({ expires_in: "3599", ext_expires_in: "7200" })),
      );
      const result = await within(30_000, clientCredentials());
      const lifetime = Date.parse(result.extendedExpiresOn) - Date.parse(result.expiresOn);
      assert.ok(Math.abs(lifetime - 3601_000) < 5_000, `${lifetime}`);
    });

    test("429 with a Retry-After of 11 days: not slept on, and the hint says 11 days", async () => {
      server.handle((_req, res) =>
        json(
          res,
          429,
          {
            error: "temporarily_unavailable",
            error_description: "AADSTS50196: The server terminated an operation.",
            error_codes: [50196],
          },
          { "retry-after": String(11 * 86400) },
        ),
      );
      const err = await failure(clientCredentials(), 15_000);
      assert.equal(lastOperation(server).length, 1, "no retry in place");
      assert.equal(err.status, 429);
      assert.match(err.hint ?? "", /11 days/);
      assert.doesNotMatch(err.hint ?? "", /in a moment/);
    });

    test("429 with a Retry-After of 11 days and no OAuth body: ERR_HTTP_STATUS, the hint says 11 days", async () => {
      server.handle((_req, res) => {
        res.writeHead(429, { "retry-after": String(11 * 86400) });
        res.end();
      });
      const err = await failure(clientCredentials(), 15_000);
      assert.equal(err.code, "ERR_HTTP_STATUS");
      assert.equal(lastOperation(server).length, 1);
      assert.match(err.hint ?? "", /11 days/);
    });

    test("a discovery document that never ends: ERR_RESPONSE_TOO_LARGE", async () => {
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        pump(res, server.written);
      });
      const err = await failure(
        acquireTokenByClientCredentials(
          {
            clientId: "11111111-1111-1111-1111-111111111111",
            scopes: ["api://x/.default"],
            authority: server.url,
            clientSecret: SECRET,
            ...(tlsPath ? { caFile: pki.caFile } : {}),
          },
          { timeoutMs: 5_000, maxResponseBytes: LIMIT },
        ),
      );
      assert.equal(err.code, "ERR_RESPONSE_TOO_LARGE", err.message);
      assert.match(err.message, /openid-configuration/);
    });

    test("an id token whose key set never ends: ERR_RESPONSE_TOO_LARGE naming the keys URL", async () => {
      const tenant = "99999999-9999-9999-9999-999999999999";
      const clientId = "66666666-6666-6666-6666-666666666666";
      const now = Math.floor(Date.now() / 1000);
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
      const idToken = `${b64({ alg: "RS256", kid: "k1", typ: "JWT" })}.${b64({
        iss: `${server.url}/${tenant}/v2.0`,
        aud: clientId,
        sub: "s",
        tid: tenant,
        iat: now,
        exp: now + 3600,
      })}.${Buffer.from("sig").toString("base64url")}`;
      server.handle((req, res) => {
        if (req.url?.endsWith("/token")) return json(res, 200, tokenBody({ id_token: idToken }));
        res.writeHead(200, { "content-type": "application/json" });
        pump(res, server.written);
      });
      const err = await failure(
        acquireTokenByRefreshToken(
          {
            clientId,
            scopes: ["https://graph.microsoft.com/.default"],
            tenant,
            authorityHost: server.url,
            refreshToken: "rt",
            ...(tlsPath ? { caFile: pki.caFile } : {}),
          },
          { timeoutMs: 5_000, maxResponseBytes: LIMIT },
        ),
      );
      assert.equal(err.code, "ERR_RESPONSE_TOO_LARGE", err.message);
      assert.match(err.message, /discovery\/v2\.0\/keys/);
    });

    test("Partner Center: an endless body is ERR_RESPONSE_TOO_LARGE, a silent one ERR_TIMEOUT", async () => {
      const client = partnerCenter({
        maxResponseBytes: LIMIT,
        timeoutMs: 1_500,
        idleTimeoutMs: 1_000,
        retries: 0,
      });
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        pump(res, server.written);
      });
      const large = await failure(client.request({ path: "/v1/customers" }));
      assert.equal(large.code, "ERR_RESPONSE_TOO_LARGE", large.message);
      assert.match(large.message, /\/v1\/customers/);
      server.handle(() => {
        /* silence */
      });
      const silent = await failure(client.request({ path: "/v1/customers" }));
      assert.equal(silent.code, "ERR_TIMEOUT", silent.message);
    });

    test("Partner Center: a 200 that is not JSON is PartnerCenterError naming the path; a 502 page keeps its status", async () => {
      const client = partnerCenter({ retries: 0 });
      server.handle((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html>a proxy's page</html>");
      });
      const notJson = await failure(client.request({ path: "/v1/customers?size=1" }));
      assert.ok(notJson instanceof PartnerCenterError, String(notJson));
      assert.equal(notJson.code, "ERR_PARTNER_CENTER_200");
      assert.equal(
        notJson.message,
        "Partner Center answered /v1/customers with a body that is not JSON.",
      );
      server.handle((_req, res) => {
        res.writeHead(502, "Bad Gateway", { "content-type": "text/html" });
        res.end("<html>a proxy's page</html>");
      });
      const page = await failure(client.request({ path: "/v1/customers" }));
      assert.ok(page instanceof PartnerCenterError, String(page));
      assert.equal(page.code, "ERR_PARTNER_CENTER_502");
      assert.equal(
        page.message,
        "Partner Center answered /v1/customers with HTTP 502 Bad Gateway.",
      );
    });
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("a hostile device code server", () => {
  let server: Hostile;
  before(async () => {
    server = await startHostile(undefined);
  });
  after(() => server.close());

  const deviceCode = (device: Record<string, unknown>, pending = "authorization_pending") => {
    server.handle((req, res) => {
      if (req.url?.endsWith("/devicecode"))
        return json(res, 200, {
          device_code: "dc",
          user_code: "ABCD-EFGH",
          verification_uri: "https://microsoft.com/devicelogin",
          ...device,
        });
      json(res, 400, { error: pending, error_description: `AADSTS70016: ${pending}` });
    });
    return acquireTokenByDeviceCode(
      {
        clientId: "22222222-2222-2222-2222-222222222222",
        scopes: ["https://graph.microsoft.com/.default"],
        tenant: TENANT,
        authorityHost: server.url,
      },
      { log: () => {}, timeoutMs: 5_000 },
    );
  };
  const polls = () => server.seen.filter((s) => s.url.endsWith("/token")).length;

  test("interval 0.001: held to 1 s, so a 3 s code is polled a handful of times, then ERR_DEVICE_CODE_EXPIRED", async () => {
    const err = await failure(deviceCode({ interval: 0.001, expires_in: 3 }));
    assert.equal(err.code, "ERR_DEVICE_CODE_EXPIRED", err.message);
    assert.ok(polls() >= 1 && polls() <= 4, `${polls()} polls`);
  });

  test("interval 100000 with expires_in 2: no sleep past the expiry, ERR_DEVICE_CODE_EXPIRED within seconds", async () => {
    const err = await failure(deviceCode({ interval: 100_000, expires_in: 2 }), 20_000);
    assert.equal(err.code, "ERR_DEVICE_CODE_EXPIRED", err.message);
    assert.ok(polls() <= 1, `${polls()} polls`);
  });

  test("no interval: RFC 8628's 5 s between polls, and a 6 s code is polled at most 3 times", async () => {
    const err = await failure(deviceCode({ expires_in: 6 }), 30_000);
    assert.equal(err.code, "ERR_DEVICE_CODE_EXPIRED", err.message);
    const times = server.seen.map((s) => s.at);
    assert.ok(polls() >= 2 && polls() <= 3, `${polls()} polls`);
    // The first poll waited the 5 s default (the device code request came first).
    assert.ok(times[1]! - times[0]! >= 4_900, `first poll after ${times[1]! - times[0]!} ms`);
  });

  test("slow_down adds 5 s: with interval 1 and a 4 s code, the second poll waits for the expiry", async () => {
    const err = await failure(deviceCode({ interval: 1, expires_in: 4 }, "slow_down"), 30_000);
    assert.equal(err.code, "ERR_DEVICE_CODE_EXPIRED", err.message);
    const times = server.seen.map((s) => s.at);
    assert.ok(polls() >= 2 && polls() <= 3, `${polls()} polls`);
    // Without slow_down the second poll would come 1 s after the first; with it, 6 s later,
    // held to the code's expiry (3 s after the first poll).
    assert.ok(times[2]! - times[1]! >= 2_500, `second poll after ${times[2]! - times[1]!} ms`);
  });
});

describe("plain http is decided per request URL", () => {
  let issuer: Hostile;
  let elsewhere: Hostile;
  let elsewhereUrl: string;
  before(async () => {
    issuer = await startHostile(undefined);
    // An address of this machine that is not loopback, when it has one: a request there would
    // reach the server below, so its silence proves nothing was sent.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    elsewhere = await startHostile(undefined, lan ?? "127.0.0.1");
    const port = new URL(elsewhere.url).port;
    elsewhereUrl = `http://${lan ?? "attacker.invalid"}:${port}`;
  });
  after(async () => {
    await issuer.close();
    await elsewhere.close();
  });

  test("an http issuer on 127.0.0.1 naming a plain-http token endpoint elsewhere: refused, no secret sent", async () => {
    issuer.handle((req, res) =>
      json(res, 200, {
        issuer: issuer.url,
        authorization_endpoint: `${issuer.url}/authorize`,
        token_endpoint: `${elsewhereUrl}/token`,
        jwks_uri: `${issuer.url}/keys`,
      }),
    );
    elsewhere.handle((_req, res) => json(res, 200, tokenBody()));
    const err = await failure(
      acquireTokenByClientCredentials(
        {
          clientId: "33333333-3333-3333-3333-333333333333",
          scopes: ["api://x/.default"],
          authority: issuer.url,
          clientSecret: SECRET,
        },
        { timeoutMs: 5_000 },
      ),
    );
    assert.equal(err.code, "ERR_INSECURE_ENDPOINT", err.message);
    assert.match(err.message, /token/);
    assert.match(err.message, /Nothing was sent/);
    assert.ok(!err.message.includes(SECRET));
    assert.deepEqual(
      issuer.seen.map((s) => s.method),
      ["GET"],
    );
    assert.equal(elsewhere.seen.length, 0);
    assert.ok(issuer.seen.every((s) => !s.body.includes(SECRET)));
  });

  test("the same issuer naming a loopback token endpoint is still served", async () => {
    issuer.handle((req, res) => {
      if (req.url?.includes("openid-configuration"))
        return json(res, 200, {
          issuer: issuer.url,
          token_endpoint: `${issuer.url}/token`,
          jwks_uri: `${issuer.url}/keys`,
        });
      json(res, 200, tokenBody());
    });
    const result = await within(
      30_000,
      acquireTokenByClientCredentials(
        {
          clientId: "33333333-3333-3333-3333-333333333333",
          scopes: ["api://x/.default"],
          authority: issuer.url,
          clientSecret: SECRET,
        },
        { timeoutMs: 5_000 },
      ),
    );
    assert.equal(result.tokenType, "Bearer");
    assert.ok(issuer.seen.some((s) => s.method === "POST" && s.url === "/token"));
  });
});

describe("memory stays bounded with the default limit", () => {
  let server: Hostile;
  before(async () => {
    server = await startHostile(undefined);
  });
  after(() => server.close());

  test("a process with a 64 MB heap reading an endless body ends with ERR_RESPONSE_TOO_LARGE, its peak memory bounded", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      pump(res, server.written);
    });
    const index = new URL("../../src/index.ts", import.meta.url).href;
    // Default limits, and --debug logging on (it read the whole body before).
    const script = `
      const { acquireTokenByClientCredentials } = await import(${JSON.stringify(index)});
      try {
        await acquireTokenByClientCredentials(
          { clientId: "55555555-5555-5555-5555-555555555555", scopes: ["https://graph.microsoft.com/.default"],
            tenant: "${TENANT}", authorityHost: process.env.HOSTILE_URL, clientSecret: process.env.HOSTILE_SECRET },
          { debug: () => {} },
        );
        console.log("resolved");
      } catch (err) {
        console.log(err.code);
      }
      // Peak memory of the whole process (buffers live outside the JS heap): kilobytes.
      console.log(process.resourceUsage().maxRSS);`;
    const child = spawn(
      process.execPath,
      ["--max-old-space-size=64", "--input-type=module", "-e", script],
      {
        env: { ...process.env, HOSTILE_URL: server.url, HOSTILE_SECRET: SECRET },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const [code, signal] = await within(
      60_000,
      new Promise<[number | null, string | null]>((resolve) =>
        child.on("exit", (c, s) => resolve([c, s])),
      ),
    ).finally(() => child.kill("SIGKILL"));
    const [outcome, maxRssKb] = stdout.trim().split("\n");
    assert.equal(
      outcome,
      "ERR_RESPONSE_TOO_LARGE",
      `exit ${code} ${signal}: ${stderr.slice(-2000)}`,
    );
    assert.equal(code, 0);
    // Node itself takes 50–100 MB; reading the whole of an endless body would take gigabytes.
    assert.ok(Number(maxRssKb) < 400 * 1024, `peak RSS ${maxRssKb} kB`);
    assert.ok(server.written.bytes < 64 * 1024 * 1024, `${server.written.bytes} bytes written`);
  });
});

describe("the bulk customer job and a Retry-After of 11 days", () => {
  test("each tenant is given up with a hint naming 11 days, and the job does not wait for them", async () => {
    const asked: string[] = [];
    const source = {
      getToken: async (request: { tenant?: string }) => {
        asked.push(request.tenant ?? "");
        throw new ServerError("ERR_HTTP_STATUS", "The server answered HTTP 429.", {
          status: 429,
          response: new Response(null, {
            status: 429,
            headers: { "retry-after": String(11 * 86400) },
          }),
          hint: retryAfterHint(
            new Response(null, { status: 429, headers: { "retry-after": String(11 * 86400) } }),
          ),
        });
      },
    } as never;
    const results = [];
    for await (const result of customerTokens(source, {
      scopes: ["https://graph.microsoft.com/.default"],
      customers: ["t1", "t2", "t3"],
      concurrency: 1,
      maxRetryAfterMs: 500,
    }))
      results.push(result);
    assert.deepEqual(asked, ["t1", "t2", "t3"], "one request per tenant, none retried");
    assert.equal(results.length, 3);
    for (const result of results) {
      assert.equal(result.status, "error");
      if (result.status === "error") assert.match(result.error.hint, /11 days/);
    }
  });
});

describe("the limits themselves", () => {
  test("a timeout that is not a number of milliseconds is a usage error naming the option", async () => {
    for (const timeoutMs of [0, -1, Number.NaN, 1e12]) {
      const err = await failure(
        acquireTokenByClientCredentials(
          {
            clientId: "44444444-4444-4444-4444-444444444444",
            scopes: ["https://graph.microsoft.com/.default"],
            tenant: TENANT,
            authorityHost: "http://127.0.0.1:9",
            clientSecret: SECRET,
          },
          { timeoutMs },
        ),
      );
      assert.equal(err.code, "ERR_INVALID_ARGUMENT");
      assert.equal(err.exitCode, 2);
      assert.match(err.message, /timeoutMs/);
    }
  });
});
