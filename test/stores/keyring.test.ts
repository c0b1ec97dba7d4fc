/**
 * `keyring:` against a real Secret Service: gnome-keyring in a private D-Bus session
 * (`dbus-run-session`), unlocked with a throwaway password, with the checks of keyring-session.ts
 * running inside it. And without any keyring: a clear error.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { runCli } from "../cli/helpers.ts";

const SESSION = fileURLToPath(new URL("./keyring-session.ts", import.meta.url));

describe("keyring: store", () => {
  it("passes its checks inside a D-Bus session with gnome-keyring", async () => {
    const home = await mkdtemp(join(tmpdir(), "pt-keyring-home-"));
    const script =
      "echo -n throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null; " +
      // Its own test run reporting TAP, not a child of this run (NODE_TEST_CONTEXT would make it one).
      `exec env -u NODE_TEST_CONTEXT "${process.execPath}" --test-reporter=tap --test-timeout=120000 "${SESSION}"`;
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn("dbus-run-session", ["--", "sh", "-c", script], {
        // A home and runtime folder of its own: the keyring files are the test's, not the user's.
        env: {
          ...process.env,
          HOME: home,
          XDG_DATA_HOME: join(home, ".local", "share"),
          XDG_RUNTIME_DIR: home,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("close", (code) => resolve({ code, output }));
    });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /# pass 2/);
  });

  it("without a keyring: a clear error, exit 1, no stack trace", async () => {
    const r = await runCli(
      [
        "token",
        "--refresh-token-store",
        "keyring:nowhere",
        "--application-id",
        "af692826-33ec-40b1-8655-1bee077c3a4d",
        "--scopes",
        "https://graph.microsoft.com/.default",
        "--authority-host",
        "https://127.0.0.1:9",
      ],
      {
        env: {
          DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus",
          PARTNER_TOKEN_KEYRING: "off",
        },
      },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /The OS keyring did not let partner-token (open|read) keyring:nowhere/);
    assert.match(r.stderr, /Secret Service/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
