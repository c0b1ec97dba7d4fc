/**
 * `src/app-setup/` against the emulator's Graph: the app made from nothing and made again with no
 * change; a secret rotated (new one stored and proven, old one gone); a store that refuses the
 * write leaves the app and the old secret as they were.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureApp,
  getApplication,
  rotateCertificate,
  rotateSecret,
  RotationError,
  addPassword,
} from "../../src/app-setup/index.ts";
import { GraphClient } from "../../src/graph/client.ts";
import { acquireTokenByClientCredentials, type AuthResult } from "../../src/index.ts";
import { openRefreshTokenStore } from "../../src/stores/index.ts";
import type { RefreshTokenStore } from "../../src/session/types.ts";
import { startEmulatorWithBase, type EmulatorBase } from "../client/helpers.ts";
import type { RunningEmulator } from "../../src/emulator/index.ts";

const GRAPH = "https://graph.microsoft.com";
let emu: RunningEmulator;
let base: EmulatorBase;
let graph: GraphClient;
let partner: string;

/** The default admin's Graph token (password grant with the first-party public client). */
async function adminToken(): Promise<string> {
  const res = await fetchToken({
    client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    grant_type: "password",
    username: emu.info.user.username,
    password: emu.info.user.password,
    scope: `${GRAPH}/.default`,
  });
  return res.access_token;
}

async function fetchToken(form: Record<string, string>): Promise<{ access_token: string }> {
  const { createHttp } = await import("../../src/client/http.ts");
  const http = createHttp({ caFile: base.caFile });
  const res = await http.fetch(`${emu.url}/${partner}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  const json = (await res.json()) as { access_token: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

const prove = (appId: string) => async (secret: string) => {
  await acquireTokenByClientCredentials({
    ...base,
    clientId: appId,
    clientSecret: secret,
    tenant: partner,
    scopes: [`${GRAPH}/.default`],
  });
};

async function works(appId: string, secret: string): Promise<boolean> {
  try {
    await prove(appId)(secret);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  ({ emu, base } = await startEmulatorWithBase());
  partner = emu.info.partnerTenant.id;
  graph = new GraphClient({
    source: {
      getToken: async () => ({ accessToken: await adminToken() }) as AuthResult,
    },
    endpoint: emu.url,
    resource: GRAPH,
    caFile: base.caFile,
  });
});
after(() => emu.close());

describe("app setup", () => {
  test("ensureApp from nothing, then again: the second run changes nothing", async () => {
    const name = `SAM ${Date.now()}`;
    const first = await ensureApp({ graph, displayName: name });
    assert.ok(first.changes.length >= 3, first.changes.join("; "));
    assert.deepEqual(first.redirectUris, ["http://localhost"]);
    assert.ok(
      first.permissions.includes("fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd/user_impersonation"),
    );
    assert.equal(first.application.signInAudience, "AzureADMultipleOrgs");
    const second = await ensureApp({ graph, displayName: name });
    assert.deepEqual(second.changes, []);
    assert.equal(second.applicationId, first.applicationId);
    assert.equal(second.servicePrincipalId, first.servicePrincipalId);
    // A permission added later is the only change of a third run.
    const third = await ensureApp({
      graph,
      displayName: name,
      permissions: [
        { resourceAppId: "00000003-0000-0000-c000-000000000000", scopes: ["User.Read.All"] },
      ],
    });
    assert.equal(third.changes.length, 2, third.changes.join("; "));
    await assert.rejects(
      ensureApp({
        graph,
        displayName: name,
        permissions: [
          { resourceAppId: "00000003-0000-0000-c000-000000000000", scopes: ["No.Such"] },
        ],
      }),
      /has no delegated permission 'No\.Such'/,
    );
  });

  test("rotateSecret: the new secret stored and proven, the old one removed", async () => {
    const app = await ensureApp({ graph, displayName: `Rotate ${Date.now()}` });
    const dir = await mkdtemp(join(tmpdir(), "app-rotate-"));
    const store = await openRefreshTokenStore(`file:${join(dir, "secret")}`);
    const obj = (await getApplication(graph, app.applicationId))!;
    const old = await addPassword(graph, obj.id, {
      displayName: "first",
      endDateTime: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await store.write(old.secretText);
    const result = await rotateSecret({
      graph,
      applicationId: app.applicationId,
      store,
      prove: prove(app.applicationId),
      graceMs: 0,
    });
    assert.deepEqual(result.removed, [old.keyId]);
    const stored = (await store.read())!.token;
    assert.notEqual(stored, old.secretText);
    assert.equal(stored.slice(0, 3), result.hint);
    assert.equal((await stat(join(dir, "secret"))).mode & 0o777, 0o600);
    assert.ok(await works(app.applicationId, stored));
    assert.equal(await works(app.applicationId, old.secretText), false);
    const after = (await getApplication(graph, app.applicationId))!;
    assert.deepEqual(
      after.passwordCredentials!.map((c) => c.keyId),
      [result.keyId],
    );
    assert.ok(!JSON.stringify(result).includes(stored), "the result never holds the secret");
  });

  test("rotateSecret with a store that refuses the write: the new secret removed, the old one still works", async () => {
    const app = await ensureApp({ graph, displayName: `Refused ${Date.now()}` });
    const obj = (await getApplication(graph, app.applicationId))!;
    const old = await addPassword(graph, obj.id, {
      displayName: "first",
      endDateTime: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const refusing: RefreshTokenStore = {
      description: "keyvault:https://refusing.vault.azure.net/secrets/app",
      read: async () => ({ token: old.secretText }),
      write: async () => {
        throw new Error("Forbidden: the caller lacks secrets/set permission");
      },
    };
    const err = await rotateSecret({
      graph,
      applicationId: app.applicationId,
      store: refusing,
      prove: prove(app.applicationId),
      graceMs: 0,
    }).then(
      () => assert.fail("the rotation should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RotationError);
    assert.match(err.message, /secrets\/set permission/);
    assert.match(err.message, /new secret was removed/);
    assert.equal(err.exitCode, 1);
    const after = (await getApplication(graph, app.applicationId))!;
    assert.deepEqual(
      after.passwordCredentials!.map((c) => c.keyId),
      [old.keyId],
    );
    assert.ok(await works(app.applicationId, old.secretText));
  });

  test("rotateSecret whose write fails after it landed: the store given the old secret back, or, when that fails too, the new secret kept working", async () => {
    for (const restoreWorks of [true, false]) {
      const app = await ensureApp({ graph, displayName: `Landed ${restoreWorks} ${Date.now()}` });
      const obj = (await getApplication(graph, app.applicationId))!;
      const old = await addPassword(graph, obj.id, {
        displayName: "first",
        endDateTime: new Date(Date.now() + 86_400_000).toISOString(),
      });
      let held = old.secretText;
      let writes = 0;
      // A vault that takes the value and then times out; the second write (the old one back) works, or is refused.
      const flaky: RefreshTokenStore = {
        description: "keyvault:https://flaky.vault.azure.net/secrets/app",
        read: async () => ({ token: held }),
        write: async (value: string) => {
          writes++;
          if (writes === 1) {
            held = value;
            throw new Error("the operation timed out");
          }
          if (!restoreWorks) throw new Error("Forbidden: the vault refuses writes now");
          held = value;
        },
      };
      const err = await rotateSecret({
        graph,
        applicationId: app.applicationId,
        store: flaky,
        prove: prove(app.applicationId),
        graceMs: 0,
      }).then(
        () => assert.fail("the rotation should fail"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RotationError);
      assert.match(err.message, /writing it to .* failed: the operation timed out/);
      const keys = (await getApplication(graph, app.applicationId))!.passwordCredentials!;
      if (restoreWorks) {
        assert.equal(held, old.secretText, "the store holds the old secret again");
        assert.deepEqual(
          keys.map((c) => c.keyId),
          [old.keyId],
        );
        assert.match(err.message, /new secret was removed/);
      } else {
        assert.notEqual(held, old.secretText);
        assert.equal(keys.length, 2, "the new secret is kept: the store holds it");
        assert.match(err.message, /was kept in the app, since .* holds it/);
      }
      assert.ok(await works(app.applicationId, held), "what the store holds works");
      assert.ok(await works(app.applicationId, old.secretText), "the old secret still works");
    }
  });

  test("rotateCertificate whose write fails after it landed: the store given the old PFX back, the new certificate removed; when that fails too, kept", async () => {
    for (const restoreWorks of [true, false]) {
      const app = await ensureApp({
        graph,
        displayName: `Landed PFX ${restoreWorks} ${Date.now()}`,
      });
      let held: string | null = null;
      let fail = false;
      let restores = 0;
      const store: RefreshTokenStore = {
        description: "keyvault:https://flaky.vault.azure.net/secrets/app-pfx",
        read: async () => (held === null ? null : { token: held }),
        write: async (value: string) => {
          if (!fail) {
            held = value;
            return;
          }
          if (restores++ === 0) {
            held = value; // the vault took it, then the answer timed out
            throw new Error("the operation timed out");
          }
          if (!restoreWorks) throw new Error("Forbidden: the vault refuses writes now");
          held = value;
        },
      };
      const withPfx = (file: string) =>
        acquireTokenByClientCredentials({
          ...base,
          clientId: app.applicationId,
          certificate: { path: file },
          tenant: partner,
          scopes: [`${GRAPH}/.default`],
        });
      const options = {
        graph,
        applicationId: app.applicationId,
        path: store.description,
        store,
        prove: async (file: string) => void (await withPfx(file)),
        graceMs: 0,
      };
      const first = await rotateCertificate(options);
      const firstPfx = held!;
      fail = true;
      const err = await rotateCertificate(options).then(
        () => assert.fail("the rotation should fail"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RotationError);
      assert.match(err.message, /writing it to .* failed: the operation timed out/);
      const keys = (await getApplication(graph, app.applicationId))!.keyCredentials!;
      if (restoreWorks) {
        assert.equal(held, firstPfx, "the store holds the first certificate again");
        assert.deepEqual(
          keys.map((k) => k.keyId),
          [first.keyId],
        );
        assert.match(err.message, /new certificate was removed/);
      } else {
        assert.notEqual(held, firstPfx);
        assert.equal(keys.length, 2, "the new certificate is kept: the store holds it");
        assert.match(err.message, /was kept in the app, since .* holds it/);
      }
      const dir = await mkdtemp(join(tmpdir(), "app-landed-"));
      const file = join(dir, "now.pfx");
      await writeFile(file, Buffer.from(held!, "base64"), { mode: 0o600 });
      await withPfx(file); // what the store holds works
    }
  });

  test("rotateSecret whose proof fails: the new secret never reaches the store", async () => {
    const app = await ensureApp({ graph, displayName: `Unproven ${Date.now()}` });
    const obj = (await getApplication(graph, app.applicationId))!;
    const old = await addPassword(graph, obj.id, {
      displayName: "first",
      endDateTime: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const dir = await mkdtemp(join(tmpdir(), "app-unproven-"));
    const file = join(dir, "secret");
    const store = await openRefreshTokenStore(`file:${file}`);
    await store.write(old.secretText);
    await assert.rejects(
      rotateSecret({
        graph,
        applicationId: app.applicationId,
        store,
        prove: async () => {
          throw new Error("the token endpoint is unreachable");
        },
        graceMs: 0,
      }),
      /proving the new secret failed: the token endpoint is unreachable.*still holds the old secret/,
    );
    assert.equal((await readFile(file, "utf8")).trim(), old.secretText);
    const after = (await getApplication(graph, app.applicationId))!;
    assert.equal(after.passwordCredentials!.length, 1);
  });
});

describe("app setup against Entra's replication delay (settings.replicationDelayMs)", () => {
  let slow: RunningEmulator;
  let slowBase: EmulatorBase;
  let slowGraph: GraphClient;
  before(async () => {
    ({ emu: slow, base: slowBase } = await startEmulatorWithBase({
      settings: { replicationDelayMs: 1500 },
    }));
    const { createHttp } = await import("../../src/client/http.ts");
    const http = createHttp({ caFile: slowBase.caFile });
    slowGraph = new GraphClient({
      source: {
        getToken: async () => {
          const res = await http.fetch(
            `${slow.url}/${slow.info.partnerTenant.id}/oauth2/v2.0/token`,
            {
              method: "POST",
              headers: { "content-type": "application/x-www-form-urlencoded" },
              body: new URLSearchParams({
                client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                grant_type: "password",
                username: slow.info.user.username,
                password: slow.info.user.password,
                scope: `${GRAPH}/.default`,
              }).toString(),
            },
          );
          return {
            accessToken: ((await res.json()) as { access_token: string }).access_token,
          } as AuthResult;
        },
      },
      endpoint: slow.url,
      resource: GRAPH,
      caFile: slowBase.caFile,
    });
  });
  after(() => slow.close());

  test("ensureApp waits for the new app before its service principal; rotateSecret waits for the new secret", async () => {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const app = await ensureApp({
      graph: slowGraph,
      displayName: `Replicated ${Date.now()}`,
      log,
      replication: { delayMs: 300, tries: 20 },
    });
    assert.ok(
      lines.some((l) => /Waiting for Entra ID to replicate the new application/.test(l)),
      lines.join("\n"),
    );
    const dir = await mkdtemp(join(tmpdir(), "app-replicated-"));
    const store = await openRefreshTokenStore(`file:${join(dir, "secret")}`);
    const proveSlow = async (secret: string) => {
      await acquireTokenByClientCredentials({
        ...slowBase,
        clientId: app.applicationId,
        clientSecret: secret,
        tenant: slow.info.partnerTenant.id,
        scopes: [`${GRAPH}/.default`],
      });
    };
    lines.length = 0;
    const result = await rotateSecret({
      graph: slowGraph,
      applicationId: app.applicationId,
      store,
      prove: proveSlow,
      graceMs: 0,
      log,
      replication: { delayMs: 300, tries: 20 },
    });
    assert.ok(
      lines.some((l) => /Waiting for Entra ID to replicate the new secret/.test(l)),
      lines.join("\n"),
    );
    assert.equal((await store.read())!.token.slice(0, 3), result.hint);
  });
});
