/**
 * `bin/token-cache-hit.cjs`, the synchronous path of a cached `token`: on the same sessions and the
 * same arguments it prints byte for byte what the full CLI prints, and it hands over (prints
 * nothing, returns false) for everything it does not own.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GRAPH, runCli, startTestEmulator, type Emulator } from "../cli/helpers.ts";
import { connectDevice, refreshGrants, sessionEnv, type SessionEnv } from "./helpers.ts";

const FAST = fileURLToPath(new URL("../../bin/token-cache-hit.cjs", import.meta.url));
const HANDED_OVER = 99;

/** Runs only the cache-hit path, in a child with a clean environment plus `env`. */
function runFast(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "" };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|NODE_EXTRA_CA_CERTS|BROWSER$)/.test(k))
      childEnv[k] = v;
  Object.assign(childEnv, env, { FAST_ARGS: JSON.stringify(args) });
  const code = `process.exitCode = require(${JSON.stringify(FAST)})(JSON.parse(process.env.FAST_ARGS)) ? 0 : ${HANDED_OVER};`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", code], { env: childEnv });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stdout, stderr }));
  });
}

describe("the cache-hit path of token", () => {
  let emu: Emulator;
  let env: SessionEnv;
  let customer: string;
  before(async () => {
    emu = await startTestEmulator();
    env = await sessionEnv();
    await connectDevice(emu, env);
    customer = emu.info.customers[0]!.id;
    // A second cached token: Graph in a customer tenant.
    const r = await runCli(["token", "--scopes", GRAPH, "--tenant", customer], { env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => emu.close());

  const hits: string[][] = [
    [],
    ["-o", "json"],
    ["--output", "tsv"],
    ["-o", "none"],
    ["--query", "accessToken", "-o", "tsv"],
    ["--query=accessToken"],
    ["--query", "scopes", "-o", "tsv"],
    ["--query", "account", "-o", "tsv"],
    ["--query", "noSuchField"],
    ["--query", "noSuchField", "-o", "tsv"],
    ["--min-validity", "60"],
  ];

  test("prints byte for byte what the full CLI prints, without a request", async () => {
    const customerArgs = ["--scopes", GRAPH, "--tenant", customer];
    for (const [base, extras] of [
      [[], hits],
      [customerArgs, hits],
      [["--scope", `${GRAPH},${GRAPH}`, "--domain", customer], [[]]],
    ] as Array<[string[], string[][]]>)
      for (const extra of extras) {
        const args = [...base, ...extra];
        const grants = refreshGrants(emu);
        const fast = await runFast(args, env);
        const full = await runCli(["token", ...args], { env });
        assert.equal(full.code, 0, full.stderr);
        assert.equal(fast.code, 0, `handed over: ${args.join(" ")} ${fast.stderr}`);
        assert.equal(fast.stdout, full.stdout, `output differs for: ${args.join(" ")}`);
        assert.equal(fast.stderr, "");
        assert.equal(refreshGrants(emu), grants, "both answered from the cache");
      }
  });

  test("hands everything else to the full CLI, having printed nothing", async () => {
    const handOver: Array<{ args: string[]; env?: Record<string, string> }> = [
      { args: ["-o", "table"] },
      { args: ["--query", "account.username"] },
      { args: ["--query", "[accessToken]"] },
      { args: ["--debug"] },
      { args: ["--force-refresh"] },
      { args: ["-Scopes", GRAPH] }, // PowerShell spelling: the full parser owns it
      { args: ["--scopes"] },
      { args: ["--tenant", ""] },
      { args: ["--tenant", customer, "--tenant", customer] },
      { args: ["--min-validity", "999999"] }, // the cached token expires before that
      { args: ["--min-validity", "soon"] },
      { args: ["--scopes", "https://outlook.office365.com/.default"] }, // not cached
      { args: ["--profile", "other"] }, // no such session
      { args: ["--profile", "../escape"] },
      { args: ["positional"] },
      { args: [], env: { PARTNER_TOKEN_CACHE: "redis://127.0.0.1:1" } },
      { args: ["--cache-dir", join(env.PARTNER_TOKEN_CACHE_DIR, "nowhere")] },
    ];
    for (const { args, env: extra } of handOver) {
      const fast = await runFast(args, { ...env, ...extra });
      assert.equal(fast.code, HANDED_OVER, `should hand over: ${JSON.stringify(args)}`);
      assert.equal(fast.stdout, "", `printed something for: ${JSON.stringify(args)}`);
    }
  });

  test("hands over a key kept in the keyring, an altered file and a newer schema", async () => {
    const own = await sessionEnv();
    await connectDevice(emu, own);
    assert.equal((await runFast([], own)).code, 0);

    const marker = join(own.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.key.json");
    const markerText = await readFile(marker, "utf8");
    await writeFile(marker, JSON.stringify({ location: "keyring", account: "x-default" }));
    assert.equal((await runFast([], own)).code, HANDED_OVER, "keyring");
    await writeFile(marker, markerText);

    const file = join(own.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.json");
    const text = await readFile(file, "utf8");
    const shape = JSON.parse(text);
    const data = Buffer.from(shape.sealed.data, "base64url");
    data[0] = data[0]! ^ 1;
    await writeFile(
      file,
      JSON.stringify({ ...shape, sealed: { ...shape.sealed, data: data.toString("base64url") } }),
    );
    const altered = await runFast([], own);
    assert.equal(altered.code, HANDED_OVER, "altered");
    assert.equal(altered.stdout, "");
    await writeFile(file, JSON.stringify({ ...shape, schema: 2 }));
    assert.equal((await runFast([], own)).code, HANDED_OVER, "newer schema");
    await writeFile(file, text);
    assert.equal((await runFast([], own)).code, 0, "restored");
  });
});
