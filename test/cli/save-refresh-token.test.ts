/**
 * --save-refresh-token: the rotated refresh token is written back atomically and privately, and
 * never replaced by nothing or by a failed sign-in's leftovers.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { saveFailureMessage } from "../../src/cli/save-refresh-token.ts";
import { StoreError } from "../../src/stores/errors.ts";
import { emuFlags, GRAPH, runCli, startTestEmulator, tempDir, type Emulator } from "./helpers.ts";

describe("new --save-refresh-token", () => {
  let emu: Emulator;
  let ca: string;
  before(async () => {
    emu = await startTestEmulator();
    ca = await readFile(emu.info.caFile!, "utf8");
  });
  after(() => emu?.close());

  /** A refresh token of the public app, from the emulator's password grant. */
  function signIn(): Promise<string> {
    const body = new URLSearchParams({
      client_id: emu.info.apps.public.clientId,
      grant_type: "password",
      username: emu.info.user.username,
      password: emu.info.user.password,
      scope: `offline_access ${GRAPH}`,
    }).toString();
    return new Promise((resolve, reject) => {
      const req = request(
        `${emu.info.url}/organizations/oauth2/v2.0/token`,
        { method: "POST", ca, headers: { "content-type": "application/x-www-form-urlencoded" } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c));
          res.on("end", () => resolve(JSON.parse(text).refresh_token));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  const refresh = (file: string, extra: string[] = []) =>
    runCli([
      "new",
      "--refresh-token",
      `@${file}`,
      "--save-refresh-token",
      file,
      "--application-id",
      emu.info.apps.public.clientId,
      "--scopes",
      GRAPH,
      ...extra,
      ...emuFlags(emu),
    ]);

  it("replaces the file with the rotated token, mode 0600, leaving no temporary file", async () => {
    const dir = await tempDir("pt-save-");
    const file = join(dir, "refresh-token");
    const first = await signIn();
    await writeFile(file, first + "\n", { mode: 0o644 });
    const r = await refresh(file);
    assert.equal(r.code, 0, r.stderr);
    const saved = (await readFile(file, "utf8")).trim();
    assert.equal(saved, r.json.refreshToken);
    assert.notEqual(saved, first);
    if (process.platform !== "win32") assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ["refresh-token"]);
    // And the saved one works for the next run.
    const again = await refresh(file);
    assert.equal(again.code, 0, again.stderr);
    assert.notEqual((await readFile(file, "utf8")).trim(), saved);
  });

  it("leaves the file as it was when the sign-in fails", async () => {
    const dir = await tempDir("pt-save-");
    const file = join(dir, "refresh-token");
    const token = await signIn();
    await writeFile(file, token + "\n");
    emu.revoke({ refreshToken: token });
    const r = await refresh(file);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(await readFile(file, "utf8"), token + "\n");
    assert.deepEqual(await readdir(dir), ["refresh-token"]);
  });

  it("writes nothing when the server issues no refresh token (client credentials)", async () => {
    const dir = await tempDir("pt-save-");
    const file = join(dir, "refresh-token");
    await writeFile(file, "previous-value\n");
    const app = emu.info.apps.confidential;
    const r = await runCli(
      [
        "new",
        "-ApplicationId",
        app.clientId,
        "-Credential",
        "env:S",
        "-ServicePrincipal",
        "-Tenant",
        emu.info.partnerTenant.id,
        "-Scopes",
        GRAPH,
        "--save-refresh-token",
        file,
        ...emuFlags(emu),
      ],
      { env: { S: app.clientSecret } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /issued no refresh token; .* was left as it was/);
    assert.equal(await readFile(file, "utf8"), "previous-value\n");
  });

  it("refuses a file in a folder that does not exist, before signing in", async () => {
    const tokenCalls = () => emu.requests().filter((e) => e.path.endsWith("/token")).length;
    const before = tokenCalls();
    const r = await refresh(join(await tempDir("pt-save-"), "missing", "refresh-token"));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--save-refresh-token: no folder/);
    assert.equal(tokenCalls(), before, "no token request was made");
  });
});

describe("the message when saving fails", () => {
  it("says each thing once, and ends each sentence with one period", () => {
    const refused = new StoreError(
      "ERR_STORE_MALFORMED_VALUE",
      "file:/t/rt",
      "Refusing to write a value that is not a printable single-line refresh token to file:/t/rt; it was left as it was.",
    );
    const text = saveFailureMessage("file:/t/rt", refused);
    assert.equal(text.match(/left as it was/g)?.length, 1, text);
    assert.doesNotMatch(text, /\.\./);
    assert.match(text, /new refresh token is in the result on stdout\.$/);
    const other = saveFailureMessage("keyvault:https://v/secrets/rt", new Error("Forbidden."));
    assert.equal(
      other,
      "could not save the refresh token to keyvault:https://v/secrets/rt: Forbidden. keyvault:https://v/secrets/rt was left as it was; the new refresh token is in the result on stdout.",
    );
  });
});
