/**
 * A refusal in one customer's tenant (no delegated access, no consent) says nothing about the
 * session: `status` stays healthy, and the other tenants still get tokens.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { runCli, type Emulator } from "../cli/helpers.ts";
import { startScaleEmulator } from "../customers/helpers.ts";
import { connectDevice, sessionEnv } from "./helpers.ts";

let emu: Emulator;
before(async () => {
  emu = (await startScaleEmulator({
    count: 6,
    withoutAccess: 2,
    withoutConsent: 1,
    autoApprove: true,
  })) as Emulator;
});
after(() => emu.close());

test("customer tenants that refuse leave the session healthy", async () => {
  const env = await sessionEnv();
  await connectDevice(emu, env);
  const run = await runCli(
    ["customers", "tokens", "--scopes", "https://graph.microsoft.com/.default"],
    { env, timeoutMs: 120_000 },
  );
  const lines = run.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const failed = lines
    .filter((l) => l.status === "error")
    .map((l) => l.error.code)
    .sort();
  assert.deepEqual(failed, ["AADSTS50020", "AADSTS50020", "AADSTS65001"], run.stderr);
  assert.equal(run.code, 1, "a failed tenant makes the run exit 1");
  const status = await runCli(["status", "-o", "json"], { env });
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.json.state, "ok");
  assert.equal(status.json.signInRequired, null);
});
