/**
 * A scripted Chromium (Debian's, driven by playwright-core) that trusts the emulator's CA the
 * way a person's browser would: the CA imported as a trusted root into the NSS database of a
 * throwaway home folder, which Chromium on Linux reads for locally added roots. No flag that
 * ignores certificate errors is used.
 *
 * Needs `certutil` (Debian: libnss3-tools) and `/usr/bin/chromium`.
 */
import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";

const run = promisify(execFile);

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export async function browserUnavailable(): Promise<string | undefined> {
  try {
    await access(CHROMIUM);
  } catch {
    return `no Chromium at ${CHROMIUM}`;
  }
  try {
    await run("certutil", ["-H"]).catch((e: { code?: unknown }) => {
      // `certutil -H` prints its help and exits 1; only a missing binary is a problem.
      if (e.code === "ENOENT") throw e;
    });
  } catch {
    return "no certutil (Debian: apt-get install libnss3-tools)";
  }
  return undefined;
}

/** A home folder whose NSS database trusts `caFile` as a root for TLS servers. */
export async function homeTrusting(caFile: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "chromium-home-"));
  const db = join(home, ".pki", "nssdb");
  await mkdir(db, { recursive: true });
  await run("certutil", ["-d", `sql:${db}`, "-N", "--empty-password"]);
  // "C,,": a trusted CA for issuing server certificates (and nothing else).
  await run("certutil", ["-d", `sql:${db}`, "-A", "-t", "C,,", "-n", "emu", "-i", caFile]);
  return home;
}

/** Launches headless Chromium with `home` as HOME (and so its NSS database). */
export function launchChromium(home: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_CACHE_HOME: join(home, ".cache"),
    },
    // A shared 2-core machine can be slow to start a browser.
    timeout: 60_000,
  });
}
