/**
 * `openStoreSession`: the library's session over a refresh-token store, with no profile — what
 * `token --refresh-token-store` runs, for a program.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MemoryTokenCache, openRefreshTokenStore, openStoreSession } from "../../src/index.ts";
import {
  GRAPH,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  type Emulator,
} from "../cli/helpers.ts";
import { seedStore } from "../stores/helpers.ts";
import { refreshGrants } from "./helpers.ts";

describe("openStoreSession", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  it("redeems the store's refresh token, writes the rotated one back, caches, and tells who it is", async () => {
    const path = join(await tempDir("pt-store-session-"), "rt");
    const seeded = await seedStore(emu, `file:${path}`);
    assert.equal(seeded.code, 0, seeded.stderr);
    const first = (await readFile(path, "utf8")).trim();

    const { clientId, clientSecret } = emu.info.apps.confidential;
    const session = await openStoreSession({
      store: await openRefreshTokenStore(`file:${path}`),
      applicationId: clientId,
      clientSecret,
      authorityHost: emu.info.url,
      caFile: emu.info.caFile!,
      cache: new MemoryTokenCache(),
    });
    try {
      assert.equal(session.info.applicationId, clientId);
      assert.equal(session.info.kind, "user");
      assert.equal(session.info.environment.authorityHost, emu.info.url);
      assert.match(session.info.profile, /^store-[0-9a-f]{12}$/);

      const customer = emu.info.customers[0]!;
      const grants = refreshGrants(emu);
      const token = await session.getToken({ scopes: [GRAPH], tenant: customer.domain });
      await verifyEmulatorToken(emu, token.accessToken, { tenantId: customer.id });
      assert.equal(token.refreshToken, null, "the refresh token stays in the store");
      const second = (await readFile(path, "utf8")).trim();
      assert.notEqual(second, first, "the rotated refresh token was written back");

      const again = await session.getToken({ scopes: [GRAPH], tenant: customer.domain });
      assert.equal(again.accessToken, token.accessToken, "the second answer is the cached token");
      assert.equal(refreshGrants(emu), grants + 1, "one redemption for both");
    } finally {
      await session.close();
    }
  });
});
