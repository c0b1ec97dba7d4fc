/** The cache key's keyring addon, required without @napi-rs/keyring's loader: the same classes. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { keyringAddon } from "../../src/session/cache-key.ts";

it("the platform's addon directly gives the loader's own Entry and AsyncEntry", async () => {
  const direct = await keyringAddon();
  const throughLoader = await import("@napi-rs/keyring");
  assert.equal(typeof direct.Entry, "function");
  assert.equal(direct.Entry, throughLoader.Entry);
  assert.equal(direct.AsyncEntry, throughLoader.AsyncEntry);
});
