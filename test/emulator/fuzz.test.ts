/**
 * Hostile input, as an attacker on the same machine would send it: thousands of random and
 * malformed requests against every endpoint of a real `partner-token emulator` process, run with a
 * small heap, over loopback. The process must stay up, answer nothing 5xx except the faults the
 * test injected itself, answer every error in its service's shape, and keep its memory bounded.
 * The random sequence is seeded; a failure prints the seed so that it can be replayed
 * (FUZZ_SEED=…).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { checkServerIdentity, connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const COUNT = 4000;
const TIME_LIMIT_MS = 40_000;
const CONCURRENCY = 8;
const HEAP_MB = 96;
const SEED = Number(process.env["FUZZ_SEED"] ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
let state = SEED;
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (p: number) => random() < p;

interface Info {
  url: string;
  caFile: string;
  partnerTenant: { id: string };
  customers: { id: string }[];
  apps: {
    confidential: { clientId: string; clientSecret: string };
    certificate: { clientId: string; thumbprint: string };
    public: { clientId: string };
  };
  user: { username: string; password: string };
}

let child: ChildProcess;
let stderr = "";
let info: Info;
let ca: string;
let agent: Agent;
const exited: { code: number | null; signal: string | null }[] = [];

before(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "emu-fuzz-"));
  child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_MB}`,
      main,
      "emulator",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--auto-approve",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  child.on("exit", (code, signal) => exited.push({ code, signal }));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", () => reject(new Error(`the emulator ended: ${stderr}`)));
  });
  info = JSON.parse(line) as Info;
  ca = await readFile(info.caFile, "utf8");
  agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
});

after(() => {
  agent?.destroy();
  child?.kill("SIGTERM");
});

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface Res {
  status: number;
  type: string;
  text: string;
}

function send(r: Req): Promise<Res> {
  const url = new URL(info.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        // Node sends a GET's body without a length (the server then reads it as the next
        // request); the length keeps each request one request.
        headers:
          r.body === undefined
            ? r.headers
            : { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
        agent,
        ca,
        // A Host header names another service; the certificate is still checked, for 127.0.0.1.
        checkServerIdentity: (_host, cert) => checkServerIdentity("127.0.0.1", cert),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}

/** Bytes Node's HTTP client would refuse to send: written straight to a TLS socket. */
function sendRaw(bytes: string): Promise<string> {
  const url = new URL(info.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca }, () =>
      socket.end(bytes),
    );
    let out = "";
    socket.on("data", (c: Buffer) => (out += c.toString("utf8")));
    socket.on("close", () => resolve(out));
    socket.on("error", (e: NodeJS.ErrnoException) =>
      e.code === "ECONNRESET" ? resolve(out) : reject(e),
    );
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

// ---- hostile values ----

const strings = [
  "",
  " ",
  "%",
  "%zz",
  "%E0%A4%A",
  "..",
  "../../etc/passwd",
  "a".repeat(5000),
  "\u202e\ud83d\ude00",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "0",
  "-1",
  "1e309",
  "NaN",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "https://evil.example/",
  "http://localhost:8400/",
  "openid offline_access",
  "https://graph.microsoft.com/.default",
  "https://graph.microsoft.com//.default",
  "https://api.partnercenter.microsoft.com/user_impersonation",
  "a/b/c:d/e",
  "00000000-0000-0000-0000-000000000000",
];
const jsonValues: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -1e308,
  2 ** 53,
  "x",
  "",
  [],
  {},
  [1, "a", null],
  { a: { b: [] } },
  "RS256",
  "PS256",
  "none",
  "HS256",
];
const tenants = () => [
  info.partnerTenant.id,
  "organizations",
  "common",
  "consumers",
  "fabrikam.onmicrosoft.com",
  "tailspin.onmicrosoft.com",
  "nope.example",
  "%2e%2e",
  "x".repeat(300),
  "00000000-0000-0000-0000-000000000000",
];
const clientIds = () => [
  info.apps.confidential.clientId,
  info.apps.certificate.clientId,
  info.apps.public.clientId,
  "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
  "1950a258-227b-4e31-a9cf-717495945fc2",
  "not-a-guid",
  "",
];
const grantTypes = [
  "client_credentials",
  "authorization_code",
  "refresh_token",
  "password",
  "device_code",
  "urn:ietf:params:oauth:grant-type:device_code",
  "urn:ietf:params:oauth:grant-type:jwt-bearer",
  "implicit",
  "",
  // Names every object has: a lookup by client-chosen key must not find Object's own.
  "constructor",
  "__proto__",
  "toString",
];

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const str = () => pick(strings);

function randomObject(keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (chance(0.6)) out[k] = chance(0.3) ? str() : pick(jsonValues);
  return out;
}

const assertionHeaderFields = ["alg", "typ", "kid", "x5t", "x5t#S256", "x5c"];
const assertionClaims = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];
/** Values of the wrong JSON type for a JWT field: String() of the first two throws. */
const wrongTypes: unknown[] = [
  { toString: 1 },
  { toString: null, valueOf: {} },
  {},
  [],
  [{}],
  [1, 2],
  1e300,
  -1e300,
  "1700000000",
  true,
  null,
  0.5,
];

/** A JWT-looking string whose header and claims hold values of every type. */
function hostileJwt(): string {
  const thumb = Buffer.from(info.apps.certificate.thumbprint, "hex");
  const header = randomObject(["alg", "x5t", "x5t#S256", "x5c", "kid", "typ"]);
  if (chance(0.4)) header["alg"] = pick(["RS256", "PS256"]);
  if (chance(0.3))
    header["x5t"] = pick([
      thumb.toString("base64url"),
      thumb.toString("base64"),
      info.apps.certificate.thumbprint,
    ]);
  const payload = randomObject(["iss", "sub", "aud", "exp", "nbf", "iat", "tid", "upn", "jti"]);
  if (chance(0.4)) payload["iss"] = payload["sub"] = info.apps.certificate.clientId;
  if (chance(0.3)) payload["exp"] = Math.floor(Date.now() / 1000) + 600;
  // A field of the wrong JSON type, including objects that break String() and Date.
  if (chance(0.3)) header[pick(assertionHeaderFields)] = pick(wrongTypes);
  if (chance(0.3)) payload[pick(assertionClaims)] = pick(wrongTypes);
  const signature = Buffer.from(
    Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)),
  ).toString("base64url");
  const parts = [b64(header), b64(payload), signature];
  if (chance(0.1)) return pick(["", ".", "..", "a.b", "a.b.c.d", `${parts[0]}.!!!.???`]);
  return parts.join(".");
}

function form(fields: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields))
    params.append(k, typeof v === "string" ? v : JSON.stringify(v));
  return params.toString();
}

/** A request to a random endpoint with random, often hostile, parameters. */
function randomRequest(tokens: Record<string, string>): Req {
  const t = pick(tenants());
  const headers: Record<string, string> = {};
  if (chance(0.1))
    headers["host"] = pick([
      "login.microsoftonline.com",
      "login.windows.net",
      "sts.windows.net",
      "login.microsoftonline.us",
      "api.partnercenter.microsoft.com",
      "management.azure.com",
      "graph.microsoft.com",
      "contoso.vault.azure.net",
      "outlook.office365.com",
      "unknown.example",
      "constructor",
      "__proto__",
    ]);
  if (chance(0.1)) headers["client-request-id"] = pick(["x".repeat(100), "a b", "ok-1"]);
  if (chance(0.05)) headers["cookie"] = `ESTSAUTH=${pick(["", "x", "a".repeat(500)])}`;
  const bearer = () =>
    pick([
      `Bearer ${hostileJwt()}`,
      `Bearer ${tokens["graph"]}`,
      `Bearer ${tokens["pc"]}`,
      `Bearer ${tokens["arm"]}`,
      `Bearer ${tokens["vault"]}`,
      "Bearer",
      "Basic abc",
      "",
    ]);
  const post = (path: string, fields: Record<string, unknown>): Req => {
    if (chance(0.1))
      return {
        method: "POST",
        path,
        headers: { ...headers, "content-type": "application/json" },
        body: chance(0.5) ? JSON.stringify(fields) : pick(["{", "[]", "null", '"x"', "1e999"]),
      };
    if (chance(0.1))
      headers["authorization"] = `Basic ${Buffer.from(`${str()}:${str()}`).toString("base64")}`;
    return {
      method: "POST",
      path,
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: form(fields),
    };
  };
  const kind = Math.floor(random() * 16);
  switch (kind) {
    case 0:
      return {
        method: pick(["GET", "GET", "POST", "HEAD"]),
        path: pick([
          `/${t}/v2.0/.well-known/openid-configuration`,
          `/${t}/.well-known/openid-configuration`,
          `/${t}/discovery/v2.0/keys`,
          `/${t}/discovery/keys`,
          `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(str())}`,
          `/common/userrealm/${encodeURIComponent(str())}?api-version=${encodeURIComponent(str())}`,
          `/common/userrealm/${info.user.username}?api-version=1.0`,
        ]),
        headers,
      };
    case 1: {
      const q = new URLSearchParams();
      for (const k of [
        "client_id",
        "redirect_uri",
        "response_type",
        "response_mode",
        "scope",
        "prompt",
        "login_hint",
        "code_challenge",
        "code_challenge_method",
        "state",
      ])
        if (chance(0.6)) q.set(k, chance(0.5) ? str() : "");
      if (chance(0.5)) q.set("client_id", pick(clientIds()));
      if (chance(0.5)) q.set("redirect_uri", "http://localhost:8400/");
      if (chance(0.5)) q.set("response_type", "code");
      return { method: pick(["GET", "POST"]), path: `/${t}/oauth2/v2.0/authorize?${q}`, headers };
    }
    case 2:
    case 3:
    case 4: {
      const fields: Record<string, unknown> = randomObject([
        "scope",
        "code",
        "refresh_token",
        "device_code",
        "username",
        "password",
        "redirect_uri",
        "code_verifier",
        "resource",
        "client_info",
      ]);
      fields["grant_type"] = pick(grantTypes);
      if (chance(0.8)) fields["client_id"] = pick(clientIds());
      if (chance(0.3)) fields["client_secret"] = pick([info.apps.confidential.clientSecret, str()]);
      if (chance(0.3)) {
        fields["client_assertion"] = hostileJwt();
        fields["client_assertion_type"] = pick([
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
          str(),
        ]);
      }
      if (chance(0.3)) fields["scope"] = pick(strings.slice(-6));
      return post(pick([`/${t}/oauth2/v2.0/token`, `/${t}/oauth2/token`]), fields);
    }
    case 5:
      return post(pick([`/${t}/oauth2/v2.0/devicecode`, `/${t}/oauth2/devicecode`]), {
        client_id: pick(clientIds()),
        ...randomObject(["scope", "resource"]),
      });
    case 6:
      return post(pick([`/${t}/login`, `/${t}/login/mfa`, "/devicelogin"]), {
        ...randomObject(["flow", "username", "password", "otc", "decision", "user_code"]),
      });
    case 7:
      return {
        method: pick(["GET", "POST"]),
        path: pick([
          "/generatetoken",
          `/v1/customers?size=${encodeURIComponent(pick([...strings, "1", "500", "501"]))}`,
          "/v1/profiles/organization",
        ]),
        headers: {
          ...headers,
          authorization: bearer(),
          ...(chance(0.3) ? { "ms-continuationtoken": pick(["x", "LTE", "OTk5OTk5OTk5"]) } : {}),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: chance(0.5) ? "grant_type=jwt_token" : form(randomObject(["grant_type"])),
      };
    case 8:
      return {
        method: pick(["GET", "GET", "POST"]),
        path: pick([
          `/tenants?api-version=${encodeURIComponent(str())}`,
          "/tenants?api-version=2022-12-01",
          "/subscriptions?api-version=2022-12-01",
          "/subscriptions",
          "/tenants/x",
        ]),
        headers: { ...headers, authorization: bearer() },
      };
    case 9:
      return control();
    case 10:
      return {
        method: pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        path: `/${Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
          encodeURIComponent(str()),
        ).join("/")}`,
        headers,
      };
    case 13: {
      // Key Vault's secrets API, at the emulator's own origin or under a vault's host name.
      const name = pick([
        ...["demo", "x".repeat(200), "%", "a b", ""].map(encodeURIComponent),
        // Not validly percent-encoded, as only a hand-made request sends it.
        "%zz",
        "%E0%A4%A",
      ]);
      const req = pick<Req>([
        { method: "GET", path: `/secrets?api-version=${encodeURIComponent(str())}`, headers },
        { method: "GET", path: `/secrets/${name}?api-version=7.4`, headers },
        {
          method: "GET",
          path: `/secrets/${name}/${encodeURIComponent(str())}?api-version=7.4`,
          headers,
        },
        {
          method: "PUT",
          path: `/secrets/${name}?api-version=7.4`,
          headers,
          body: pick(["{", "[]", JSON.stringify({ value: pick(jsonValues) })]),
        },
        { method: "DELETE", path: `/secrets/${name}?api-version=7.4`, headers },
        { method: "POST", path: `/deletedsecrets/${name}/recover?api-version=7.4`, headers },
        { method: "PATCH", path: `/secrets/${name}/x/y/z?api-version=7.4`, headers },
      ]);
      req.headers = {
        ...req.headers,
        ...(chance(0.7) ? { authorization: bearer() } : {}),
        ...(req.body !== undefined ? { "content-type": "application/json" } : {}),
      };
      return req;
    }
    case 14: {
      // Microsoft Graph: its paths, OData options and bodies, well and badly formed.
      const path =
        pick([
          "/v1.0/servicePrincipals",
          "/v1.0/oauth2PermissionGrants",
          "/v1.0/tenantRelationships/delegatedAdminRelationships",
          "/v1.0/tenantRelationships/delegatedAdminCustomers",
          "/beta/organization",
          "/v1.0/me",
          "/v1.0/me/transitiveMemberOf",
          "/v1.0/users",
          "/v1.0/groups",
          "/v1.0/servicePrincipals(appId='x')",
        ]) +
        pick(["", "", "/x", `/${encodeURIComponent(str())}`, "/%zz", "/accessAssignments"]) +
        pick([
          "",
          `?$top=${encodeURIComponent(str())}`,
          `?$filter=${encodeURIComponent(str())}`,
          `?$select=${encodeURIComponent(str())}`,
          `?$skiptoken=${encodeURIComponent(str())}`,
          "?$filter=appId%20eq%20'x'%20and",
          "?$filter=status%20eq%20'active'&$top=300&$skiptoken=c2tpcDo5OTk5OTk5OTk",
          "?$orderby=x&$expand=y",
        ]);
      return {
        method: pick(["GET", "GET", "POST", "PATCH", "DELETE"]),
        path,
        headers: { ...headers, authorization: bearer(), "content-type": "application/json" },
        body: pick([
          "{",
          "[]",
          "null",
          JSON.stringify(
            randomObject([
              "appId",
              "clientId",
              "resourceId",
              "scope",
              "consentType",
              "principalId",
            ]),
          ),
          JSON.stringify({ appId: pick(jsonValues) }),
        ]),
      };
    }
    case 15: {
      // Partner Center's application consents.
      const customer = pick([...info.customers.map((c) => c.id), encodeURIComponent(str())]);
      return {
        method: pick(["POST", "POST", "DELETE"]),
        path: pick([
          `/v1/customers/${customer}/applicationconsents`,
          `/v1/customers/${customer}/applicationconsents/${encodeURIComponent(str())}`,
          `/v1/customers/${customer}/applicationconsents/${info.apps.confidential.clientId}`,
        ]),
        headers: { ...headers, authorization: bearer(), "content-type": "application/json" },
        body: pick([
          "{",
          JSON.stringify(
            randomObject([
              "applicationId",
              "ApplicationGrants",
              "applicationGrants",
              "displayName",
            ]),
          ),
          JSON.stringify({
            applicationId: info.apps.confidential.clientId,
            applicationGrants: [
              {
                enterpriseApplicationId: "00000003-0000-0000-c000-000000000000",
                scope: pick([str(), "User.Read", "User.Read,,"]),
              },
            ],
          }),
        ]),
      };
    }
    case 11:
      return {
        method: pick(["GET", "POST"]),
        path: pick(["/devicelogin", "/fuzz-fault", "/fuzz-fault/x"]),
        headers,
      };
    default:
      return {
        method: pick(["PUT", "DELETE", "PATCH", "OPTIONS"]),
        path: pick([`/${t}/oauth2/v2.0/token`, "/generatetoken", "/v1/customers", "/tenants"]),
        headers,
      };
  }
}

/** Control API calls with values in and out of range (5xx faults only under /fuzz-fault). */
function control(): Req {
  const json = (path: string, value: unknown): Req => ({
    method: "POST",
    path,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  });
  switch (Math.floor(random() * 8)) {
    case 0:
      return json("/_emulator/clock", {
        advanceSeconds: pick([...jsonValues, 60, 3600, 1e13, 8.64e12]),
      });
    case 1:
      return json("/_emulator/faults", {
        path: pick(["/fuzz-fault", "/fuzz-fault/x", 5, ""]),
        status: pick([...jsonValues, 0, 99, 101, 204, 304, 500, 503, 600, 1e9]),
        ...(chance(0.3) ? { retryAfter: pick(jsonValues) } : {}),
      });
    case 2:
      return json("/_emulator/faults", {
        path: pick(["/", `/${info.partnerTenant.id}/oauth2/v2.0/token`, "/v1/", "/tenants"]),
        status: pick([400, 401, 429]),
        count: pick([1, 2, 0, -1, 1e9, "x"]),
      });
    case 3:
      return json(
        pick(["/_emulator/revoke", "/_emulator/users", "/_emulator/device-codes/approve"]),
        randomObject(["username", "refreshToken", "all", "userCode", "deny", "mfaRequired"]),
      );
    case 4:
      return {
        method: "GET",
        path: `/_emulator/requests?after=${encodeURIComponent(str())}&limit=${encodeURIComponent(pick([...strings, "5", "10000"]))}`,
        headers: {},
      };
    case 5:
      return { method: pick(["GET", "DELETE", "PUT"]), path: "/_emulator/requests", headers: {} };
    case 6:
      return {
        method: "POST",
        path: pick(["/_emulator/clock", "/_emulator/faults", "/_emulator/nope"]),
        headers: { "content-type": "application/json" },
        body: pick(["{", "[]", "null", "1", '"x"', "{}"]),
      };
    default:
      return { method: "GET", path: pick(["/_emulator/info", "/_emulator/stats"]), headers: {} };
  }
}

const RAW = [
  "GET //evil HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET http://login.microsoftonline.com/common/discovery/instance HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /%zz%00 HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "BREW /coffee HTCPCP/1.0\r\n\r\n",
  "\x00\x01\x02\r\n\r\n",
  `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
  "GET /\u00ff HTTP/1.1\r\nHost: x\r\n\r\n",
];

type Shape = "entra" | "partnerCenter" | "azure" | "control";

/** The service a request is for, decided here from the documented host names and paths. */
function expectedShape(host: string | undefined, path: string): Shape {
  if (path.startsWith("/_emulator/")) return "control";
  const h = host?.toLowerCase();
  if (h && /^(login\.|sts\.windows\.net)/.test(h)) return "entra";
  if (h === "api.partnercenter.microsoft.com") return "partnerCenter";
  if (h && /(management\.azure\.com|graph\.microsoft\.com|vault\.azure\.net|outlook\.)/.test(h))
    return "azure";
  if (path === "/generatetoken" || path.startsWith("/v1/")) return "partnerCenter";
  if (/^\/(v1\.0|beta)(\/|\?|$)/.test(path)) return "azure";
  if (/^\/(tenants|subscriptions|secrets|deletedsecrets)(\/|\?|$)/.test(path)) return "azure";
  return "entra";
}

/** Why an error answer is not in its service's shape; undefined when it is. */
function shapeProblem(shape: Shape, path: string, res: Res): string | undefined {
  if (res.type.startsWith("text/html"))
    return shape === "entra" && /\/(authorize|login|login\/mfa|devicelogin)(\?|$)/.test(path)
      ? undefined
      : "an HTML error page outside the sign-in pages";
  let body: any;
  try {
    body = JSON.parse(res.text);
  } catch {
    return "an error body that is not JSON";
  }
  switch (shape) {
    case "entra":
      return typeof body.error === "string" &&
        Array.isArray(body.error_codes) &&
        typeof body.trace_id === "string" &&
        typeof body.correlation_id === "string" &&
        /^AADSTS\d+: /.test(String(body.error_description))
        ? undefined
        : "not Entra's error shape";
    case "partnerCenter":
      return typeof body.code === "number" && typeof body.description === "string"
        ? undefined
        : "not Partner Center's error shape";
    case "azure":
      return typeof body.error?.code === "string" && typeof body.error?.message === "string"
        ? undefined
        : "not Azure's error shape";
    case "control":
      return typeof body.error === "string" && typeof body.message === "string"
        ? undefined
        : "not the control API's error shape";
  }
}

async function realTokens(): Promise<Record<string, string>> {
  const token = async (tenant: string, fields: Record<string, string>) => {
    const res = await send({
      method: "POST",
      path: `/${tenant}/oauth2/v2.0/token`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    assert.equal(res.status, 200, res.text);
    return String(JSON.parse(res.text).access_token);
  };
  const user = (scope: string) =>
    token("organizations", {
      client_id: info.apps.public.clientId,
      grant_type: "password",
      username: info.user.username,
      password: info.user.password,
      scope,
    });
  return {
    graph: await token(info.partnerTenant.id, {
      client_id: info.apps.confidential.clientId,
      client_secret: info.apps.confidential.clientSecret,
      grant_type: "client_credentials",
      scope: "https://graph.microsoft.com/.default",
    }),
    pc: await user("https://api.partnercenter.microsoft.com/user_impersonation"),
    arm: await user("https://management.core.windows.net//user_impersonation"),
    vault: await token(info.partnerTenant.id, {
      client_id: info.apps.confidential.clientId,
      client_secret: info.apps.confidential.clientSecret,
      grant_type: "client_credentials",
      scope: "https://vault.azure.net/.default",
    }),
  };
}

test("a client assertion with a field of the wrong JSON type is answered 400/401 in Entra's shape, never 500", async () => {
  const clientId = info.apps.certificate.clientId;
  const thumb = Buffer.from(info.apps.certificate.thumbprint, "hex").toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const validHeader = { alg: "RS256", typ: "JWT", x5t: thumb };
  const validPayload = {
    iss: clientId,
    sub: clientId,
    aud: `${info.url}/${info.partnerTenant.id}/oauth2/v2.0/token`,
    exp: now + 600,
    nbf: now - 60,
    jti: "j",
  };
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [];
  for (const name of assertionHeaderFields)
    for (const value of wrongTypes)
      cases.push([
        `header ${name}=${JSON.stringify(value)}`,
        { ...validHeader, [name]: value },
        validPayload,
      ]);
  for (const name of assertionClaims)
    for (const value of wrongTypes)
      cases.push([
        `claim ${name}=${JSON.stringify(value)}`,
        validHeader,
        { ...validPayload, [name]: value },
      ]);
  cases.push(["header as an array", [validHeader] as never, validPayload]);
  cases.push(["payload as an array", validHeader, [validPayload] as never]);
  const problems: string[] = [];
  for (const [what, header, payload] of cases) {
    const res = await send({
      method: "POST",
      path: `/${info.partnerTenant.id}/oauth2/v2.0/token`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: clientId,
        grant_type: "client_credentials",
        scope: "https://graph.microsoft.com/.default",
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: `${b64(header)}.${b64(payload)}.${Buffer.from("sig").toString("base64url")}`,
      }).toString(),
    });
    if (res.status !== 400 && res.status !== 401) {
      problems.push(`${what}: ${res.status} ${res.text.slice(0, 200)}`);
      continue;
    }
    const problem = shapeProblem("entra", "/token", res);
    if (problem) problems.push(`${what}: ${problem}`);
    else if (!/^AADSTS\d+/.test(JSON.parse(res.text).error_description))
      problems.push(`${what}: no AADSTS code: ${res.text.slice(0, 200)}`);
  }
  assert.deepEqual(problems, []);
  assert.ok(cases.length > 100);
  assert.doesNotMatch(stderr, /internal error/);
});

test(`fuzz: up to ${COUNT} hostile requests in ${TIME_LIMIT_MS / 1000} s, the emulator stays up and answers in shape (seed ${SEED})`, async () => {
  const tokens = await realTokens();
  const problems: string[] = [];
  const statuses = new Map<number, number>();
  const deadline = Date.now() + TIME_LIMIT_MS;
  let sent = 0;
  const worker = async () => {
    while (sent < COUNT && Date.now() < deadline && exited.length === 0) {
      sent++;
      if (chance(0.03)) {
        const raw = pick(RAW);
        const out = await sendRaw(raw);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const body = out.slice(out.indexOf("\r\n\r\n") + 4);
        if (status < 400 || status >= 500)
          problems.push(`raw ${JSON.stringify(raw.slice(0, 60))}: status ${status}`);
        else if (!body.includes('"error_codes"'))
          problems.push(
            `raw ${JSON.stringify(raw.slice(0, 60))}: not Entra's shape: ${body.slice(0, 200)}`,
          );
        continue;
      }
      const r = randomRequest(tokens);
      const res = await send(r);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const where = `${r.method} ${r.path.slice(0, 120)} (host ${r.headers["host"] ?? "-"})`;
      if (res.status >= 500 && !r.path.startsWith("/fuzz-fault"))
        problems.push(`${where}: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 400 && r.method !== "HEAD") {
        const problem = shapeProblem(expectedShape(r.headers["host"], r.path), r.path, res);
        if (problem) problems.push(`${where}: ${res.status} ${problem}: ${res.text.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));

  assert.deepEqual(
    exited,
    [],
    `the emulator ended (seed ${SEED}); stderr:\n${stderr.slice(-2000)}`,
  );
  assert.deepEqual(problems.slice(0, 20), [], `seed ${SEED}: ${problems.length} problems`);
  assert.doesNotMatch(stderr, /internal error/, `seed ${SEED}`);
  // Thousands on an idle machine; the floor still means a real run on a loaded one.
  assert.ok(sent >= 500, `only ${sent} requests were sent in the time allowed`);

  // Still serving, and bounded: the log within its byte budget, the stores within their limits.
  await send({ method: "DELETE", path: "/_emulator/faults", headers: {} });
  const stats = JSON.parse(
    (await send({ method: "GET", path: "/_emulator/stats", headers: {} })).text,
  );
  assert.ok(stats.requestLog.bytes <= 16 * 1024 * 1024, JSON.stringify(stats));
  assert.ok(stats.heapUsedBytes < HEAP_MB * 1024 * 1024, JSON.stringify(stats));
  assert.ok(stats.store.flows <= 10_000 && stats.store.codes <= 20_000, JSON.stringify(stats));
  const page = JSON.parse(
    (await send({ method: "GET", path: "/_emulator/requests?limit=5", headers: {} })).text,
  );
  assert.equal(page.requests.length, 5);
  assert.equal(typeof page.next, "number");
  const discovery = await send({
    method: "GET",
    path: `/${info.partnerTenant.id}/v2.0/.well-known/openid-configuration`,
    headers: {},
  });
  assert.equal(discovery.status, 200);
  process.stderr.write(
    `fuzz: ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, heap ${Math.round(stats.heapUsedBytes / 1048576)} MB\n`,
  );
});
