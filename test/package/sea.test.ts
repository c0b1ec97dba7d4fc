/**
 * The standalone executable (scripts/build-sea.ts), run the way a machine without Node runs it:
 * from a folder of its own, with a PATH on which there is no `node`, and nothing inherited from
 * this process's environment. Its own emulator serves the client-credentials token.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildSea } from "../../scripts/build-sea.ts";
import {
  claims,
  clientCredentials,
  GRAPH,
  run,
  servicePrincipal,
  startEmulator,
} from "./helpers.ts";

let dir: string;
let exe: string;
let env: NodeJS.ProcessEnv;

/** Building and installing takes minutes on a busy machine, not seconds. */
const SLOW = { timeout: 600_000 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pt-sea-"));
  const built = await buildSea(join(dir, "build"));
  // A folder of its own, as a user would drop the binary into /usr/local/bin or C:\Tools.
  const tools = join(dir, "tools");
  await mkdir(tools);
  exe = join(tools, "partner-token");
  await copyFile(built, exe);
  await rm(join(dir, "build"), { recursive: true });
  const home = join(dir, "home");
  await mkdir(home);
  // The PATH holds only the executable's folder: no node, no npm.
  env = { PATH: tools, HOME: home };
}, SLOW);
after(() => rm(dir, { recursive: true, force: true }));

test("there is no node on the PATH the executable runs with", async () => {
  const which = await run("/bin/sh", ["-c", "command -v node || echo none"], env);
  assert.equal(which.stdout.trim(), "none");
});

test("--version and environments", async () => {
  const version = await run(exe, ["--version"], env);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.equal(version.stderr, "");

  const environments = await run(exe, ["environments"], env);
  assert.equal(environments.code, 0, environments.stderr);
  const list = JSON.parse(environments.stdout) as { name: string }[];
  assert.deepEqual(
    list.map((e) => e.name),
    [
      "AzureCloud",
      "AzureChinaCloud",
      "AzureGermanCloud",
      "AzurePPE",
      "AzureUSGovernment",
      "Emulator",
    ],
  );
  assert.equal(environments.stderr, "", "no warning from the runtime");
});

test("a client-credentials token and a session from the executable's own emulator", async () => {
  const emulator = await startEmulator(exe, [], join(dir, "emulator"), env);
  try {
    const { info } = emulator;
    const result = await run(
      exe,
      [...clientCredentials(info), "--query", "accessToken", "-o", "tsv"],
      {
        ...env,
        CLIENT_SECRET: info.apps.confidential.clientSecret,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const token = claims(result.stdout.trim());
    assert.equal(token.appid ?? token.azp, info.apps.confidential.clientId);
    assert.equal(token.tid, info.partnerTenant.id);
    assert.equal(token.aud, GRAPH.replace("/.default", ""));
    assert.ok(!result.stderr.includes(info.apps.confidential.clientSecret));

    // A session too: no OS keyring can be loaded here, so its key goes to a key file.
    const connect = await run(exe, ["connect", ...servicePrincipal(info)], {
      ...env,
      CLIENT_SECRET: info.apps.confidential.clientSecret,
    });
    assert.equal(connect.code, 0, connect.stderr);
    const cached = await run(
      exe,
      ["token", "--scopes", GRAPH, "--query", "accessToken", "-o", "tsv"],
      env,
    );
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(claims(cached.stdout.trim()).tid, info.partnerTenant.id);
  } finally {
    await emulator.stop();
  }
});
