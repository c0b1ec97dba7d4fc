/**
 * The npm package as a partner gets it: `npm pack` of this checkout, then
 * `npm install -g ./partner-token-*.tgz` into a temporary prefix, on Node 24 (this process's
 * Node) and on Node 22.12 (the `engines` floor, Node's own binary from the npm registry). Each
 * installed command shows its help and version, runs its emulator and gets a client-credentials
 * token from it. Nothing may warn along the way.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import {
  claims,
  clientCredentials,
  GRAPH,
  run,
  servicePrincipal,
  startEmulator,
  type Ran,
} from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE_22 = "22.12.0";
const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
};

let dir: string;
let tarball: string;
let packed: { path: string }[];
/** The folder of npm's own command (npm runs on whichever `node` comes first on PATH). */
const npmDir = dirname(
  execFileSync("/bin/sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim(),
);

interface Installed {
  nodeDir: string;
  bin: string;
  install: Ran;
  env: NodeJS.ProcessEnv;
}
const installs = new Map<string, Installed>();

/** npm with `nodeDir`'s node, the user's npm cache and configuration. */
const npm = (nodeDir: string, args: string[], cwd: string): Promise<Ran> =>
  run(
    join(npmDir, "npm"),
    [...args, "--no-fund", "--no-audit", "--prefer-offline"],
    {
      PATH: [nodeDir, npmDir, "/usr/bin", "/bin"].join(delimiter),
      HOME: process.env.HOME,
      // `--global --prefix P` makes npm read P/etc/npmrc instead of the machine's global config, so
      // a certificate authority the machine adds for its registry (its `cafile`) comes this way.
      ...(process.env.NODE_EXTRA_CA_CERTS
        ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }
        : {}),
    },
    cwd,
  );

async function installWith(nodeDir: string, name: string): Promise<Installed> {
  const prefix = join(dir, `prefix-${name}`);
  const install = await npm(nodeDir, ["install", "--global", "--prefix", prefix, tarball], dir);
  assert.equal(install.code, 0, install.stdout + install.stderr);
  const home = join(dir, `home-${name}`);
  await mkdir(home);
  return {
    nodeDir,
    bin: join(prefix, "bin", "partner-token"),
    install,
    // The installed command finds `node` through its `#!/usr/bin/env node` line.
    env: { PATH: [join(prefix, "bin"), nodeDir, "/usr/bin", "/bin"].join(delimiter), HOME: home },
  };
}

/** Building and installing takes minutes on a busy machine, not seconds. */
const SLOW = { timeout: 600_000 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "pt-npm-"));
  const node24 = dirname(process.execPath);
  const [pack, node22] = await Promise.all([
    npm(node24, ["pack", "--json", "--pack-destination", dir], ROOT),
    // Node's own Linux/macOS binary as an npm package: no install script, only the registry.
    npm(
      node24,
      [
        "install",
        "--no-save",
        "--prefix",
        join(dir, "node22"),
        `node-${process.platform}-${process.arch}@${NODE_22}`,
      ],
      dir,
    ),
  ]);
  assert.equal(pack.code, 0, pack.stderr);
  assert.equal(node22.code, 0, node22.stdout + node22.stderr);
  const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(dir, result!.filename);
  packed = result!.files;
  const node22Dir = join(
    dir,
    "node22",
    "node_modules",
    `node-${process.platform}-${process.arch}`,
    "bin",
  );
  const [on24, on22] = await Promise.all([installWith(node24, "24"), installWith(node22Dir, "22")]);
  installs.set(process.versions.node, on24);
  installs.set(NODE_22, on22);
}, SLOW);
after(() => rm(dir, { recursive: true, force: true }));

describe("npm pack", () => {
  test("holds only what runs: the bin, the bundle, the library's types", () => {
    const paths = packed.map((f) => f.path);
    for (const path of paths)
      assert.match(
        path,
        /^(package\.json|README\.md|LICENSE(\.md)?|bin\/(partner-token|token-cache-hit)\.cjs|dist\/(cli\/main|index|emulator\/index|chunks\/(cli|lib|emulator)\/[\w-]+)\.js|dist\/types\/[\w/.-]+\.d\.ts)$/,
      );
    for (const entry of [
      "bin/partner-token.cjs",
      "dist/cli/main.js",
      "dist/index.js",
      "dist/emulator/index.js",
    ])
      assert.ok(paths.includes(entry), entry);
    assert.ok(paths.includes("dist/types/index.d.ts"));
    assert.ok(!paths.some((p) => /^(src|test|bench|scripts)\//.test(p)));
    assert.ok(!paths.some((p) => p.endsWith(".ts") && !p.endsWith(".d.ts")));
  });

  test("no install scripts, engines as tested", async () => {
    const extracted = join(dir, "extracted");
    await mkdir(extracted);
    execFileSync("tar", ["-xzf", tarball, "-C", extracted, "package/package.json"]);
    const manifest = JSON.parse(
      await readFile(join(extracted, "package/package.json"), "utf8"),
    ) as {
      scripts?: Record<string, string>;
      engines?: { node?: string };
      bin?: Record<string, string>;
    };
    for (const hook of ["preinstall", "install", "postinstall", "prepare"])
      assert.equal(manifest.scripts?.[hook], undefined, `scripts.${hook}`);
    assert.equal(manifest.engines?.node, `>=${NODE_22.replace(/\.0$/, "")}`);
    assert.equal(manifest.bin?.["partner-token"], "bin/partner-token.cjs");
  });
});

for (const version of [NODE_22, process.versions.node]) {
  describe(`npm install -g on Node ${version}`, () => {
    const installed = (): Installed => installs.get(version)!;

    test("installs without a warning", () => {
      const { install } = installed();
      assert.doesNotMatch(install.stdout + install.stderr, /warn|deprecated|EBADENGINE/i);
      assert.ok(existsSync(installed().bin));
    });

    test("runs on that Node: --version, --help, a command's --help", async () => {
      const { bin, env, nodeDir } = installed();
      const node = await run(join(nodeDir, "node"), ["--version"], env);
      assert.equal(node.stdout.trim(), `v${version}`);
      const v = await run(bin, ["--version"], env);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout, `${pkg.version}\n`);
      assert.equal(v.stderr, "");
      const help = await run(bin, ["--help"], env);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Usage: partner-token <command>/);
      assert.doesNotMatch(help.stderr, /Warning/);
      const newHelp = await run(bin, ["new", "--help"], env);
      assert.equal(newHelp.code, 0, newHelp.stderr);
      assert.match(newHelp.stdout, /--application-id/);
    });

    test("the library and the emulator import by their package names", async () => {
      const { env, nodeDir } = installed();
      const script = `
        const lib = await import("partner-token");
        const emu = await import("partner-token/emulator");
        console.log(typeof lib.newPartnerAccessToken, typeof lib.resolveEnvironment, typeof emu.startEmulator);`;
      // From a folder whose node_modules holds the installed package, as a project would.
      const project = join(dir, `project-${version}`);
      await mkdir(join(project, "node_modules"), { recursive: true });
      await symlink(
        join(dirname(dirname(installed().bin)), "lib", "node_modules", "partner-token"),
        join(project, "node_modules", "partner-token"),
      );
      const ran = await run(
        join(nodeDir, "node"),
        ["--input-type=module", "-e", script],
        env,
        project,
      );
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(ran.stdout.trim(), "function function function");
    });

    test("partner-token emulator, and a client-credentials token from it", async () => {
      const { bin, env } = installed();
      const emulator = await startEmulator(bin, [], join(dir, `emulator-${version}`), env);
      try {
        const { info } = emulator;
        const result = await run(bin, clientCredentials(info), {
          ...env,
          CLIENT_SECRET: info.apps.confidential.clientSecret,
        });
        assert.equal(result.code, 0, result.stderr);
        const auth = JSON.parse(result.stdout) as { accessToken: string; tenantId: string };
        assert.equal(auth.tenantId, info.partnerTenant.id);
        assert.equal(claims(auth.accessToken).aud, GRAPH.replace("/.default", ""));
        assert.doesNotMatch(result.stderr + emulator.stderr(), /Warning/);

        // A session, then its cached token: the same answer through the cache-hit path
        // (bin/token-cache-hit.cjs) and through the bundle (the PowerShell spelling is the bundle's).
        const sessionEnv = {
          ...env,
          CLIENT_SECRET: info.apps.confidential.clientSecret,
          PARTNER_TOKEN_CACHE_DIR: join(dir, `cache-${version}`),
          PARTNER_TOKEN_KEY_DIR: join(dir, `keys-${version}`),
          PARTNER_TOKEN_KEYRING: "off",
        };
        const connected = await run(
          bin,
          ["connect", ...servicePrincipal(info), "--scopes", GRAPH, "-o", "none"],
          sessionEnv,
        );
        assert.equal(connected.code, 0, connected.stderr);
        const fast = await run(bin, ["token", "--query", "accessToken", "-o", "tsv"], sessionEnv);
        const full = await run(bin, ["token", "-Query", "accessToken", "-o", "tsv"], sessionEnv);
        assert.equal(fast.code, 0, fast.stderr);
        assert.equal(full.code, 0, full.stderr);
        assert.equal(fast.stdout, full.stdout);
        assert.equal(claims(fast.stdout.trim()).aud, GRAPH.replace("/.default", ""));
      } finally {
        await emulator.stop();
      }
    });
  });
}
