/** Shared by the Graph tests: tokens from the emulator's token endpoint, Graph calls, Graph's error shape. */
import assert from "node:assert/strict";
import type { Harness, Response } from "./harness.ts";

export const GRAPH = "https://graph.microsoft.com";
export const PC = "https://api.partnercenter.microsoft.com";
export const PARTNER = "475cad49-99e1-453e-8ff2-ae87738d9b23";
export const AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
export const SALES = {
  username: "sales@contoso-partner.onmicrosoft.com",
  password: "Emulator-Sales-Passw0rd!",
};
export const GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
export const CLOUD_APP_ADMIN = "158c047a-c907-4556-b7ef-446551a6b5f7";

/** A user's access token (password grant) at `tenant` for `scope`. */
export async function userToken(
  h: Harness,
  opts: {
    scope?: string;
    tenant?: string;
    client?: string;
    username?: string;
    password?: string;
  } = {},
): Promise<string> {
  const res = await h.token(opts.tenant ?? PARTNER, {
    client_id: opts.client ?? h.info.apps.public.clientId,
    grant_type: "password",
    username: opts.username ?? h.info.user.username,
    password: opts.password ?? h.info.user.password,
    scope: opts.scope ?? `${GRAPH}/.default`,
  });
  assert.equal(res.status, 200, res.text);
  return String(res.json["access_token"]);
}

/** A refresh token of the default user for the Azure CLI's app (installed everywhere). */
export async function refreshToken(h: Harness, client = AZURE_CLI): Promise<string> {
  const res = await h.token(PARTNER, {
    client_id: client,
    grant_type: "password",
    username: h.info.user.username,
    password: h.info.user.password,
    scope: `${GRAPH}/.default offline_access`,
  });
  assert.equal(res.status, 200, res.text);
  return String(res.json["refresh_token"]);
}

/** The refresh grant at a customer tenant: a Graph token there, or the error. */
export function customerToken(
  h: Harness,
  tenant: string,
  rt: string,
  extra: Record<string, string> = {},
  client = AZURE_CLI,
): Promise<Response> {
  return h.token(tenant, {
    client_id: client,
    grant_type: "refresh_token",
    refresh_token: rt,
    scope: `${GRAPH}/.default`,
    ...extra,
  });
}

export function graph(
  h: Harness,
  token: string | undefined,
  path: string,
  init: { method?: string; json?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return h.fetch(path, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      "client-request-id": "0d6c5f2a-1b3e-4c5d-8e9f-0a1b2c3d4e5f",
      ...init.headers,
    },
  });
}

/** Asserts Graph's error shape and headers; returns the code. */
export function graphError(res: Response, status: number, code?: string): string {
  assert.equal(res.status, status, res.text);
  const e = res.json["error"];
  assert.equal(typeof e?.code, "string", res.text);
  assert.equal(typeof e.message, "string");
  assert.match(e.innerError?.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(e.innerError["request-id"], res.headers["request-id"]);
  assert.equal(e.innerError["client-request-id"], "0d6c5f2a-1b3e-4c5d-8e9f-0a1b2c3d4e5f");
  assert.equal(res.headers["client-request-id"], "0d6c5f2a-1b3e-4c5d-8e9f-0a1b2c3d4e5f");
  if (code) assert.equal(e.code, code, res.text);
  return e.code;
}
