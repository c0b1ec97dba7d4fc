/**
 * `file:PATH` and `--save-refresh-token`: atomic, 0600, written through a symbolic link, never
 * overwritten with an empty or malformed value; and the store proof through the command line.
 */
import assert from "node:assert/strict";
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openRefreshTokenStore, StoreError } from "../../src/stores/index.ts";
import {
  emuFlags,
  GRAPH,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  writeFetchBrowser,
  type Emulator,
} from "../cli/helpers.ts";
import { cliEnv, proveStore, seedStore } from "./helpers.ts";

const TOKEN_A = "0.AAAA-first-refresh-token-value";
const TOKEN_B = "0.BBBB-second-refresh-token-value";

describe("file: store", () => {
  it("writes atomically with mode 0600 and reads back with its time", async () => {
    const dir = await tempDir();
    const path = join(dir, "rt");
    const store = await openRefreshTokenStore(`file:${path}`);
    assert.equal(await store.read(), null);
    await store.write(TOKEN_A);
    const info = await stat(path);
    assert.equal(info.mode & 0o777, 0o600);
    const read = await store.read();
    assert.equal(read?.token, TOKEN_A);
    assert.ok(read?.updatedAt && Math.abs(read.updatedAt - Date.now()) < 60_000);
    await store.write(TOKEN_B);
    assert.equal(await readFile(path, "utf8"), TOKEN_B + "\n");
    assert.deepEqual(await readdir(dir), ["rt"], "no temporary file is left");
  });

  it("refuses an empty or malformed value and leaves the file as it was", async () => {
    const path = join(await tempDir(), "rt");
    const store = await openRefreshTokenStore(`file:${path}`);
    await store.write(TOKEN_A);
    for (const bad of ["", "short", "two\nlines-of-token-text", "spaces in a token value"])
      await assert.rejects(store.write(bad), (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.match(e.message, /Refusing to write/);
        assert.ok(!e.message.includes(bad) || bad === "", "the value is not echoed");
        return true;
      });
    assert.equal(await readFile(path, "utf8"), TOKEN_A + "\n");
  });

  it("writes through a symbolic link to its target, in the target's folder", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "secrets"));
    const target = join(dir, "secrets", "rt");
    await writeFile(target, TOKEN_A + "\n", { mode: 0o600 });
    const link = join(dir, "rt-link");
    await symlink(join("secrets", "rt"), link);
    const store = await openRefreshTokenStore(`file:${link}`);
    await store.write(TOKEN_B);
    assert.ok((await lstat(link)).isSymbolicLink(), "the link is still a link");
    assert.equal(await readlink(link), join("secrets", "rt"));
    assert.equal(await readFile(target, "utf8"), TOKEN_B + "\n");
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, "secrets")), ["rt"]);
    assert.equal((await store.read())?.token, TOKEN_B);
  });

  it("writes a dangling link's target when its folder exists, and refuses when it does not", async () => {
    const dir = await tempDir();
    const link = join(dir, "rt-link");
    await symlink(join(dir, "new-rt"), link);
    await (await openRefreshTokenStore(`file:${link}`)).write(TOKEN_A);
    assert.equal(await readFile(join(dir, "new-rt"), "utf8"), TOKEN_A + "\n");
    assert.ok((await lstat(link)).isSymbolicLink());

    const broken = join(dir, "broken-link");
    await symlink(join(dir, "missing", "rt"), broken);
    await assert.rejects(
      (await openRefreshTokenStore(`file:${broken}`)).write(TOKEN_A),
      /symbolic link to .*missing.*whose folder does not exist; nothing was written/,
    );
  });

  it("refuses a folder", async () => {
    const dir = await tempDir();
    await assert.rejects(
      (await openRefreshTokenStore(`file:${dir}`)).write(TOKEN_A),
      /is not a regular file; nothing was written/,
    );
  });
});

describe("file: store through the command line", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  it("connect --refresh-token-store: the session keeps its refresh token in the store", async () => {
    const path = join(await tempDir(), "rt");
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const env = await cliEnv({ APP_SECRET: clientSecret });
    const connected = await runCli(
      [
        "connect",
        "--service-principal",
        "--use-authorization-code",
        "--application-id",
        clientId,
        "--credential",
        "env:APP_SECRET",
        "--tenant",
        emu.info.partnerTenant.id,
        "--refresh-token-store",
        `file:${path}`,
        ...emuFlags(emu),
      ],
      { env: { ...env, BROWSER: await writeFetchBrowser(emu.info.caFile) } },
    );
    assert.equal(connected.code, 0, connected.stderr);
    const first = (await readFile(path, "utf8")).trim();
    assert.ok(first.length > 16, "connect wrote the refresh token to the store");
    const token = await runCli(
      ["token", "--scopes", GRAPH, "--tenant", emu.info.customers[2]!.domain],
      { env },
    );
    assert.equal(token.code, 0, token.stderr);
    await verifyEmulatorToken(emu, token.json.accessToken, { tenantId: emu.info.customers[2]!.id });
    const second = (await readFile(path, "utf8")).trim();
    assert.notEqual(second, first, "the session's renewal rotated the token in the store");
  });

  it("new: a store that cannot be written is exit 1, with the new token still on stdout", async () => {
    const folder = await tempDir();
    const r = await seedStore(emu, `file:${folder}`, { scopes: GRAPH });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.json?.refreshToken, "the result, with the new refresh token, is printed");
    assert.match(r.stderr, /could not save the refresh token to file:.*is not a regular file/);
    assert.match(r.stderr, /the new refresh token is in the result on stdout/);
  });

  it("sign-in writes, token in a customer tenant rotates, a revoked token exits 4 and leaves it", async () => {
    const path = join(await tempDir(), "rt");
    await proveStore(emu, `file:${path}`, async () => {
      try {
        return (await readFile(path, "utf8")).trim();
      } catch {
        return null;
      }
    });
  });
});
