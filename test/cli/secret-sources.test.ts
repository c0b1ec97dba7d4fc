/**
 * Secrets come from a source, never the command line: a literal is refused (exit 2) with the
 * safe spellings and is not echoed; `-`, `@file` and `env:NAME` are accepted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  GRAPH,
  runCli,
  secretFile,
  servicePrincipalArgs,
  startTestEmulator,
  type Emulator,
} from "./helpers.ts";

const literal = "Zx8Q~literal.secret.value_0123456789";

describe("secret sources", () => {
  for (const flag of [
    "--credential",
    "--client-secret",
    "--refresh-token",
    "--access-token",
    "-Credential",
    "-RefreshToken",
  ]) {
    it(`${flag} <literal> is refused with the safe spellings, exit 2, nothing echoed`, async () => {
      const r = await runCli([
        "new",
        "--application-id",
        "app",
        "--scopes",
        GRAPH,
        "--tenant",
        "t",
        flag,
        literal,
      ]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.ok(
        r.stderr.includes(
          `${flag} -   (stdin)  |  ${flag} @path  |  ${flag} env:NAME  |  ${flag} prompt`,
        ),
        r.stderr,
      );
      assert.match(r.stderr, /visible to other users/);
      assert.ok(!r.stderr.includes(literal));
    });
  }

  it("--certificate-password <literal> is refused too", async () => {
    const r = await runCli([
      "new",
      "--application-id",
      "a",
      "--scopes",
      GRAPH,
      "--certificate-path",
      "/x.pfx",
      "--certificate-password",
      "hunter2hunter2",
    ]);
    assert.equal(r.code, 2);
    assert.ok(!r.stderr.includes("hunter2hunter2"));
  });

  it("an unset variable, a missing file, stdin twice, no source without a terminal: exit 2", async () => {
    const base = [
      "new",
      "--service-principal",
      "--application-id",
      "a",
      "--scopes",
      GRAPH,
      "--tenant",
      "t",
    ];
    const unset = await runCli([...base, "--credential", "env:NOPE_NOT_SET"]);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /NOPE_NOT_SET is not set/);
    const missing = await runCli([...base, "--credential", "@/nonexistent/secret"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read '\/nonexistent\/secret' \(ENOENT\)/);
    const twice = await runCli([...base, "--credential", "-", "--refresh-token", "-"], {
      input: "x",
    });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /standard input is already the source/);
    const none = await runCli([...base, "--credential"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /or set AZURE_CLIENT_SECRET/);
  });

  describe("accepted sources reach the server", () => {
    let emu: Emulator;
    before(async () => {
      emu = await startTestEmulator();
    });
    after(() => emu?.close());

    const run = (source: string, opts: { input?: string; env?: Record<string, string> }) =>
      runCli(servicePrincipalArgs(emu, ["--credential", source]), opts);

    it("- (stdin, trailing newline removed)", async () => {
      const r = await run("-", { input: emu.info.apps.confidential.clientSecret + "\n" });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.json.accessToken);
    });
    it("@file", async () => {
      const r = await run(await secretFile(emu.info.apps.confidential.clientSecret), {});
      assert.equal(r.code, 0, r.stderr);
    });
    it("env:NAME", async () => {
      const r = await run("env:CS", { env: { CS: emu.info.apps.confidential.clientSecret } });
      assert.equal(r.code, 0, r.stderr);
    });
    it("left out: AZURE_CLIENT_SECRET", async () => {
      const { confidential } = emu.info.apps;
      const r = await runCli(servicePrincipalArgs(emu, ["--credential"]), {
        env: { AZURE_CLIENT_SECRET: confidential.clientSecret },
      });
      assert.equal(r.code, 0, r.stderr);
    });
  });
});
