/**
 * Whole-process wall time of the installed CLI, as ratios measured in one run. Goals:
 * `--version` ≤ 1.05× `node -e 0`; `new` (client credentials) ≤ 1.05× a minimal fetch script
 * doing the same POST; `token` from the cache ≤ 1.25× `node -e 0` (its synchronous path, bin/token-cache-hit.cjs), also shown
 * against the floor: a script that reads the two files, decrypts and prints.
 *
 *   npm run bench:cli          (RUNS=25 to change the number of runs; medians are compared)
 *
 * The emulator runs in this process; each command is a fresh child process, as a user or a CI
 * job would start it. The CLI is measured as installed: `bin/partner-token.cjs` over the bundle
 * that scripts/build.ts writes (here into a temporary package folder), with and without Node's
 * compile cache, and the TypeScript sources for comparison.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildPackage } from "../scripts/build.ts";
import { startEmulator } from "../src/emulator/index.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "src/cli/main.ts");
const RUNS = Number(process.env.RUNS ?? 15);
const GRAPH = "https://graph.microsoft.com/.default";

interface Case {
  label: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  times: number[];
}

/**
 * Runs every case once per round, round after round, so that a change in the machine's load
 * during the run (other processes, CPU frequency) touches all cases alike; medians are compared.
 */
async function measure(cases: Case[]): Promise<void> {
  for (let round = 0; round < RUNS + 2; round++) {
    for (const c of cases) {
      const start = performance.now();
      await run(process.execPath, c.args, { env: c.env });
      // Two warm-up rounds fill the OS cache and the compile cache.
      if (round >= 2) c.times.push(performance.now() - start);
    }
  }
  for (const c of cases) {
    c.times.sort((a, b) => a - b);
    console.log(
      `${c.label.padEnd(48)} median ${median(c).toFixed(1).padStart(7)} ms  (min ${c.times[0]!.toFixed(1)}, max ${c.times.at(-1)!.toFixed(1)})`,
    );
  }
}

const median = (c: Case): number => c.times[Math.floor(c.times.length / 2)]!;
const make = (label: string, args: string[], env: NodeJS.ProcessEnv): Case => ({
  label,
  args,
  env,
  times: [],
});
const ratio = (a: Case, b: Case): string => `${(median(a) / median(b)).toFixed(2)}×`;
const fastest = (a: Case, b: Case): string => `${(a.times[0]! / b.times[0]!).toFixed(2)}×`;

const dir = await mkdtemp(join(tmpdir(), "pt-bench-cli-"));
const emu = await startEmulator({ port: 0, dataDir: join(dir, "emu"), log: () => {} });
try {
  const { confidential } = emu.info.apps;
  const tenant = emu.info.partnerTenant.id;
  const home = join(dir, "home");
  await mkdir(home);
  // No NODE_EXTRA_CA_CERTS from the machine (some set it to the system's bundle, ~140
  // certificates that Node then parses in every process that uses TLS): each case trusts the
  // emulator's CA in its own way below, and none pays for certificates another does not load.
  const { NODE_EXTRA_CA_CERTS: _machineWide, ...machine } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...machine,
    CLIENT_SECRET: confidential.clientSecret,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    // The key in a key file: the cache-hit path hands a keyring-kept key to the full CLI.
    PARTNER_TOKEN_KEYRING: "off",
  };
  // bin/partner-token.cjs enables the compile cache in its default folder, as for a user; the
  // baselines run without one, as `node` does by default.
  const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: "1" };

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

  // The installed form: bin/ and the bundle next to a package.json and node_modules.
  const pkg = join(dir, "pkg");
  await buildPackage(join(pkg, "dist"));
  await mkdir(join(pkg, "bin"));
  await copyFile(join(ROOT, "bin/partner-token.cjs"), join(pkg, "bin/partner-token.cjs"));
  await copyFile(join(ROOT, "bin/token-cache-hit.cjs"), join(pkg, "bin/token-cache-hit.cjs"));
  await copyFile(join(ROOT, "package.json"), join(pkg, "package.json"));
  await symlink(join(ROOT, "node_modules"), join(pkg, "node_modules"));
  const BIN = join(pkg, "bin/partner-token.cjs");

  const signIn = [
    "--service-principal",
    "--application-id",
    confidential.clientId,
    "--credential",
    "env:CLIENT_SECRET",
    "--tenant",
    tenant,
    "--authority-host",
    emu.info.url,
    "--ca-file",
    emu.info.caFile!,
  ];
  const newArgs = ["new", ...signIn, "--scopes", GRAPH, "-o", "none"];

  // `token` reads the session that `connect` saved; measured once both commands exist.
  const hasToken = await run(process.execPath, [BIN, "token", "--help"], { env }).then(
    () => true,
    () => false,
  );
  if (hasToken)
    await run(process.execPath, [BIN, "connect", ...signIn, "--scopes", GRAPH], { env });

  // The floor of a cached token: read the key file and the profile file, one AES-GCM decrypt,
  // print the token — what no implementation of `token` can go below.
  const floor = join(dir, "floor.cjs");
  await writeFile(
    floor,
    `"use strict";
const { readFileSync, writeSync } = require("node:fs");
const { createDecipheriv } = require("node:crypto");
const dir = ${JSON.stringify(join(home, ".local/state/partner-token/profiles"))};
const marker = JSON.parse(readFileSync(dir + "/default.key.json", "utf8"));
const key = Buffer.from(readFileSync(marker.path, "utf8").trim(), "base64");
const { sealed } = JSON.parse(readFileSync(dir + "/default.json", "utf8"));
const d = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64url"));
d.setAAD(Buffer.from("partner-token:profile:default"));
d.setAuthTag(Buffer.from(sealed.tag, "base64url"));
const record = JSON.parse(Buffer.concat([d.update(Buffer.from(sealed.data, "base64url")), d.final()]).toString());
writeSync(1, Object.values(record.tokens)[0].result.accessToken + "\\n");
`,
  );

  console.log(`partner-token CLI startup, ${RUNS} rounds, node ${process.version}\n`);
  const nodeBare = make("node -e 0", ["-e", "0"], env);
  // bin/partner-token.cjs answers --version itself: no bundle, no compile cache involved.
  const version = make("partner-token --version", [BIN, "--version"], env);
  const versionTs = make("partner-token --version, sources (.ts)", [MAIN, "--version"], env);
  const fetchScript = make("minimal fetch script (same POST)", [minimal], {
    ...env,
    NODE_EXTRA_CA_CERTS: emu.info.caFile!,
  });
  const cliNew = make("partner-token new", [BIN, ...newArgs], env);
  // The same request with the CA trusted the way the fetch script trusts it: no --ca-file, so
  // the client sends it with Node's global fetch, as the script does.
  const withoutCaFile = newArgs.filter(
    (a, i) => a !== "--ca-file" && newArgs[i - 1] !== "--ca-file",
  );
  const cliNewExtraCa = make("partner-token new, NODE_EXTRA_CA_CERTS", [BIN, ...withoutCaFile], {
    ...env,
    NODE_EXTRA_CA_CERTS: emu.info.caFile!,
  });
  const cliNewNoCache = make("partner-token new, no compile cache", [BIN, ...newArgs], noCache);
  const cliNewTs = make("partner-token new, sources (.ts)", [MAIN, ...newArgs], env);
  const tokenArgs = [BIN, "token", "--scopes", GRAPH, "--query", "accessToken", "-o", "tsv"];
  const token = hasToken ? make("partner-token token (cached)", tokenArgs, env) : undefined;
  const tokenJson = hasToken
    ? make("partner-token token (cached), -o json", [BIN, "token", "--scopes", GRAPH], env)
    : undefined;
  // The PowerShell spelling is the full parser's: the same cached token through the bundle.
  const tokenBundle = hasToken
    ? make(
        "partner-token token (cached), through the bundle",
        [BIN, "token", "-Scopes", GRAPH, "--query", "accessToken", "-o", "tsv"],
        env,
      )
    : undefined;
  const tokenNoCache = hasToken
    ? make(
        "partner-token token (cached), bundle, no compile cache",
        [BIN, "token", "-Scopes", GRAPH, "-o", "none"],
        noCache,
      )
    : undefined;
  const floorCase = hasToken
    ? make("floor: read 2 files, decrypt, print", [floor], env)
    : undefined;
  await measure([
    nodeBare,
    version,
    versionTs,
    fetchScript,
    cliNew,
    cliNewExtraCa,
    cliNewNoCache,
    cliNewTs,
    ...(token && tokenJson && tokenBundle && tokenNoCache && floorCase
      ? [token, tokenJson, tokenBundle, tokenNoCache, floorCase]
      : []),
  ]);

  // Medians, and the ratio of the fastest runs: on a busy machine the minimum shows what a
  // command costs with the least interference.
  const both = (a: Case, b: Case): string => `${ratio(a, b)} (fastest ${fastest(a, b)})`;
  console.log();
  console.log(
    `--version / node -e 0:      ${both(version, nodeBare)}  sources ${ratio(versionTs, nodeBare)}  goal ≤ 1.05×`,
  );
  console.log(
    `new / fetch script:         ${both(cliNew, fetchScript)}  no compile cache ${ratio(cliNewNoCache, fetchScript)}, sources ${ratio(cliNewTs, fetchScript)}  goal ≤ 1.05×`,
  );
  console.log(
    `new, CA as the script's:    ${both(cliNewExtraCa, fetchScript)}  (NODE_EXTRA_CA_CERTS and global fetch on both sides)`,
  );
  console.log(
    token === undefined ||
      tokenJson === undefined ||
      tokenBundle === undefined ||
      tokenNoCache === undefined ||
      floorCase === undefined
      ? "token (cached) / node -e 0: not measured: this build has no `token` command"
      : `token (cached) / node -e 0: ${both(token, nodeBare)}  -o json ${ratio(tokenJson, nodeBare)}  goal ≤ 1.25×\n` +
          `token (cached) / floor:     ${both(token, floorCase)}  (floor / node -e 0: ${both(floorCase, nodeBare)})\n` +
          `token through the bundle / node -e 0: ${both(tokenBundle, nodeBare)}  no compile cache ${ratio(tokenNoCache, nodeBare)}`,
  );
} finally {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
}
