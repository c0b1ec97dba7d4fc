/**
 * A small directory served in Microsoft Graph's documented shapes over local HTTP, and a token
 * source that refuses a tenant the way Entra does (AADSTS50020 / 65001), for the diagnosis and
 * repair tests of the library. (The emulator's own Graph is tested against the emulator.)
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ServerError } from "../../src/client/errors.ts";
import type { AuthResult, GetTokenOptions, TokenSource } from "../../src/session/types.ts";

export const GA = "62e90394-69f5-4237-9190-012177145e10";
export const CLOUD_APP_ADMIN = "158c047a-c907-4556-b7ef-446551a6b5f7";
export const GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
export const GRAPH_APP = "00000003-0000-0000-c000-000000000000";
export const APP = "11111111-2222-3333-4444-555555555555";

export interface FakeRelationship {
  id: string;
  customer: string;
  status: string;
  endDateTime: string;
  autoExtendDuration: "PT0S" | "P180D";
  roles: string[];
  assignments: { group: string; roles: string[] }[];
}

export interface FakeDirectory {
  userGroups: { id: string; displayName: string }[];
  relationships: FakeRelationship[];
  /** Per customer tenant: the app's delegated scopes on Graph (absent: no service principal). */
  consent: Map<string, string[]>;
  /** Tenants where the token endpoint refuses, with that AADSTS number. */
  refuse: Map<string, number>;
  amr: string[];
  /** Graph answers these statuses first, once each, for every path matching. */
  faults: { match: RegExp; status: number; retryAfter?: string; times: number }[];
  /** Tenants where Partner Center's application consent answers 403 (no GDAP role for it). */
  consentForbidden?: Set<string>;
  /** Tenants whose next token request is throttled (429) once. */
  throttleOnce?: Set<string>;
  /** The bodies Partner Center's application consent received. */
  consentBodies?: { tenant: string; body: any }[];
}

export interface FakeGraph {
  origin: string;
  dir: FakeDirectory;
  source: TokenSource & { asked: GetTokenOptions[] };
  calls: string[];
  close(): Promise<void>;
}

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.sig`;
}

export async function startFakeGraph(dir: FakeDirectory): Promise<FakeGraph> {
  const calls: string[] = [];
  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      "content-type": "application/json",
      "request-id": "rid-1",
      ...headers,
    });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const tenant = /^Bearer tenant=([^;]*);/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    calls.push(`${req.method} ${tenant || "partner"} ${url.pathname}`);
    const fault = dir.faults.find((f) => f.times > 0 && f.match.test(url.pathname));
    if (fault) {
      fault.times--;
      return send(
        res,
        fault.status,
        {
          error: {
            code: fault.status === 403 ? "Authorization_RequestDenied" : "TooManyRequests",
            message: "Fault.",
            innerError: {},
          },
        },
        fault.retryAfter ? { "retry-after": fault.retryAfter } : {},
      );
    }
    const p = url.pathname;
    const pc = /^\/v1\/customers\/([^/]+)\/applicationconsents$/.exec(p);
    if (pc && req.method === "POST") {
      const customer = decodeURIComponent(pc[1]!);
      let text = "";
      req.setEncoding("utf8").on("data", (d: string) => (text += d));
      req.on("end", () => {
        const body = JSON.parse(text);
        (dir.consentBodies ??= []).push({ tenant: customer, body });
        if (dir.consentForbidden?.has(customer))
          return send(res, 403, {
            code: 600032,
            description: "The caller lacks a GDAP role that allows consent.",
            errorName: "Forbidden",
          });
        if (dir.consent.has(customer))
          return send(res, 409, {
            code: 600041,
            description: "Permission entry already exists.",
            errorName: "Conflict",
          });
        const grant = body.applicationGrants?.find(
          (g: any) => g.enterpriseApplicationId === GRAPH_APP,
        );
        dir.consent.set(customer, String(grant?.scope ?? "").split(","));
        if (dir.refuse.get(customer) === 65001) dir.refuse.delete(customer);
        send(res, 201, body);
      });
      return;
    }
    if (p === "/v1.0/me")
      return send(res, 200, { id: "user-1", userPrincipalName: "agent@partner.example" });
    if (p === "/v1.0/me/transitiveMemberOf")
      return send(res, 200, {
        value: dir.userGroups.map((g) => ({ "@odata.type": "#microsoft.graph.group", ...g })),
      });
    const adminAgent = dir.userGroups.some((g) => g.displayName === "AdminAgents");
    if (p === "/v1.0/tenantRelationships/delegatedAdminRelationships") {
      // Outside AdminAgents: 200 and an empty list, as Graph does.
      const all = adminAgent ? dir.relationships : [];
      const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
      const page = all.slice(skip, skip + 2).map((r) => ({
        id: r.id,
        displayName: `GDAP ${r.customer}`,
        status: r.status,
        duration: "P730D",
        endDateTime: r.endDateTime,
        autoExtendDuration: r.autoExtendDuration,
        customer: { tenantId: r.customer, displayName: `Customer ${r.customer}` },
        accessDetails: { unifiedRoles: r.roles.map((roleDefinitionId) => ({ roleDefinitionId })) },
      }));
      return send(res, 200, {
        value: page,
        ...(skip + 2 < all.length
          ? { "@odata.nextLink": `http://127.0.0.1:${port}${p}?$skiptoken=${skip + 2}` }
          : {}),
      });
    }
    const a =
      /^\/v1\.0\/tenantRelationships\/delegatedAdminRelationships\/([^/]+)\/accessAssignments$/.exec(
        p,
      );
    if (a) {
      const r = dir.relationships.find((x) => x.id === decodeURIComponent(a[1]!));
      return send(res, 200, {
        value: (r?.assignments ?? []).map((x, i) => ({
          id: `${r!.id}-a${i}`,
          status: "active",
          accessContainer: { accessContainerId: x.group, accessContainerType: "securityGroup" },
          accessDetails: {
            unifiedRoles: x.roles.map((roleDefinitionId) => ({ roleDefinitionId })),
          },
        })),
      });
    }
    if (p === "/v1.0/servicePrincipals") {
      const filter = url.searchParams.get("$filter") ?? "";
      const appId = /appId eq '([^']*)'/.exec(filter)?.[1];
      const scopes = dir.consent.get(tenant);
      if (appId === APP)
        return send(res, 200, {
          value: scopes ? [{ id: `sp-app-${tenant}`, appId: APP, displayName: "App" }] : [],
        });
      return send(res, 200, { value: [] });
    }
    if (/^\/v1\.0\/servicePrincipals\/sp-graph/.test(p))
      return send(res, 200, { id: "sp-graph", appId: GRAPH_APP, displayName: "Microsoft Graph" });
    if (/^\/v1\.0\/servicePrincipals\/sp-app-[^/]*\/oauth2PermissionGrants$/.test(p)) {
      const scopes = dir.consent.get(tenant) ?? [];
      return send(res, 200, {
        value: [
          {
            id: "g1",
            clientId: `sp-app-${tenant}`,
            resourceId: "sp-graph",
            consentType: "AllPrincipals",
            scope: scopes.join(" "),
          },
        ],
      });
    }
    send(res, 404, {
      error: { code: "Request_ResourceNotFound", message: `No ${p}.`, innerError: {} },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const asked: GetTokenOptions[] = [];
  const source = {
    asked,
    async getToken(options: GetTokenOptions): Promise<AuthResult> {
      asked.push(options);
      const tenant = options.tenant ?? "";
      if (dir.throttleOnce?.delete(tenant))
        throw new ServerError("ERR_SERVER", "AADSTS50196: throttled.", {
          status: 429,
          aadsts: 50196,
          response: new Response(null, { status: 429, headers: { "retry-after": "1" } }),
        });
      const refusal = dir.refuse.get(tenant);
      if (refusal !== undefined)
        throw new ServerError("ERR_SERVER", `AADSTS${refusal}: refused for ${tenant}.`, {
          status: 400,
          aadsts: refusal,
          error: "invalid_grant",
        });
      const token = `tenant=${tenant};${jwt({ amr: dir.amr, scp: "Directory.Read.All", upn: "agent@partner.example", tid: tenant || "partner" })}`;
      return {
        accessToken: token,
        tokenType: "Bearer",
        expiresOn: new Date(Date.now() + 3600_000).toISOString(),
        scopes: options.scopes,
        refreshToken: null,
      } as unknown as AuthResult;
    },
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    dir,
    source,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
