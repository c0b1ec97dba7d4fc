/** `partner-token emulator` as a process: the ready line on stdout, the rest on stderr, seed errors. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { X509Certificate, createHash } from "node:crypto";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

function run(args: string[]) {
  const child = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const lines: string[] = [];
  const firstLine = new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.on("line", (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    rl.on("close", () => reject(new Error(`no ready line; stderr: ${stderr}`)));
  });
  firstLine.catch(() => {});
  const exit = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return { child, exit, firstLine, lines, stderr: () => stderr };
}

describe("partner-token emulator", () => {
  test("prints exactly one JSON ready line on stdout, with the documented fields", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "emu-cli-"));
    const p = run(["emulator", "--port", "0", "--data-dir", dataDir]);
    const info = JSON.parse(await p.firstLine);
    try {
      assert.match(info.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.caFile, join(dataDir, "ca.pem"));
      assert.equal(info.partnerTenant.domain, "contoso-partner.onmicrosoft.com");
      assert.equal(info.customers.length, 3);
      assert.ok(info.apps.confidential.clientId && info.apps.confidential.clientSecret);
      assert.ok(info.apps.public.clientId);
      assert.ok(info.user.username && info.user.password);
      const certPem = await readFile(info.apps.certificate.certificateFile, "utf8");
      const sha1 = createHash("sha1")
        .update(new X509Certificate(certPem).raw)
        .digest("hex")
        .toUpperCase();
      assert.equal(info.apps.certificate.thumbprint, sha1);
      assert.match(await readFile(info.apps.certificate.keyFile, "utf8"), /PRIVATE KEY/);
      const ca = new X509Certificate(await readFile(info.caFile, "utf8"));
      assert.ok(ca.ca);
      if (process.platform !== "win32") {
        assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
        assert.equal((await stat(join(dataDir, "ca-key.pem"))).mode & 0o777, 0o600);
      }
      assert.match(p.stderr(), /listening on https:\/\/127\.0\.0\.1/);
    } finally {
      p.child.kill("SIGINT");
    }
    assert.equal(await p.exit, 0);
    assert.equal(p.lines.length, 1, "nothing but the ready line on stdout");
  });

  test("--http serves plain HTTP and reports caFile null", async () => {
    const p = run([
      "emulator",
      "--port",
      "0",
      "--http",
      "--data-dir",
      await mkdtemp(join(tmpdir(), "emu-cli-")),
    ]);
    const first = await new Promise<string>((resolve) =>
      createInterface({ input: p.child.stdout }).once("line", resolve),
    );
    const info = JSON.parse(first);
    try {
      assert.match(info.url, /^http:\/\//);
      assert.equal(info.caFile, null);
      const res = await fetch(`${info.url}/organizations/v2.0/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
    } finally {
      p.child.kill("SIGTERM");
    }
    assert.equal(await p.exit, 0);
  });

  test("an invalid seed fails with exit 2 and names every offending key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-seed-"));
    const file = join(dir, "seed.json");
    await writeFile(
      file,
      JSON.stringify({
        tenants: [{ id: "not-a-guid", displayName: "X", domains: ["x.onmicrosoft.com"] }],
        applications: [
          { clientId: "11111111-1111-1111-1111-111111111111", displayName: "A", colour: "red" },
        ],
        users: [
          {
            username: "u@x.onmicrosoft.com",
            password: "p",
            displayName: "U",
            objectId: "22222222-2222-2222-2222-222222222222",
            tenant: "x.onmicrosoft.com",
            mfaCode: "12",
          },
        ],
      }),
    );
    const p = run(["emulator", "--port", "0", "--data-dir", dir, "--seed", file]);
    assert.equal(await p.exit, 2);
    const err = p.stderr();
    assert.match(err, /tenants\[0\]\.id: must be a GUID/);
    assert.match(err, /applications\[0\]: unknown key\(s\) 'colour'/);
    assert.match(err, /users\[0\]\.mfaCode: must be six digits/);
  });

  test("a consistent-looking seed with a dangling reference names the key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emu-seed-"));
    const file = join(dir, "seed.json");
    await writeFile(
      file,
      JSON.stringify({
        tenants: [
          {
            id: "11111111-1111-1111-1111-111111111111",
            displayName: "X",
            domains: ["x.onmicrosoft.com"],
          },
        ],
        relationships: [{ partner: "x.onmicrosoft.com", customer: "missing.onmicrosoft.com" }],
      }),
    );
    const p = run(["emulator", "--port", "0", "--data-dir", dir, "--seed", file]);
    assert.equal(await p.exit, 2);
    assert.match(
      p.stderr(),
      /relationships\[0\]\.customer: no tenant with id or domain 'missing\.onmicrosoft\.com'/,
    );
  });

  test("bad options: exit 2 with the usage", async () => {
    const p = run(["emulator", "--port", "banana"]);
    assert.equal(await p.exit, 2);
    assert.match(p.stderr(), /--port 'banana' is not a port number/);
    const q = run(["emulator", "--frobnicate"]);
    assert.equal(await q.exit, 2);
    assert.match(q.stderr(), /Usage: partner-token emulator/);
  });

  test("--impersonate needs HTTPS; its help names it", async () => {
    const p = run(["emulator", "--impersonate", "--http", "--port", "0"]);
    assert.equal(await p.exit, 2);
    assert.match(p.stderr(), /--impersonate and --http do not go together/);
    const help = run(["emulator", "--help"]);
    assert.equal(await help.exit, 0);
    assert.match(help.lines.join("\n"), /--impersonate +answer under Microsoft's own host names/);
    assert.equal(help.stderr(), "");
  });
});
