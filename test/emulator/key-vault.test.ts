/**
 * The emulator's vaults in the seed: validated with errors that name the key, and served by name
 * (the default vault at the emulator's own origin).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultSeed, SeedError } from "../../src/emulator/index.ts";
import { Harness } from "./harness.ts";

describe("seed: vaults", () => {
  it("names the key of a vault with an unknown tenant, a bad name or an unknown default", async () => {
    const seed = {
      ...defaultSeed,
      vaults: [{ name: "kv-one", tenant: "nowhere.onmicrosoft.com", access: [] }],
      defaults: { ...defaultSeed.defaults, vault: "kv-two" },
    };
    await assert.rejects(Harness.start({ seed }), (e: unknown) => {
      assert.ok(e instanceof SeedError);
      assert.match(
        e.message,
        /vaults\[0\]\.tenant: no tenant with id or domain 'nowhere\.onmicrosoft\.com'/,
      );
      assert.match(e.message, /defaults\.vault: no vault named 'kv-two'/);
      return true;
    });
    await assert.rejects(
      Harness.start({
        seed: { ...defaultSeed, vaults: [{ name: "9_bad", tenant: "fabrikam.onmicrosoft.com" }] },
      }),
      /vaults\[0\]\.name: must be 3-24 letters, digits and dashes/,
    );
  });

  it("serves the default vault at the emulator's origin, and 404 in Key Vault's shape without vaults", async () => {
    const h = await Harness.start({ seed: { ...defaultSeed, vaults: [] } });
    try {
      const r = await h.fetch("/secrets/x?api-version=2026-04-01");
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, "VaultNotFound");
    } finally {
      await h.emu.close();
    }
    const withVault = await Harness.start();
    try {
      const r = await withVault.fetch("/secrets/x?api-version=2026-04-01");
      assert.equal(r.status, 401);
      assert.match(String(r.headers["www-authenticate"]), /resource="https:\/\/vault\.azure\.net"/);
    } finally {
      await withVault.emu.close();
    }
  });
});
