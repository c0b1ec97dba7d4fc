/**
 * Writes the PowerShell module as a folder ready for `Publish-PSResource -Path`:
 *
 *   node scripts/build-psmodule.ts [DIR]   (npm run build:psmodule) → DIR/PartnerToken/, default dist-psmodule/
 *
 * The module is powershell/PartnerToken/ as it is, with ModuleVersion set from package.json (a
 * pre-release such as 1.2.0-beta.1 becomes ModuleVersion 1.2.0 and PSData Prerelease 'beta1', as
 * the PowerShell Gallery spells it) and the licence beside it. Published alone, the module finds
 * the CLI through PARTNER_TOKEN_CLI or `partner-token` on PATH (docs/powershell.md).
 */
import { readFileSync } from "node:fs";
import { copyFile, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCE = join(ROOT, "powershell", "PartnerToken");
const OUT = join(process.argv[2] ?? join(ROOT, "dist-psmodule"), "PartnerToken");

const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
};
const match = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(version);
if (!match) throw new Error(`package.json version '${version}' is not major.minor.patch[-pre]`);
const [, release, pre] = match;

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
await cp(SOURCE, OUT, { recursive: true });
await copyFile(join(ROOT, "LICENSE"), join(OUT, "LICENSE"));

const manifestPath = join(OUT, "PartnerToken.psd1");
let manifest = await readFile(manifestPath, "utf8");
const versionLine = /ModuleVersion\s*=\s*'[^']*'/;
if (!versionLine.test(manifest)) throw new Error("PartnerToken.psd1 has no ModuleVersion line");
manifest = manifest.replace(versionLine, `ModuleVersion        = '${release}'`);
if (pre) {
  // The Gallery takes letters and digits only in Prerelease.
  const prerelease = pre.replace(/[^0-9A-Za-z]/g, "");
  manifest = manifest.replace(
    /PSData\s*=\s*@\{/,
    (m) => `${m}\n            Prerelease   = '${prerelease}'`,
  );
}
await writeFile(manifestPath, manifest);
process.stdout.write(`${OUT} (PartnerToken ${version})\n`);
