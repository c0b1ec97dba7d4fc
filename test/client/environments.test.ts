import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { emulatorDataDir, environments, resolveEnvironment, UsageError } from "../../src/index.ts";

describe("environments (SPEC §3)", () => {
  test("the five clouds, any case, legacy names too", () => {
    assert.deepEqual(
      environments.map((env) => env.name),
      ["AzureCloud", "AzureChinaCloud", "AzureGermanCloud", "AzurePPE", "AzureUSGovernment"],
    );
    assert.equal(resolveEnvironment().authorityHost, "https://login.microsoftonline.com");
    assert.equal(resolveEnvironment("chinacloud").authorityHost, "https://login.chinacloudapi.cn");
    assert.equal(
      resolveEnvironment("AZUREUSGOVERNMENT").graphEndpoint,
      "https://graph.microsoft.us",
    );
    assert.equal(
      resolveEnvironment("PPE").partnerCenterEndpoint,
      "https://api.partnercenter.microsoft-ppe.com",
    );
    assert.equal(
      resolveEnvironment("GermanCloud").authorityHost,
      "https://login.microsoftonline.de",
    );
  });

  test("Emulator: the default port and the CA in the emulator's data folder", () => {
    const env = resolveEnvironment("emulator");
    assert.equal(env.authorityHost, "https://127.0.0.1:9443");
    assert.equal(env.caFile, join(emulatorDataDir(), "ca.pem"));
    assert.equal(emulatorDataDir({ PARTNER_TOKEN_EMULATOR_DIR: "/x" }, "linux"), "/x");
    assert.equal(
      emulatorDataDir({ XDG_DATA_HOME: "/d" }, "linux"),
      join("/d", "partner-token", "emulator"),
    );
    assert.equal(
      emulatorDataDir({ LOCALAPPDATA: "C:\\L" }, "win32"),
      join("C:\\L", "partner-token", "emulator"),
    );
  });

  test("custom authority host; plain http only on loopback", () => {
    assert.equal(
      resolveEnvironment({ authorityHost: "http://127.0.0.1:8080/", caFile: "/ca.pem" })
        .authorityHost,
      "http://127.0.0.1:8080",
    );
    assert.equal(resolveEnvironment({ authorityHost: "http://localhost:8080" }).name, "Custom");
    assert.throws(
      () => resolveEnvironment({ authorityHost: "http://login.example.com" }),
      (e: UsageError) => e instanceof UsageError && e.code === "ERR_INSECURE_AUTHORITY",
    );
  });

  test("an unknown name lists the known ones", () => {
    assert.throws(
      () => resolveEnvironment("Mars"),
      (e: UsageError) =>
        e.code === "ERR_UNKNOWN_ENVIRONMENT" && e.message.includes("AzureChinaCloud (ChinaCloud)"),
    );
  });
});

describe("id token issuer per tenant, in every cloud", () => {
  test("organizations/common/domain: tenant-specific https://{login}/{tid}/v2.0; a GUID tenant: exactly its own", async () => {
    const { resolveAuthority } = await import("../../src/client/authority.ts");
    const { createHttp } = await import("../../src/client/http.ts");
    const tid = "f04fdd7c-0a2c-4389-bece-c30c32330d96";
    for (const env of environments) {
      for (const tenant of ["organizations", "common", "fabrikam.onmicrosoft.com"]) {
        const authority = await resolveAuthority(
          { clientId: "x", scopes: ["s"], tenant },
          env,
          createHttp(),
        );
        assert.equal(authority.expectedIssuer({ tid }), `${env.authorityHost}/${tid}/v2.0`);
        assert.equal(
          authority.as.token_endpoint,
          `${env.authorityHost}/${tenant}/oauth2/v2.0/token`,
        );
        // a tid that is not a GUID cannot widen the accepted issuer
        assert.equal(
          authority.expectedIssuer({ tid: "evil/../x" }),
          `${env.authorityHost}/${tenant}/v2.0`,
        );
      }
      const own = await resolveAuthority(
        { clientId: "x", scopes: ["s"], tenant: tid },
        env,
        createHttp(),
      );
      assert.equal(
        own.expectedIssuer({ tid: "475cad49-99e1-453e-8ff2-ae87738d9b23" }),
        `${env.authorityHost}/${tid}/v2.0`,
      );
      assert.equal(
        own.as.device_authorization_endpoint,
        `${env.authorityHost}/${tid}/oauth2/v2.0/devicecode`,
      );
    }
  });
});
