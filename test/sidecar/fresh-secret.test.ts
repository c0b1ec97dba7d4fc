/**
 * `serve` runs for days: with `--refresh-token-store` and `--credential file:…` (a store), each
 * renewal reads the secret from the store then, so a rotated secret is used without a restart —
 * and a store holding a refused secret is refused at the next renewal, not silently ignored.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  MAIN,
  emuFlags,
  GRAPH,
  startTestEmulator,
  tempDir,
  type Emulator,
} from "../cli/helpers.ts";
import { sessionEnv } from "../session/helpers.ts";
import { seedStore } from "../stores/helpers.ts";

function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("serve reads a secret kept in a store at each renewal", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu?.close());

  test("a changed secret in the store is what the next renewal signs in with", async () => {
    const dir = await tempDir("pt-serve-secret-");
    const rt = join(dir, "rt");
    const seeded = await seedStore(emu, `file:${rt}`);
    assert.equal(seeded.code, 0, seeded.stderr);
    const { clientId, clientSecret } = emu.info.apps.confidential;
    const secretFile = join(dir, "secret");
    await writeFile(secretFile, clientSecret, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [
        MAIN,
        "serve",
        "--refresh-token-store",
        `file:${rt}`,
        "--application-id",
        clientId,
        "--credential",
        `file:${secretFile}`,
        ...emuFlags(emu),
      ],
      {
        env: { PATH: process.env.PATH ?? "", ...(await sessionEnv()) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise((resolve) => child.on("close", resolve));
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          if (out.includes("\n")) resolve(out.split("\n")[0]!);
        });
        setTimeout(() => reject(new Error(`serve did not get ready: ${stderr}`)), 60_000);
      });
      const info = JSON.parse(ready) as { port: number; identityHeader: string };
      const tokenIn = (tenant: string) =>
        get(
          `http://127.0.0.1:${info.port}/tenants/${tenant}/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(GRAPH)}`,
          { "X-IDENTITY-HEADER": info.identityHeader },
        );
      const [a, b, c] = emu.info.customers;
      const first = await tokenIn(a!.id);
      assert.equal(first.status, 200, first.body);

      // Another secret in the store: the next renewal (another tenant) signs in with it.
      await writeFile(secretFile, "not-the-apps-secret", { mode: 0o600 });
      const refused = await tokenIn(b!.id);
      assert.notEqual(refused.status, 200, refused.body);
      assert.match(refused.body + stderr, /AADSTS7000215/);

      // The right one back, as a rotation leaves it: picked up with no restart.
      await writeFile(secretFile, clientSecret, { mode: 0o600 });
      const again = await tokenIn(c!.id);
      assert.equal(again.status, 200, again.body);
      assert.ok(!stderr.includes(clientSecret), "the secret is not in serve's log");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  });
});
