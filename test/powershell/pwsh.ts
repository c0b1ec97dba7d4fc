/**
 * Running the real PowerShell 7 from the tests (test/powershell, test/package): where
 * scripts/install-powershell.sh puts pwsh and Pester, and a child pwsh with exactly the
 * environment given.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const INSTALL = "scripts/install-powershell.sh";

/** pwsh as scripts/install-powershell.sh installs it, else on PATH. */
export function findPwsh(): string | undefined {
  const tool = join(homedir(), ".dotnet", "tools", "pwsh");
  if (existsSync(tool)) return tool;
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "pwsh"))) return join(dir, "pwsh");
  }
  return undefined;
}

/** The folder install-powershell.sh puts Pester in (pwsh's user module folder). */
export const PESTER_MODULES = join(
  process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"),
  "powershell",
  "Modules",
);

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs pwsh with `args` and exactly `env`; never throws on its exit code. */
export function runPwsh(
  pwsh: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 900_000,
  cwd = ROOT,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(pwsh, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
