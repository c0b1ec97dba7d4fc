/**
 * The keyring checks, run by keyring.test.ts inside a private D-Bus session with an unlocked
 * gnome-keyring (Secret Service): a real keyring, never the user's own.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { openRefreshTokenStore } from "../../src/stores/index.ts";
import { startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { proveStore } from "./helpers.ts";

const run = promisify(execFile);

/** What secret-tool (libsecret, independent of partner-token) finds under the entry. */
async function lookup(name: string): Promise<string | null> {
  try {
    const { stdout } = await run("secret-tool", [
      "lookup",
      "service",
      "partner-token",
      "username",
      name,
    ]);
    return stdout === "" ? null : stdout.replace(/\n$/, "");
  } catch {
    return null;
  }
}

describe("keyring: store (Secret Service)", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  it("writes and reads under the service partner-token, as secret-tool sees it", async () => {
    const name = `test-${randomBytes(4).toString("hex")}`;
    const store = await openRefreshTokenStore(`keyring:${name}`);
    assert.equal(await store.read(), null);
    await store.write("0.AAAA-keyring-refresh-token-one");
    assert.equal((await store.read())?.token, "0.AAAA-keyring-refresh-token-one");
    assert.equal(await lookup(name), "0.AAAA-keyring-refresh-token-one");
    await assert.rejects(store.write("bad value"), /Refusing to write/);
    assert.equal(await lookup(name), "0.AAAA-keyring-refresh-token-one");
  });

  it("sign-in writes, token rotates, a revoked token exits 4 and leaves it", async () => {
    const name = `cli-${randomBytes(4).toString("hex")}`;
    await proveStore(emu, `keyring:${name}`, () => lookup(name));
  });
});
