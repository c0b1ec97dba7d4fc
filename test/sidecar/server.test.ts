/**
 * The managed-identity endpoint over real HTTP, with tokens from a partner's refresh token
 * against the emulator: the protocol's answer, tenants by flag and by path, the header secret,
 * the loopback-only bind, errors shaped for the SDKs, and @azure/identity unmodified.
 */
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { ServerError, SignInRequiredError } from "../../src/client/errors.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { childEnvironment } from "../../src/sidecar/environment.ts";
import { runChild } from "../../src/sidecar/exec.ts";
import {
  parseRequest,
  scopeForResource,
  startSidecar,
  type RunningSidecar,
} from "../../src/sidecar/server.ts";
import type { TokenSource } from "../../src/session/types.ts";
import { verifyAccessToken } from "../client/helpers.ts";
import {
  claimsOf,
  get,
  GRAPH,
  IDENTITY_CHILD,
  runNode,
  startWithPartner,
  type RefreshTokenSource,
} from "./helpers.ts";

describe("sidecar endpoint", () => {
  let emu: RunningEmulator;
  let source: RefreshTokenSource;
  let sidecar: RunningSidecar;
  let customer: { id: string; domain: string };
  const log: string[] = [];

  before(async () => {
    ({ emu, source } = await startWithPartner());
    customer = emu.info.customers[0]!;
    sidecar = await startSidecar({ source, tenant: customer.id, log: (l) => log.push(l) });
  });
  after(async () => {
    await sidecar?.close();
    await emu?.close();
  });

  const tokenUrl = (resource: string, endpoint = sidecar.identityEndpoint): string =>
    `${endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`;
  const withSecret = (): Record<string, string> => ({
    "X-IDENTITY-HEADER": sidecar.identityHeader,
  });

  test("answers App Service's 2019-08-01 protocol with a token for the customer tenant", async () => {
    const before = Date.now();
    const r = await get(tokenUrl(GRAPH), withSecret());
    assert.equal(r.status, 200, r.body);
    assert.match(String(r.headers["content-type"]), /^application\/json/);
    assert.deepEqual(Object.keys(r.json).sort(), [
      "access_token",
      "client_id",
      "expires_on",
      "resource",
      "token_type",
    ]);
    assert.equal(r.json.token_type, "Bearer");
    assert.equal(r.json.resource, GRAPH);
    assert.equal(r.json.client_id, emu.info.apps.confidential.clientId);
    assert.equal(typeof r.json.expires_on, "string", "epoch seconds as a string");
    assert.match(r.json.expires_on, /^\d+$/);
    const expiresOn = Number(r.json.expires_on) * 1000;
    assert.ok(expiresOn > before + 30 * 60_000 && expiresOn < before + 2 * 3600_000);
    const claims = await verifyAccessToken(emu, r.json.access_token, customer.id);
    assert.equal(claims.tid, customer.id);
    assert.equal(claims.aud, GRAPH);
    assert.equal(claims.upn ?? claims.preferred_username, emu.info.user.username);
  });

  test("the path selects another tenant: /tenants/{tenant}/msi/token", async () => {
    const other = emu.info.customers[1]!;
    for (const tenant of [other.id, other.domain]) {
      const r = await get(tokenUrl(GRAPH, sidecar.endpointFor(tenant)), withSecret());
      assert.equal(r.status, 200, r.body);
      assert.equal(claimsOf(r.json.access_token).tid, other.id);
    }
  });

  test("a second request is a cache hit of the source, not a new redemption", async () => {
    const first = await get(tokenUrl(GRAPH), withSecret());
    const redemptions = source.redemptions;
    const second = await get(tokenUrl(GRAPH), withSecret());
    assert.equal(source.redemptions, redemptions);
    assert.equal(second.json.access_token, first.json.access_token);
  });

  test("ARM as a v1 resource with its trailing slash, and both of its names", async () => {
    for (const resource of [
      "https://management.azure.com/",
      "https://management.core.windows.net/",
    ]) {
      const r = await get(tokenUrl(resource), withSecret());
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.resource, resource, "the resource is echoed as asked");
      const claims = claimsOf(r.json.access_token);
      assert.equal(claims.aud, resource.replace(/\/$/, ""));
      assert.equal(claims.tid, customer.id);
    }
  });

  test("resource → scope", () => {
    assert.equal(scopeForResource("https://graph.microsoft.com"), `${GRAPH}/.default`);
    assert.equal(
      scopeForResource("https://management.azure.com/"),
      "https://management.azure.com/.default",
    );
    assert.equal(scopeForResource("https://vault.azure.net"), "https://vault.azure.net/.default");
    assert.equal(scopeForResource(`${GRAPH}/.default`), `${GRAPH}/.default`);
    assert.equal(
      scopeForResource("api://af692826-33ec-40b1-8655-1bee077c3a4d"),
      "api://af692826-33ec-40b1-8655-1bee077c3a4d/.default",
    );
  });

  test("user-assigned identity parameters and unknown parameters are ignored", async () => {
    const r = await get(
      `${tokenUrl(GRAPH)}&client_id=00000000-0000-0000-0000-000000000001&mi_res_id=x&principal_id=y&unknown=1`,
      withSecret(),
    );
    assert.equal(r.status, 200, r.body);
    assert.equal(claimsOf(r.json.access_token).tid, customer.id);
  });

  test("no header, an empty one or a wrong one: 401, and the source is not asked", async () => {
    const calls = source.calls;
    const wrong =
      sidecar.identityHeader.slice(0, -1) + (sidecar.identityHeader.endsWith("A") ? "B" : "A");
    const refused: Record<string, string>[] = [
      {},
      { "X-IDENTITY-HEADER": "" },
      { "X-IDENTITY-HEADER": wrong },
      { "X-IDENTITY-HEADER": sidecar.identityHeader + "x" },
      { secret: sidecar.identityHeader },
      { Metadata: "true" },
    ];
    for (const headers of refused) {
      const r = await get(tokenUrl(GRAPH), headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.ok(!r.body.includes("access_token"));
      assert.ok(!r.body.includes(sidecar.identityHeader));
    }
    // Not even the path or the api-version are looked at without the secret.
    assert.equal(
      (await get(`${sidecar.identityEndpoint.replace("/msi/token", "/nope")}`)).status,
      401,
    );
    assert.equal(source.calls, calls);
  });

  test("each start has its own random secret", async () => {
    const other = await startSidecar({ source });
    try {
      assert.notEqual(other.identityHeader, sidecar.identityHeader);
      assert.ok(Buffer.from(other.identityHeader, "base64url").length >= 32);
      const r = await get(tokenUrl(GRAPH, other.identityEndpoint), withSecret());
      assert.equal(r.status, 401, "the other start's secret is refused");
    } finally {
      await other.close();
    }
  });

  test("bound to 127.0.0.1 only: another interface of this machine does not answer", async () => {
    assert.equal(sidecar.address.address, "127.0.0.1");
    assert.equal(new URL(sidecar.identityEndpoint).hostname, "127.0.0.1");
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (external) {
      await assert.rejects(
        get(tokenUrl(GRAPH), withSecret(), { host: external.address }),
        (e: NodeJS.ErrnoException) => {
          assert.equal(e.code, "ECONNREFUSED", `${external.address}: ${e.message}`);
          return true;
        },
      );
    }
    await assert.rejects(
      get(tokenUrl(GRAPH), withSecret(), { host: "::1" }),
      /ECONNREFUSED|EADDRNOTAVAIL/,
    );
  });

  test("bad requests are 400 (never 404), a wrong method 405", async () => {
    const cases: Array<[string, RegExp]> = [
      [`${sidecar.identityEndpoint}?resource=${GRAPH}`, /api-version is missing/],
      [
        `${sidecar.identityEndpoint}?api-version=2017-09-01&resource=${GRAPH}`,
        /2017-09-01 is not supported/,
      ],
      [`${sidecar.identityEndpoint}?api-version=2019-08-01`, /resource is missing/],
      [
        tokenUrl(
          GRAPH,
          sidecar.identityEndpoint.replace("/msi/token", "/metadata/identity/oauth2/token"),
        ),
        /Unknown path/,
      ],
      [tokenUrl(GRAPH, sidecar.endpointFor("a b")), /is not a tenant/],
      [
        tokenUrl(
          GRAPH,
          sidecar.identityEndpoint.replace("/msi/token", "/tenants/%E0%A4%A/msi/token"),
        ),
        /not valid percent-encoding/,
      ],
    ];
    for (const [url, message] of cases) {
      const r = await get(url, withSecret());
      assert.equal(r.status, 400, url);
      assert.equal(r.json.error, "invalid_request");
      assert.match(r.json.error_description, message);
    }
    const post = await get(tokenUrl(GRAPH), withSecret(), { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, "GET");
  });

  test("a tenant the partner has no relationship with: 400 with Entra's error, not a retryable status", async () => {
    const stranger = "370b55dc-eb37-4fa7-a9c6-90e74cc845ed"; // Tailspin Toys: no partner relationship
    const r = await get(tokenUrl(GRAPH, sidecar.endpointFor(stranger)), withSecret());
    assert.equal(r.status, 400, r.body);
    assert.equal(typeof r.json.error, "string");
    assert.match(r.json.error_description, /AADSTS\d+/);
  });

  test("Entra ID throttling (429 after the client's own retries): 503 with its Retry-After", async () => {
    const tenant = emu.info.customers[2]!.id;
    emu.injectFault({ path: `/${tenant}/oauth2/v2.0/token`, status: 429, retryAfter: 1, count: 4 });
    const r = await get(
      tokenUrl("https://outlook.office365.com", sidecar.endpointFor(tenant)),
      withSecret(),
    );
    assert.equal(r.status, 503, r.body);
    assert.equal(r.headers["retry-after"], "1");
    assert.equal(typeof r.json.error, "string");
    // Once Entra ID answers again, so does the endpoint.
    const again = await get(
      tokenUrl("https://outlook.office365.com", sidecar.endpointFor(tenant)),
      withSecret(),
    );
    assert.equal(again.status, 200, again.body);
  });

  test("the request log names resource and tenant, never a token or the secret", () => {
    assert.ok(log.length > 10);
    assert.ok(log.some((l) => l.includes(`resource=${GRAPH}`) && l.includes(" 200 ")));
    assert.ok(log.some((l) => l.includes(" 401 ")));
    const all = log.join("\n");
    for (const secret of [sidecar.identityHeader, ...source.issued.filter(Boolean)])
      assert.ok(!all.includes(secret), "a secret in the log");
    assert.doesNotMatch(all, /eyJ[A-Za-z0-9_-]{10,}\./);
  });

  test("@azure/identity's ManagedIdentityCredential and DefaultAzureCredential, unmodified, in a child process", async () => {
    for (const kind of ["managed", "default"]) {
      const env = childEnvironment(
        {
          AZURE_CLIENT_SECRET: "decoy-secret-never-used",
          AZURE_CLIENT_ID: emu.info.apps.confidential.clientId,
          AZURE_TENANT_ID: emu.info.partnerTenant.id,
        },
        sidecar,
      );
      const r = await runNode([IDENTITY_CHILD, kind, `${GRAPH}/.default`], env);
      assert.equal(r.code, 0, `${kind}: ${r.stdout}\n${r.stderr}`);
      assert.equal(r.json.sawClientSecret, false);
      const claims = await verifyAccessToken(emu, r.json.token, customer.id);
      assert.equal(claims.tid, customer.id, kind);
      assert.ok(r.json.expiresOnTimestamp > Date.now() + 30 * 60_000);
    }
  });

  test("runChild: the command's exit code, 128 + signal, 127 when not found", async () => {
    const env = childEnvironment(process.env, sidecar);
    assert.equal(await runChild(process.execPath, ["-e", "process.exit(7)"], { env }), 7);
    assert.equal(
      await runChild(process.execPath, ["-e", "process.kill(process.pid, 'SIGTERM')"], { env }),
      128 + 15,
    );
    const lines: string[] = [];
    assert.equal(
      await runChild("partner-token-no-such-command", [], { env, log: (l) => lines.push(l) }),
      127,
    );
    assert.match(lines.join("\n"), /command not found: partner-token-no-such-command/);
  });
});

describe("sidecar errors, shaped for the SDKs' retry logic", () => {
  const failing = (error: Error): TokenSource => ({ getToken: () => Promise.reject(error) });
  const ask = async (source: TokenSource) => {
    const sidecar = await startSidecar({ source });
    try {
      return await get(`${sidecar.identityEndpoint}?api-version=2019-08-01&resource=${GRAPH}`, {
        "X-IDENTITY-HEADER": sidecar.identityHeader,
      });
    } finally {
      await sidecar.close();
    }
  };

  test("sign-in needed (expired refresh token): 400, Entra's error and the next step", async () => {
    const r = await ask(
      failing(
        new SignInRequiredError(
          "ERR_AADSTS700082",
          "invalid_grant: AADSTS700082: The refresh token has expired due to inactivity.",
          {
            error: "invalid_grant",
            aadsts: 700082,
            status: 400,
          },
        ),
      ),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid_grant");
    assert.match(r.json.error_description, /AADSTS700082/);
    assert.match(r.json.error_description, /Sign in interactively again/);
  });

  test("no session: 400 interaction_required", async () => {
    const r = await ask(
      failing(
        new SignInRequiredError("ERR_NO_SESSION", "No session for profile 'default'.", {
          hint: "Run partner-token login.",
        }),
      ),
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "interaction_required");
    assert.match(r.json.error_description, /No session.*Run partner-token login/);
  });

  test("throttled: 503 with Retry-After from the server", async () => {
    const response = new Response("", { status: 429, headers: { "retry-after": "17" } });
    const r = await ask(
      failing(
        new ServerError("ERR_HTTP_STATUS", "The server answered HTTP 429.", {
          status: 429,
          response,
        }),
      ),
    );
    assert.equal(r.status, 503);
    assert.equal(r.headers["retry-after"], "17");
  });

  test("the service down or unreachable: 503 with a Retry-After", async () => {
    const r1 = await ask(failing(new ServerError("ERR_HTTP_STATUS", "HTTP 503", { status: 503 })));
    assert.equal(r1.status, 503);
    assert.equal(r1.headers["retry-after"], "5");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const r2 = await ask(failing(new TypeError("fetch failed", { cause: refused })));
    assert.equal(r2.status, 503);
    const { LockTimeoutError } = await import("../../src/session/lock.ts");
    const r3 = await ask(failing(new LockTimeoutError("the renewal lock is held")));
    assert.equal(r3.status, 503, "another process is renewing: ask again");
  });

  test("parseRequest takes the tenant from the path before the default", () => {
    assert.equal(parseRequest("/msi/token?api-version=2019-08-01&resource=x", "a").tenant, "a");
    assert.equal(
      parseRequest("/tenants/b.example/msi/token/?api-version=2019-08-01&resource=x", "a").tenant,
      "b.example",
    );
    assert.equal(parseRequest("/MSI/Token?api-version=2019-08-01&resource=x").tenant, undefined);
  });
});
