/**
 * The cache key in a real Secret Service: Debian's gnome-keyring under dbus-run-session, started
 * and stopped by the test. The key is then in the keyring and not on disk; a keyring that does not
 * answer is a clear error that loses nothing; with no keyring at all, the key file and its warning.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import {
  GRAPH,
  MAIN,
  emuFlags,
  runCli,
  startTestEmulator,
  tempDir,
  verifyEmulatorToken,
  type Emulator,
} from "../cli/helpers.ts";
import { filesUnder, sessionEnv } from "./helpers.ts";

function sh(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|DBUS_)/.test(k)) base[k] = v;
    execFile(
      "dbus-run-session",
      ["--", "sh", "-c", script],
      { env: { ...base, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT")
          return reject(
            new Error(
              "dbus-run-session is missing: install Debian's dbus and gnome-keyring (scripts/install-system-deps.sh)",
            ),
          );
        resolve({
          code: error ? Number((error as { code?: unknown }).code ?? 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe("the cache key in the OS keyring", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startTestEmulator();
  });
  after(() => emu.close());

  test("with a Secret Service the key is in the keyring, not on disk; without it, a clear error and nothing lost", async () => {
    const home = await tempDir("pt-home-");
    const env = { ...(await sessionEnv()), HOME: home, XDG_DATA_HOME: join(home, "share") };
    delete (env as Record<string, string>).PARTNER_TOKEN_KEYRING;
    const out = await tempDir("pt-out-");
    const node = `'${process.execPath}' '${MAIN}'`;
    const script = `
      echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      ${node} connect --use-device-authentication ${emuFlags(emu)
        .map((a) => `'${a}'`)
        .join(" ")} >${out}/connect.json 2>${out}/connect.err; echo $? >${out}/connect.code
      ${node} token --scopes ${GRAPH} >${out}/token.json 2>${out}/token.err; echo $? >${out}/token.code
      secret-tool search --all service partner-token >${out}/search.txt 2>&1
      exit 0`;
    const run = await sh(script, env);
    assert.equal(run.code, 0, run.stderr);
    const read = (name: string) => readFile(join(out, name), "utf8");
    assert.equal((await read("connect.code")).trim(), "0", await read("connect.err"));
    assert.doesNotMatch(await read("connect.err"), /no OS keyring answered/);
    assert.equal((await read("token.code")).trim(), "0", await read("token.err"));
    await verifyEmulatorToken(emu, JSON.parse(await read("token.json")).accessToken, {
      audience: "https://graph.microsoft.com",
    });
    assert.match(await read("search.txt"), /cache-key:/, "the key is in the Secret Service");
    const keyFiles = (await filesUnder(env.PARTNER_TOKEN_KEY_DIR)).filter((f) => !f.isDir);
    assert.deepEqual(keyFiles, [], "no key file on disk");
    const marker = JSON.parse(
      await readFile(join(env.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.key.json"), "utf8"),
    );
    assert.equal(marker.location, "keyring");

    // The same cache with no keyring answering: a clear error, exit 1, the session untouched.
    const profile = join(env.PARTNER_TOKEN_CACHE_DIR, "profiles", "default.json");
    const before = await readFile(profile, "utf8");
    const refused = await runCli(["token", "--scopes", GRAPH, "--force-refresh"], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /kept in the OS keyring, which did not answer/);
    assert.match(refused.stderr, /Unlock the keyring[\s\S]*Nothing was changed/);
    assert.equal(await readFile(profile, "utf8"), before, "nothing lost");
    const status = await runCli(["status"], { env });
    assert.equal(status.code, 1);

    // And back in a session with the keyring, it works again.
    const again = await sh(
      `echo -n test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ${node} token --scopes ${GRAPH} --query accessToken -o tsv`,
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout.trim(), /^eyJ/);
  });

  test("no keyring at all: the key goes to a key file 0600 outside the cache folder, with a one-time warning", async () => {
    const env = await sessionEnv();
    delete (env as Record<string, string>).PARTNER_TOKEN_KEYRING;
    const first = await runCli(["connect", "--use-device-authentication", ...emuFlags(emu)], {
      env,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stderr,
      /no OS keyring answered, so the key that encrypts the token cache is in .*\.key \(mode 0600\)/,
    );
    const second = await runCli(["token", "--scopes", GRAPH], { env });
    assert.equal(second.code, 0, second.stderr);
    assert.doesNotMatch(second.stderr, /no OS keyring answered/, "said once");
    const keys = (await filesUnder(env.PARTNER_TOKEN_KEY_DIR)).filter((f) => !f.isDir);
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.mode, 0o600);
    assert.ok(!keys[0]!.path.startsWith(env.PARTNER_TOKEN_CACHE_DIR));

    // The key file removed: the session cannot be read; it is set aside and sign-in is asked for.
    await writeFile(keys[0]!.path, "");
    await chmod(keys[0]!.path, 0o600);
    const lost = await runCli(["token", "--scopes", GRAPH], { env });
    assert.equal(lost.code, 4, lost.stderr);
    assert.match(lost.stderr, /the key that encrypts it is gone/);
  });
});
