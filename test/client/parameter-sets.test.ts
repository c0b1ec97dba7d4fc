import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  EXCHANGE_ONLINE,
  resolveParameterSet,
  UsageError,
  type NewPartnerAccessTokenParams,
} from "../../src/index.ts";

const app = "af692826-33ec-40b1-8655-1bee077c3a4d";
const scopes = ["https://api.partnercenter.microsoft.com/user_impersonation"];
const credential = { userName: app, password: "secret-value" };

function bind(params: NewPartnerAccessTokenParams) {
  const { parameterSet, flow, confidential } = resolveParameterSet(params);
  return [parameterSet, flow, confidential];
}

describe("parameter sets and dispatch order (SPEC §2)", () => {
  test("each set binds to its flow", () => {
    assert.deepEqual(bind({ accessToken: "t", applicationId: app, scopes }), [
      "AccessToken",
      "accessToken",
      false,
    ]);
    assert.deepEqual(bind({ refreshToken: "r", applicationId: app, scopes }), [
      "RefreshToken",
      "refreshToken",
      false,
    ]);
    assert.deepEqual(bind({ refreshToken: "r", credential, scopes, tenant: "t" }), [
      "RefreshToken",
      "refreshToken",
      true,
    ]);
    assert.deepEqual(
      bind({ applicationId: app, credential, scopes, tenant: "t", servicePrincipal: true }),
      ["ServicePrincipal", "clientCredentials", true],
    );
    assert.deepEqual(
      bind({
        applicationId: app,
        credential,
        scopes,
        tenant: "t",
        servicePrincipal: true,
        useAuthorizationCode: true,
      }),
      ["ServicePrincipal", "authorizationCode", true],
    );
    assert.deepEqual(
      bind({ applicationId: app, certificateThumbprint: "AB".repeat(20), scopes, tenant: "t" }),
      ["ServicePrincipalCertificate", "clientCredentials", true],
    );
    assert.deepEqual(bind({ applicationId: app, scopes }), ["User", "authorizationCode", false]);
    assert.deepEqual(bind({ applicationId: app, scopes, useDeviceAuthentication: true }), [
      "User",
      "deviceCode",
      false,
    ]);
    assert.deepEqual(bind({ module: "ExchangeOnline" }), ["ByModule", "deviceCode", false]);
    assert.deepEqual(bind({ module: "ExchangeOnline", refreshToken: "r" }), [
      "ByModule",
      "refreshToken",
      false,
    ]);
  });

  test("dispatch order: UseAuthorizationCode before device code; AccessToken first", () => {
    assert.deepEqual(
      bind({
        applicationId: app,
        scopes,
        useAuthorizationCode: true,
        useDeviceAuthentication: true,
      }),
      ["User", "authorizationCode", false],
    );
  });

  test("defaults and mappings: tenant organizations, resource → /.default, credential user name as client id, ExchangeOnline app", () => {
    const user = resolveParameterSet({
      applicationId: app,
      resource: "https://graph.microsoft.com",
    });
    assert.equal(user.request.tenant, "organizations");
    assert.deepEqual(user.request.scopes, ["https://graph.microsoft.com/.default"]);
    const refresh = resolveParameterSet({
      refreshToken: "r",
      applicationId: "other",
      credential,
      scopes,
    });
    assert.equal(refresh.request.clientId, app);
    assert.equal(refresh.request.clientSecret, "secret-value");
    const exo = resolveParameterSet({ module: "ExchangeOnline" });
    assert.equal(exo.request.clientId, EXCHANGE_ONLINE.applicationId);
    assert.deepEqual(exo.request.scopes, ["https://outlook.office365.com/.default"]);
  });

  test("with an authority, the ServicePrincipal sets need no tenant", () => {
    const authority = "https://op.example.test";
    assert.deepEqual(
      bind({ applicationId: app, credential, scopes, servicePrincipal: true, authority }),
      ["ServicePrincipal", "clientCredentials", true],
    );
    assert.deepEqual(
      bind({
        applicationId: app,
        credential,
        scopes,
        servicePrincipal: true,
        useAuthorizationCode: true,
        authority,
      }),
      ["ServicePrincipal", "authorizationCode", true],
    );
    assert.deepEqual(
      bind({
        applicationId: app,
        certificatePath: "app.pem",
        scopes,
        servicePrincipal: true,
        authority,
      }),
      ["ServicePrincipalCertificate", "clientCredentials", true],
    );
    // A tenant is still allowed where the cmdlet allows it.
    assert.deepEqual(
      bind({
        applicationId: app,
        credential,
        scopes,
        servicePrincipal: true,
        tenant: "t",
        authority,
      }),
      ["ServicePrincipal", "clientCredentials", true],
    );
    // Without an authority the cmdlet's rule stands.
    assert.throws(
      () => resolveParameterSet({ applicationId: app, credential, scopes, servicePrincipal: true }),
      (e: UsageError) =>
        e.code === "ERR_PARAMETER_SET" &&
        /Closest: ServicePrincipal \(missing Tenant\)/.test(e.message),
    );
  });

  test("a combination that fits no set lists the sets and what each needs", () => {
    assert.throws(
      () => resolveParameterSet({ applicationId: app, credential, scopes, tenant: "t" }),
      (e: UsageError) =>
        e instanceof UsageError &&
        e.code === "ERR_PARAMETER_SET" &&
        e.exitCode === 2 &&
        /Closest: ServicePrincipal \(missing ServicePrincipal\)/.test(e.message) &&
        [
          "AccessToken",
          "RefreshToken",
          "ServicePrincipal",
          "ServicePrincipalCertificate",
          "User",
          "ByModule",
        ].every((name) => e.message.includes(`  ${name}: requires`)) &&
        !e.message.includes("secret-value"),
    );
    assert.throws(() => resolveParameterSet({ scopes }), /No parameter set fits/);
    assert.throws(
      () =>
        resolveParameterSet({
          applicationId: app,
          credential,
          certificateThumbprint: "x",
          scopes,
          tenant: "t",
          servicePrincipal: true,
        }),
      UsageError,
    );
    assert.throws(
      () =>
        resolveParameterSet({
          applicationId: app,
          scopes,
          resource: "https://graph.microsoft.com",
        }),
      /either scopes or resource/,
    );
  });
});
