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

/** The parameter set, the flow and whether the client is confidential. */
type Binding = [string, string, boolean];

function bind(params: NewPartnerAccessTokenParams): Binding {
  const { parameterSet, flow, confidential } = resolveParameterSet(params);
  return [parameterSet, flow, confidential];
}

function assertBinds(params: NewPartnerAccessTokenParams, expected: Binding): void {
  const actual = bind(params);
  const [shown, wanted] = [JSON.stringify(actual), JSON.stringify(expected)];
  assert.deepEqual(actual, expected, `${JSON.stringify(params)} binds to ${shown}, not ${wanted}`);
}

describe("parameter sets and dispatch order (SPEC §2)", () => {
  test("each set binds to its flow", () => {
    const bindings: [NewPartnerAccessTokenParams, Binding][] = [
      [{ accessToken: "t", applicationId: app, scopes }, ["AccessToken", "accessToken", false]],
      [{ refreshToken: "r", applicationId: app, scopes }, ["RefreshToken", "refreshToken", false]],
      [
        { refreshToken: "r", credential, scopes, tenant: "t" },
        ["RefreshToken", "refreshToken", true],
      ],
      [
        { applicationId: app, credential, scopes, tenant: "t", servicePrincipal: true },
        ["ServicePrincipal", "clientCredentials", true],
      ],
      [
        {
          applicationId: app,
          credential,
          scopes,
          tenant: "t",
          servicePrincipal: true,
          useAuthorizationCode: true,
        },
        ["ServicePrincipal", "authorizationCode", true],
      ],
      [
        { applicationId: app, certificateThumbprint: "AB".repeat(20), scopes, tenant: "t" },
        ["ServicePrincipalCertificate", "clientCredentials", true],
      ],
      [{ applicationId: app, scopes }, ["User", "authorizationCode", false]],
      [
        { applicationId: app, scopes, useDeviceAuthentication: true },
        ["User", "deviceCode", false],
      ],
      [{ module: "ExchangeOnline" }, ["ByModule", "deviceCode", false]],
      [{ module: "ExchangeOnline", refreshToken: "r" }, ["ByModule", "refreshToken", false]],
    ];
    for (const [params, binding] of bindings) assertBinds(params, binding);
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
    const sp = { applicationId: app, scopes, servicePrincipal: true, authority };
    const bindings: [NewPartnerAccessTokenParams, Binding][] = [
      [{ ...sp, credential }, ["ServicePrincipal", "clientCredentials", true]],
      [
        { ...sp, credential, useAuthorizationCode: true },
        ["ServicePrincipal", "authorizationCode", true],
      ],
      [
        { ...sp, certificatePath: "app.pem" },
        ["ServicePrincipalCertificate", "clientCredentials", true],
      ],
      // A tenant is still allowed where the cmdlet allows it.
      [{ ...sp, credential, tenant: "t" }, ["ServicePrincipal", "clientCredentials", true]],
    ];
    for (const [params, binding] of bindings) assertBinds(params, binding);
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
