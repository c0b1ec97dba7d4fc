/**
 * --impersonate without touching name resolution: connections to 127.0.0.1 that name Microsoft's
 * hosts in SNI and Host, as a client does once a hosts file points them here. The certificate is
 * checked for each name; routing is by Host; issuers and URLs are Entra's.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { startEmulator, type RunningEmulator } from "../../src/emulator/index.ts";
import { aadsts } from "./harness.ts";

let emu: RunningEmulator;
let ca: string;
let port: number;
let tenant: string;

before(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "emu-imp-"));
  emu = await startEmulator({
    port: 0,
    dataDir,
    impersonate: true,
    autoApprove: true,
    log: () => {},
  });
  ca = await readFile(emu.caFile!, "utf8");
  port = Number(new URL(emu.url).port);
  tenant = emu.info.partnerTenant.id;
});
after(() => emu.close());

interface Res {
  status: number;
  json: any;
  headers: Record<string, unknown>;
}

/** A request to 127.0.0.1 for `host`: SNI, certificate check and Host header all name it. */
function at(
  host: string,
  path: string,
  init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Res> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        servername: host,
        path,
        method: init.method ?? (body ? "POST" : "GET"),
        ca,
        headers: {
          host: `${host}:${port}`,
          ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          ...init.headers,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("emulator --impersonate", () => {
  test("the certificate names every host of the ready line, and any vault", async () => {
    for (const host of [...emu.info.hosts!, "contoso.vault.azure.net"]) {
      const res = await at(host, "/nowhere");
      assert.equal(res.status, 404, host);
    }
  });

  test("discovery under each login host names that host; issuers are Entra's own", async () => {
    for (const host of [
      "login.microsoftonline.com",
      "login.windows.net",
      "login.microsoftonline.us",
    ]) {
      const doc = (await at(host, `/${tenant}/v2.0/.well-known/openid-configuration`)).json;
      assert.equal(doc.issuer, `https://login.microsoftonline.com/${tenant}/v2.0`);
      assert.equal(doc.token_endpoint, `https://${host}:${port}/${tenant}/oauth2/v2.0/token`);
    }
    const v1 = (
      await at("login.microsoftonline.com", `/${tenant}/.well-known/openid-configuration`)
    ).json;
    assert.equal(v1.issuer, `https://sts.windows.net/${tenant}/`);
    const common = (
      await at("login.microsoftonline.com", "/common/v2.0/.well-known/openid-configuration")
    ).json;
    assert.equal(common.issuer, "https://login.microsoftonline.com/{tenantid}/v2.0");
  });

  test("tokens carry https://sts.windows.net/{tid}/ (v1) and login.microsoftonline.com (v2 id tokens)", async () => {
    const res = await at("login.microsoftonline.com", "/organizations/oauth2/v2.0/token", {
      form: {
        client_id: emu.info.apps.public.clientId,
        grant_type: "password",
        username: emu.info.user.username,
        password: emu.info.user.password,
        scope: "openid https://graph.microsoft.com/User.Read",
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(decodeJwt(res.json.access_token).iss, `https://sts.windows.net/${tenant}/`);
    assert.equal(
      decodeJwt(res.json.id_token).iss,
      `https://login.microsoftonline.com/${tenant}/v2.0`,
    );
  });

  test("instance discovery lists Entra's clouds; user realm answers Managed or Unknown", async () => {
    const authorize = encodeURIComponent(
      "https://login.windows.net/contoso-partner.onmicrosoft.com/oauth2/v2.0/authorize",
    );
    const d = (
      await at(
        "login.microsoftonline.com",
        `/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`,
      )
    ).json;
    assert.equal(
      d.tenant_discovery_endpoint,
      "https://login.windows.net/contoso-partner.onmicrosoft.com/v2.0/.well-known/openid-configuration",
    );
    const world = d.metadata.find((m: any) => m.preferred_network === "login.microsoftonline.com");
    assert.deepEqual(world.aliases, [
      "login.microsoftonline.com",
      "login.windows.net",
      "login.microsoft.com",
      "sts.windows.net",
    ]);
    assert.ok(d.metadata.some((m: any) => m.aliases.includes("login.microsoftonline.us")));

    const managed = (
      await at("login.microsoft.com", `/common/userrealm/${emu.info.user.username}?api-version=1.0`)
    ).json;
    assert.deepEqual(managed, {
      ver: "1.0",
      account_type: "Managed",
      domain_name: "contoso-partner.onmicrosoft.com",
      cloud_instance_name: "microsoftonline.com",
      cloud_audience_urn: "urn:federation:MicrosoftOnline",
    });
    const unknown = (
      await at("login.microsoftonline.com", "/common/userrealm/someone@example.org?api-version=1.0")
    ).json;
    assert.equal(unknown.account_type, "Unknown");
    const v21 = (
      await at(
        "login.microsoftonline.com",
        `/common/userrealm/?user=${emu.info.user.username}&api-version=2.1`,
      )
    ).json;
    assert.equal(v21.NameSpaceType, "Managed");
  });

  test("routing by Host: each service its own paths, errors in its own shape", async () => {
    const pcOnLogin = await at("login.microsoftonline.com", "/v1/customers");
    assert.equal(pcOnLogin.status, 404);
    aadsts(pcOnLogin.json);
    const pc = await at("api.partnercenter.microsoft.com", "/v1/customers");
    assert.equal(pc.status, 401);
    assert.equal(pc.json.code, 900401);
    const tokenOnPc = await at("api.partnercenter.microsoft.com", `/${tenant}/oauth2/v2.0/token`, {
      form: {},
    });
    assert.equal(tokenOnPc.status, 404);
    assert.equal(typeof tokenOnPc.json.description, "string");
    const graph = await at("graph.microsoft.com", "/v1.0/me");
    assert.equal(graph.status, 401);
    assert.equal(graph.json.error.code, "InvalidAuthenticationToken");
    const notGraph = await at("graph.microsoft.com", "/v1/customers");
    assert.equal(notGraph.status, 404);
    assert.equal(notGraph.json.error.code, "NotFound");
    const arm = await at("management.azure.com", "/subscriptions?api-version=2022-12-01");
    assert.equal(arm.status, 401);
    assert.equal(arm.json.error.code, "AuthenticationFailed");
  });

  test("ARM: tenants and subscriptions for a token of ARM's, with any api-version", async () => {
    const token = await at("login.microsoftonline.com", "/organizations/oauth2/v2.0/token", {
      form: {
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        grant_type: "password",
        username: emu.info.user.username,
        password: emu.info.user.password,
        scope: "https://management.core.windows.net//.default",
      },
    });
    const headers = { authorization: `Bearer ${token.json.access_token}` };
    const tenants = await at("management.azure.com", "/tenants?api-version=2020-01-01", {
      headers,
    });
    assert.equal(tenants.status, 200);
    assert.deepEqual(
      tenants.json.value.map((t: any) => t.tenantId),
      [tenant],
    );
    const subs = await at("management.azure.com", "/subscriptions?api-version=2016-06-01", {
      headers,
    });
    assert.equal(subs.json.value[0].subscriptionId, "6a1e2f4c-9b0d-4e8a-8f3b-2c7d5e9a1b04");
    assert.equal(subs.json.value[0].state, "Enabled");
    const noVersion = await at("management.azure.com", "/subscriptions", { headers });
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json.error.code, "MissingApiVersionParameter");
    const graphToken = await at("login.microsoftonline.com", "/organizations/oauth2/v2.0/token", {
      form: {
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        grant_type: "password",
        username: emu.info.user.username,
        password: emu.info.user.password,
        scope: "https://graph.microsoft.com/.default",
      },
    });
    const wrongAudience = await at("management.azure.com", "/tenants?api-version=2020-01-01", {
      headers: { authorization: `Bearer ${graphToken.json.access_token}` },
    });
    assert.equal(wrongAudience.status, 401);
    assert.equal(wrongAudience.json.error.code, "InvalidAuthenticationToken");
    // Graph answers at its own name, and its next links stay there.
    const relationships = await at(
      "graph.microsoft.com",
      "/v1.0/tenantRelationships/delegatedAdminRelationships?$top=1",
      { headers: { authorization: `Bearer ${graphToken.json.access_token}` } },
    );
    assert.equal(relationships.status, 200, JSON.stringify(relationships.json));
    assert.ok(
      String(relationships.json["@odata.nextLink"]).startsWith(
        `https://graph.microsoft.com:${port}/v1.0/tenantRelationships/`,
      ),
    );
  });

  test("the device verification URI is on the login host that was asked", async () => {
    const res = await at("login.microsoftonline.com", "/organizations/oauth2/v2.0/devicecode", {
      form: {
        client_id: "1950a258-227b-4e31-a9cf-717495945fc2",
        scope: "https://management.core.windows.net//.default",
      },
    });
    assert.equal(
      res.json.verification_uri,
      `https://login.microsoftonline.com:${port}/devicelogin`,
    );
  });
});
