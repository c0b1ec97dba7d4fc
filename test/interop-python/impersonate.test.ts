/**
 * `partner-token emulator --impersonate`, proven with Microsoft's own clients: Debian's Azure CLI,
 * unmodified and with no endpoint setting (`az login --service-principal` with a secret and with a
 * certificate, `az login -u … -p …`, `az login --use-device-code`, `az account get-access-token`
 * for Graph and Partner Center), MSAL for Python with its default authority validation, and
 * @azure/identity with its default authority host.
 * They run in a private network, mount and PID namespace that this test makes with `unshare`,
 * where a hosts file of the ready line's `hosts` is bind-mounted over /etc/hosts: the machine's
 * own /etc/hosts is never touched. Where `unshare` is not permitted, the test fails saying so.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { defaultSeed } from "../../src/emulator/index.ts";

const UNSHARE = ["--net", "--mount", "--pid", "--fork", "--mount-proc"];
const inside = new URL("./in-namespace.ts", import.meta.url).pathname;
let r: Record<string, any>;
let tenant: string;

before(
  async () => {
    const probe = spawnSync("unshare", [...UNSHARE, "true"], { encoding: "utf8" });
    if (probe.status !== 0)
      throw new Error(
        `this test needs 'unshare ${UNSHARE.join(" ")}' (a private network and mount namespace for ` +
          `the hosts file), which is not permitted here: ${probe.error?.message ?? probe.stderr.trim()}. ` +
          "Run it as root (CI does) or with CAP_SYS_ADMIN.",
      );
    const dir = await mkdtemp(join(tmpdir(), "emu-impersonate-"));
    const seedFile = join(dir, "seed.json");
    // One-second device-code polling keeps `az login --use-device-code` short.
    await writeFile(
      seedFile,
      JSON.stringify({ ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } }),
    );
    r = await new Promise((resolve, reject) => {
      const child = spawn("unshare", [...UNSHARE, process.execPath, inside], {
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("close", (code) => {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`the namespace run ended with ${code}: ${err.slice(-3000)}`));
        }
      });
      child.stdin.end(JSON.stringify({ dir, seedFile }));
    });
    tenant = r["ready"]["partnerTenant"]["id"];
    // Ten Azure CLI runs (each starts a Python interpreter) and four MSAL sign-ins: about a minute.
  },
  { timeout: 240_000 },
);

/** Verifies a token with the keys the emulator published under login.microsoftonline.com. */
async function verified(token: unknown) {
  assert.equal(typeof token, "string");
  const { payload } = await jwtVerify(
    token as string,
    createLocalJWKSet(r["jwks"] as JSONWebKeySet),
    { algorithms: ["RS256"] },
  );
  return payload;
}

/** An `az` step that succeeded, with its JSON output. */
function ok(step: string): any {
  const s = r[step];
  assert.equal(s.status, 0, `${step}: ${s.stderr}`);
  return s.json;
}

describe("emulator --impersonate with the Azure CLI and MSAL for Python", () => {
  test("the ready line: Microsoft's URLs and the host names to point at it", () => {
    assert.equal(r["ready"]["url"], "https://login.microsoftonline.com");
    assert.equal(r["ready"]["partnerCenterEndpoint"], "https://api.partnercenter.microsoft.com");
    for (const host of [
      "login.microsoftonline.com",
      "login.windows.net",
      "login.microsoft.com",
      "sts.windows.net",
      "api.partnercenter.microsoft.com",
      "graph.microsoft.com",
      "management.azure.com",
      "outlook.office365.com",
      "login.microsoftonline.us",
      "login.chinacloudapi.cn",
    ])
      assert.ok(r["ready"]["hosts"].includes(host), host);
    assert.deepEqual(r["emulatorErrors"], []);
  });

  test("az login --service-principal with a secret lists the tenant's subscription", async () => {
    const accounts = ok("spSecret");
    assert.equal(accounts[0].tenantId, tenant);
    assert.equal(accounts[0].name, "Contoso Partner Production");
    assert.equal(accounts[0].user.type, "servicePrincipal");
    const graph = await verified(ok("spSecretGraph").accessToken);
    assert.equal(graph["iss"], `https://sts.windows.net/${tenant}/`);
    assert.equal(graph["aud"], "https://graph.microsoft.com");
    assert.equal(graph["appidacr"], "1");
  });

  test("az login --service-principal with a certificate; a Partner Center token", async () => {
    assert.equal(ok("spCert")[0].tenantId, tenant);
    const token = await verified(ok("spCertPartnerCenter").accessToken);
    assert.equal(token["aud"], "https://api.partnercenter.microsoft.com");
    assert.equal(token["appidacr"], "2");
  });

  test("az login -u -p (user realm, then ROPC); Graph and Partner Center tokens", async () => {
    const accounts = ok("user");
    assert.equal(accounts[0].user.name, r["ready"]["user"]["username"]);
    const graph = await verified(ok("userGraph").accessToken);
    assert.equal(graph["upn"], r["ready"]["user"]["username"]);
    assert.equal(graph["appid"], "04b07795-8ddb-461a-bbee-02f9e1bf7b46");
    const pc = await verified(ok("userPartnerCenter").accessToken);
    assert.equal(pc["scp"], "user_impersonation");
    assert.equal(pc["iss"], `https://sts.windows.net/${tenant}/`);
    assert.ok(
      r["requests"].some((l: string) =>
        /^200 GET \/common\/userrealm\/\S+ login\.microsoftonline\.com$/.test(l),
      ),
    );
    assert.ok(r["requests"].some((l: string) => l === "200 GET /tenants management.azure.com"));
    assert.ok(
      r["requests"].some((l: string) => l === "200 GET /subscriptions management.azure.com"),
    );
  });

  test("az login --use-device-code; Graph and Partner Center tokens", async () => {
    assert.equal(ok("device")[0].user.type, "user");
    assert.match(r["device"].stderr, /https:\/\/login\.microsoftonline\.com\/devicelogin/);
    assert.equal(
      (await verified(ok("deviceGraph").accessToken))["aud"],
      "https://graph.microsoft.com",
    );
    const pc = await verified(ok("devicePartnerCenter").accessToken);
    assert.equal(pc["aud"], "https://api.partnercenter.microsoft.com");
  });

  test("MSAL for Python with authority validation on: secret, chain, device code, password, auth code", async () => {
    const m = r["msal"];
    for (const flow of ["secret", "certificate_chain", "password", "authorization_code"])
      assert.ok(m[flow]?.access_token, `${flow}: ${JSON.stringify(m[flow])}`);
    const app = await verified(m["secret"].access_token);
    assert.equal(app["iss"], `https://sts.windows.net/${tenant}/`);
    await verified(m["certificate_chain"].access_token);
    assert.ok(m["device_code"]["first"]?.access_token, JSON.stringify(m["device_code"]));
    await verified(m["device_code"]["silent"].access_token);
    await verified(m["device_code"]["refreshed"].access_token);
    await verified(m["password"].access_token);
    assert.equal(
      m["authorization_code"]["id_token_claims"]["iss"],
      `https://login.microsoftonline.com/${tenant}/v2.0`,
    );
  });

  test("@azure/identity with its default authority host and only the CA trusted", async () => {
    const js = r["identityJs"];
    assert.equal(js.status, 0, js.stderr);
    const token = await verified(JSON.parse(js.stdout).token);
    assert.equal(token["aud"], "https://api.partnercenter.microsoft.com");
  });

  test("MSAL for Python at login.windows.net asks instance discovery, then signs in", async () => {
    assert.ok(r["msalAlias"]["secret"]?.access_token, JSON.stringify(r["msalAlias"]));
    await verified(r["msalAlias"]["secret"].access_token);
    assert.ok(
      r["requests"].some(
        (l: string) => l === "200 GET /common/discovery/instance login.microsoftonline.com",
      ),
    );
    // …which sent it to the tenant's discovery document on the host it asked about.
    assert.ok(
      r["requests"].includes(
        `200 GET /${tenant}/v2.0/.well-known/openid-configuration login.windows.net`,
      ),
    );
  });
});
