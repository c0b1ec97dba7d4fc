/**
 * Runs the Python side of the interop tests: Debian's python3 (where python3-msal and the Azure
 * CLI live), a script from this folder, its configuration as JSON on stdin (never in argv, which
 * other processes can read), its answer as JSON on stdout.
 */
import { spawn } from "node:child_process";

/** Debian's interpreter: the one python3-msal is installed for (not a user's pyenv or venv). */
export const PYTHON = "/usr/bin/python3";

export function runPython(
  script: string,
  config: unknown,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<Record<string, any>> {
  const path = new URL(script, import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout) as Record<string, any>);
      } catch {
        reject(new Error(`${script} ended with ${code}; stdout: ${stdout}; stderr: ${stderr}`));
      }
    });
    child.stdin.end(JSON.stringify(config));
  });
}
