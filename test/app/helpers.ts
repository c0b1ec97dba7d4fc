/**
 * Shared by the app tests: the environment of a partner admin's CLI against the emulator, with
 * the emulator's Key Vault reached as the seed's automation app (the Azure SDK's environment
 * credential), and `app create` run with it.
 */
import assert from "node:assert/strict";
import { runCli, type CliResult, type Emulator } from "../cli/helpers.ts";
import { connectDevice, sessionEnv } from "../session/helpers.ts";

/**
 * The `AZURE_*` variables that let `keyvault:` stores (and Microsoft's SDKs) reach the emulator's
 * vault as the seed's confidential app, and the emulator's CA.
 */
export function vaultIdentityEnv(emu: Emulator): Record<string, string> {
  const { clientId, clientSecret } = emu.info.apps.confidential;
  return {
    AZURE_AUTHORITY_HOST: emu.info.url,
    AZURE_TENANT_ID: emu.info.partnerTenant.id,
    AZURE_CLIENT_ID: clientId,
    AZURE_CLIENT_SECRET: clientSecret,
    PARTNER_TOKEN_CA_FILE: emu.info.caFile!,
  };
}

/** A cache folder of its own with the partner admin connected (the default app), and the vault's identity. */
export async function adminVaultEnv(emu: Emulator): Promise<Record<string, string>> {
  const session = await sessionEnv();
  await connectDevice(emu, session);
  return { ...session, ...vaultIdentityEnv(emu) };
}

/** `partner-token app create --name NAME … -o json` as the admin of `env`; asserts it succeeded. */
export async function createApp(
  env: Record<string, string>,
  name: string,
  ...args: string[]
): Promise<CliResult & { json: { applicationId: string } & Record<string, any> }> {
  const r = await runCli(["app", "create", "--name", name, ...args, "-o", "json"], {
    env,
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return r;
}
