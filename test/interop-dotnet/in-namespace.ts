/**
 * The inside of the .NET interop test, run by dotnet.test.ts under `unshare` in a private
 * network, mount and PID namespace (never run it on its own: it bind-mounts over /etc/hosts).
 * It brings `lo` up and starts two emulators: one on a free port of 127.0.0.1 (the authority
 * forms with a URL) and one with `--impersonate` on port 443, whose host names a hosts file
 * bind-mounted over /etc/hosts points at 127.0.0.1 (in this namespace only). It makes a partner
 * session for `exec`/`serve` with `connect`, then runs the already built .NET test assembly with
 * ONE `dotnet test --no-build`, its configuration in the environment (never argv) and TLS trust
 * through SSL_CERT_FILE: the system roots plus the two emulators' CAs. It prints one JSON object
 * on stdout: dotnet's exit code and output tail, the TRX file, the emulators' unexpected log lines.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSeed, startEmulator } from "../../src/emulator/index.ts";
import { MAIN, runCli, secretFile } from "../cli/helpers.ts";
import { startWithPartner } from "../sidecar/helpers.ts";

interface Config {
  dir: string;
  project: string;
  trx: string;
}
const config = JSON.parse(readFileSync(0, "utf8")) as Config;
const SYSTEM_ROOTS = "/etc/ssl/certs/ca-certificates.crt";

try {
  execFileSync("ip", ["link", "set", "lo", "up"]);
} catch (e) {
  throw new Error(
    `cannot bring 'lo' up in the namespace with 'ip' (Debian's iproute2): ${(e as Error).message}`,
  );
}

// The emulator on a port of its own, a partner signed in once (App + User) for the sidecar.
const { emu, refreshToken } = await startWithPartner();
const impersonating = await startEmulator({
  impersonate: true,
  autoApprove: true,
  dataDir: join(config.dir, "impersonate"),
  seed: { ...defaultSeed, settings: { deviceCodeIntervalSeconds: 1 } },
  log: () => {},
});
const hostsFile = join(config.dir, "hosts");
writeFileSync(
  hostsFile,
  `127.0.0.1 localhost\n::1 localhost\n${impersonating.info.hosts!.map((h) => `127.0.0.1 ${h}`).join("\n")}\n`,
);
execFileSync("mount", ["--bind", hostsFile, "/etc/hosts"]);

const bundle = join(config.dir, "ca-bundle.pem");
writeFileSync(
  bundle,
  [SYSTEM_ROOTS, emu.caFile!, impersonating.caFile!].map((f) => readFileSync(f, "utf8")).join("\n"),
);

const cacheDir = join(config.dir, "cache");
const sessionEnv = { PARTNER_TOKEN_KEYRING: "off", PARTNER_TOKEN_CACHE_DIR: cacheDir };
const { clientId, clientSecret } = emu.info.apps.confidential;
const connect = await runCli(
  [
    "connect",
    "--refresh-token",
    await secretFile(refreshToken),
    "--application-id",
    clientId,
    "--credential",
    "env:APP_SECRET",
    "--tenant",
    emu.info.partnerTenant.id,
    "--authority-host",
    emu.url,
    "--ca-file",
    emu.caFile!,
  ],
  { env: { ...sessionEnv, APP_SECRET: clientSecret } },
);
if (connect.code !== 0) throw new Error(`partner-token connect failed: ${connect.stderr}`);

const i = emu.info;
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env))
  if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_|IDENTITY_|MSI_|IMDS_)/.test(k)) env[k] = v;
Object.assign(env, sessionEnv, {
  SSL_CERT_FILE: bundle,
  DOTNET_CLI_TELEMETRY_OPTOUT: "1",
  DOTNET_NOLOGO: "1",
  DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
  EMU_URL: emu.url,
  EMU_TENANT: i.partnerTenant.id,
  EMU_CUSTOMER: i.customers[1]!.id,
  // Tenants no other test uses: ErrorTests injects faults on their token paths.
  EMU_SPARE_TENANT_A: i.customers[0]!.id,
  EMU_SPARE_TENANT_B: i.customers[2]!.id,
  EMU_CONTROL_URL: i.controlUrl,
  EMU_USERNAME: i.user.username,
  EMU_CONFIDENTIAL_ID: clientId,
  EMU_CONFIDENTIAL_SECRET: clientSecret,
  EMU_REDIRECT_URI: i.apps.confidential.redirectUri,
  EMU_CERTIFICATE_ID: i.apps.certificate.clientId,
  EMU_CERTIFICATE_FILE: i.apps.certificate.certificateFile,
  EMU_KEY_FILE: i.apps.certificate.keyFile,
  EMU_CERTIFICATE_SHA1: i.apps.certificate.thumbprint,
  EMU_CERTIFICATE_SHA256: i.apps.certificate.thumbprintSha256,
  EMU_PUBLIC_ID: i.apps.public.clientId,
  EMU_IMPERSONATE_TENANT: impersonating.info.partnerTenant.id,
  // A customer of the impersonated partner with GDAP and the confidential app consented (GraphSdkTests).
  EMU_IMPERSONATE_CUSTOMER: impersonating.info.customers.find(
    (c) => c.domain === "fabrikam.onmicrosoft.com",
  )!.id,
  EMU_IMPERSONATE_CONFIDENTIAL_ID: impersonating.info.apps.confidential.clientId,
  PT_NODE: process.execPath,
  PT_MAIN: MAIN,
});

const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
  const child = spawn(
    "dotnet",
    [
      "test",
      config.project,
      "-c",
      "Release",
      "--no-build",
      "--logger",
      `trx;LogFileName=${config.trx}`,
      "--results-directory",
      config.dir,
      // While working on one flow: INTEROP_DOTNET_FILTER=Name~DeviceCode (the suite then fails on what did not run).
      ...(process.env["INTEROP_DOTNET_FILTER"]
        ? ["--filter", process.env["INTEROP_DOTNET_FILTER"]]
        : []),
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 480_000);
  child.on("close", (code) => {
    clearTimeout(timer);
    resolve({ code, output });
  });
});

const requests = [...emu.requests(), ...impersonating.requests()].map(
  (r) => `${r.status} ${r.method} ${r.path} ${r.host}`,
);
await Promise.all([emu.close(), impersonating.close()]);
process.stdout.write(
  JSON.stringify({ code: run.code, output: run.output.slice(-20_000), trx: config.trx, requests }),
);
