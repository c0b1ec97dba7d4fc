/**
 * The next step the CLI prints names what a person can do on the command line: the flag
 * (`--ca-file`, `--certificate-password`) rather than the library option behind it, and the
 * clock when this machine's and the server's disagree (a refused `nbf`/`iat` in the id token,
 * or AADSTS700024 for a client assertion).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { hintForCommandLine } from "../../src/cli/errors.ts";
import {
  deviceSignIn,
  emuFlags,
  GRAPH,
  runCli,
  secretFile,
  startTestEmulator,
  writePemWithKey,
  writePfx,
  type Emulator,
} from "./helpers.ts";

describe("hints on the command line", () => {
  let emu: Emulator;
  let pemWithKey: string;
  before(async () => {
    emu = await startTestEmulator();
    pemWithKey = await writePemWithKey(emu, "pt-hint-certs-");
  });
  after(() => emu?.close());

  const certificateArgs = (path: string): string[] => [
    "new",
    "--service-principal",
    "--application-id",
    emu.info.apps.certificate.clientId,
    "--certificate-path",
    path,
    "--tenant",
    emu.info.partnerTenant.id,
    "--scopes",
    GRAPH,
    ...emuFlags(emu),
  ];

  it("a PFX without its password names --certificate-password, not certificatePassword", async () => {
    const pfx = await writePfx(emu, "a-pfx-password-000");
    const r = await runCli(certificateArgs(pfx));
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /Cannot open the PFX file '.*app\.pfx': it is protected by a password, and none was given\./,
    );
    assert.match(r.stderr, /Give the PFX password \(--certificate-password\)\./);
    assert.doesNotMatch(r.stderr, /certificatePassword/);
  });

  it("a CA file that cannot be read names --ca-file, not caFile", async () => {
    const r = await runCli(
      [...servicePrincipal(), "--authority-host", emu.info.url, "--ca-file", "/nonexistent/ca.pem"],
      { env: { APP_SECRET: emu.info.apps.confidential.clientSecret } },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Cannot read the CA file '\/nonexistent\/ca\.pem'/);
    assert.match(r.stderr, /\(--ca-file or PARTNER_TOKEN_CA_FILE\)/);
    assert.doesNotMatch(r.stderr, /\(caFile\)/);
  });

  it("hintForCommandLine replaces only the option in parentheses, and only a known one", () => {
    assert.equal(
      hintForCommandLine("pass its PEM file (caFile); caFile in the ready line.", "caFile"),
      "pass its PEM file (--ca-file or PARTNER_TOKEN_CA_FILE); caFile in the ready line.",
    );
    assert.equal(
      hintForCommandLine("Give it (somethingElse).", "somethingElse"),
      "Give it (somethingElse).",
    );
    assert.equal(hintForCommandLine("No option.", undefined), "No option.");
  });

  it("an id token from a server ten minutes ahead: the hint says to check the clock", async () => {
    const appId = emu.info.apps.public.clientId;
    const first = await deviceSignIn(emu, appId, [GRAPH]);
    emu.advanceClock(600);
    const r = await runCli([
      "new",
      "--refresh-token",
      await secretFile(first.refreshToken),
      "--application-id",
      appId,
      "--scopes",
      GRAPH,
      ...emuFlags(emu),
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /"(nbf|iat)"/, "the refused claim is named");
    assert.match(r.stderr, /clock and the server's differ by more than five minutes/);
    assert.match(r.stderr, /Check this machine's clock/);
  });

  it("a client assertion outside its time range (AADSTS700024): the hint says to check the clock", async () => {
    emu.advanceClock(3600);
    const r = await runCli(certificateArgs(pemWithKey));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /AADSTS700024/);
    assert.match(r.stderr, /Check this machine's clock/);
  });

  function servicePrincipal(): string[] {
    return [
      "new",
      "--service-principal",
      "--application-id",
      emu.info.apps.confidential.clientId,
      "--credential",
      "env:APP_SECRET",
      "--tenant",
      emu.info.partnerTenant.id,
      "--scopes",
      GRAPH,
    ];
  }
});
