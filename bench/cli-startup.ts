/**
 * Whole-process wall time of the CLI, as ratios measured in one run (goals: `new` ≤ 1.2× a
 * minimal fetch script doing the same POST; `--version` ≤ 1.3× `node -e 0`).
 *
 *   npm run bench:cli          (RUNS=25 to change the number of runs; medians are compared)
 *
 * The emulator runs in this process; each command is a fresh child process, as a user or a CI
 * job would start it. Sources run through Node's type stripping, as from a checkout.
 */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startEmulator } from "../src/emulator/index.ts";

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const RUNS = Number(process.env.RUNS ?? 15);
const GRAPH = "https://graph.microsoft.com/.default";

async function median(
  label: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const start = performance.now();
    await run(file, args, { env });
    if (i >= 2) times.push(performance.now() - start); // two warm-up runs fill the OS cache
  }
  times.sort((a, b) => a - b);
  const m = times[Math.floor(times.length / 2)]!;
  console.log(
    `${label.padEnd(44)} median ${m.toFixed(1).padStart(7)} ms  (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)})`,
  );
  return m;
}

const dir = await mkdtemp(join(tmpdir(), "pt-bench-cli-"));
const emu = await startEmulator({ port: 0, dataDir: join(dir, "emu"), log: () => {} });
try {
  const { confidential } = emu.info.apps;
  const tenant = emu.info.partnerTenant.id;
  const env = { ...process.env, CLIENT_SECRET: confidential.clientSecret };

  // The baseline: the same client-credentials POST, nothing else.
  const minimal = join(dir, "minimal.mjs");
  await writeFile(
    minimal,
    `const body = new URLSearchParams({ grant_type: "client_credentials", client_id: ${JSON.stringify(confidential.clientId)}, client_secret: process.env.CLIENT_SECRET, scope: ${JSON.stringify(GRAPH)} });
const res = await fetch(${JSON.stringify(`${emu.info.url}/${tenant}/oauth2/v2.0/token`)}, { method: "POST", body });
const json = await res.json();
if (!json.access_token) process.exit(1);
`,
  );

  console.log(`partner-token CLI startup, ${RUNS} runs each, node ${process.version}\n`);
  const fetchScript = await median(
    "minimal fetch script (same POST)",
    process.execPath,
    [minimal],
    {
      ...env,
      NODE_EXTRA_CA_CERTS: emu.info.caFile!,
    },
  );
  const cli = await median(
    "partner-token new (client credentials)",
    process.execPath,
    [
      MAIN,
      "new",
      "--service-principal",
      "--application-id",
      confidential.clientId,
      "--credential",
      "env:CLIENT_SECRET",
      "--tenant",
      tenant,
      "--scopes",
      GRAPH,
      "--authority-host",
      emu.info.url,
      "--ca-file",
      emu.info.caFile!,
      "-o",
      "none",
    ],
    env,
  );
  const nodeBare = await median("node -e 0", process.execPath, ["-e", "0"], env);
  const version = await median(
    "partner-token --version",
    process.execPath,
    [MAIN, "--version"],
    env,
  );

  console.log();
  console.log(`new / fetch script:   ${(cli / fetchScript).toFixed(2)}×  (goal ≤ 1.2×)`);
  console.log(`--version / node -e 0: ${(version / nodeBare).toFixed(2)}×  (goal ≤ 1.3×)`);
} finally {
  await emu.close();
}
