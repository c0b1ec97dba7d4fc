/**
 * Whole-process wall time of the CLI, as ratios measured in one run (goals: `new` ≤ 1.2× a
 * minimal fetch script doing the same POST; `--version` ≤ 1.3× `node -e 0`).
 *
 *   npm run bench:cli          (RUNS=25 to change the number of runs; medians are compared)
 *
 * The emulator runs in this process; each command is a fresh child process, as a user or a CI
 * job would start it. Both entries are measured: the sources through Node's type stripping (a
 * checkout) and the compiled JavaScript that `bin/partner-token.js` runs once installed (built
 * here into a temporary folder with tsconfig.build.json).
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startEmulator } from "../src/emulator/index.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "src/cli/main.ts");
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

  // The installed form: compiled JavaScript next to a package.json and node_modules.
  const built = join(dir, "pkg");
  await run(process.execPath, [
    join(ROOT, "node_modules/typescript/bin/tsc"),
    "-p",
    join(ROOT, "tsconfig.build.json"),
    "--outDir",
    join(built, "dist"),
  ]).catch(
    () => {}, // type errors elsewhere still emit; the files are what matters here
  );
  await copyFile(join(ROOT, "package.json"), join(built, "package.json"));
  await symlink(join(ROOT, "node_modules"), join(built, "node_modules"));
  const BUILT_MAIN = join(built, "dist/cli/main.js");

  const newArgs = [
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
  ];

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
  const cliTs = await median(
    "partner-token new, sources (.ts)",
    process.execPath,
    [MAIN, ...newArgs],
    env,
  );
  const cliJs = await median(
    "partner-token new, built (.js)",
    process.execPath,
    [BUILT_MAIN, ...newArgs],
    env,
  );
  const nodeBare = await median("node -e 0", process.execPath, ["-e", "0"], env);
  const versionTs = await median(
    "partner-token --version, sources (.ts)",
    process.execPath,
    [MAIN, "--version"],
    env,
  );
  const versionJs = await median(
    "partner-token --version, built (.js)",
    process.execPath,
    [BUILT_MAIN, "--version"],
    env,
  );

  console.log();
  console.log(
    `new / fetch script:    ${(cliJs / fetchScript).toFixed(2)}× built, ${(cliTs / fetchScript).toFixed(2)}× sources  (goal ≤ 1.2×)`,
  );
  console.log(
    `--version / node -e 0: ${(versionJs / nodeBare).toFixed(2)}× built, ${(versionTs / nodeBare).toFixed(2)}× sources  (goal ≤ 1.3×)`,
  );
} finally {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
}
