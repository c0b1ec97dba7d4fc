/**
 * `connect --credential file:…` on the command line: the session reads the store at each renewal,
 * and a store that cannot be read then is exit 1 naming it — the session is not marked as needing
 * a sign-in, and works again once the store does.
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  type Emulator,
} from "../cli/helpers.ts";
import { sessionEnv } from "./helpers.ts";

describe("connect --credential with a store, on the command line", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  it("an unreadable store at renewal: exit 1 naming it, status still ok; readable again, the token renews", async () => {
    const env = await sessionEnv();
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const secretFile = join(await tempDir("pt-fresh-cli-"), "secret");
    await writeFile(secretFile, clientSecret, { mode: 0o600 });
    const uri = `file:${secretFile}`;
    const connected = await runCli(
      [
        "connect",
        "--service-principal",
        "--application-id",
        clientId,
        "--credential",
        uri,
        "--tenant",
        emu.info.partnerTenant.id,
        "--scopes",
        GRAPH,
        ...emuFlags(emu),
      ],
      { env },
    );
    assert.equal(connected.code, 0, connected.stderr);

    await rm(secretFile);
    await mkdir(secretFile);
    const broken = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(broken.code, 1, broken.stderr);
    assert.ok(
      broken.stderr.includes(`The client secret could not be read from ${uri}`),
      broken.stderr,
    );
    const status = await runCli(["status", "-o", "json"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.json.state, "ok");

    await rm(secretFile, { recursive: true });
    await writeFile(secretFile, clientSecret, { mode: 0o600 });
    const renewed = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(renewed.code, 0, renewed.stderr);
    for (const text of [connected.stderr, broken.stderr, renewed.stderr, status.stdout])
      assert.ok(!text.includes(clientSecret), "the secret is never shown");
  });
});
