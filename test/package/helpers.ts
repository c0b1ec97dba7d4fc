/**
 * Shared by the package tests: run an installed `partner-token` (from the npm tarball or the
 * standalone executable) as a user would, start its emulator, and get a token from it.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

export const GRAPH = "https://graph.microsoft.com/.default";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args…` with exactly `env` (nothing inherited), never throwing on exit codes. */
export async function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(file, args, {
      env,
      ...(cwd ? { cwd } : {}),
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

export interface EmulatorInfo {
  url: string;
  caFile: string;
  partnerTenant: { id: string };
  apps: { confidential: { clientId: string; clientSecret: string } };
}

/**
 * Starts `file …prefix emulator --port 0 --data-dir DIR` and resolves with its ready line.
 * `stop()` ends it with SIGTERM (the emulator's documented way) and waits for the exit.
 */
export async function startEmulator(
  file: string,
  prefix: string[],
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ info: EmulatorInfo; stderr(): string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    file,
    [...prefix, "emulator", "--port", "0", "--data-dir", dataDir],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = once(child, "exit");
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const first = await Promise.race([
      once(lines, "line").then(([line]) => line as string),
      exited.then(([code]) => {
        throw new Error(`the emulator exited (${code}) before its ready line:\n${stderr}`);
      }),
    ]);
    return {
      info: JSON.parse(first) as EmulatorInfo,
      stderr: () => stderr,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The emulator's confidential app signing in as itself, the secret from CLIENT_SECRET. */
export const servicePrincipal = (info: EmulatorInfo): string[] => [
  "--service-principal",
  "--application-id",
  info.apps.confidential.clientId,
  "--credential",
  "env:CLIENT_SECRET",
  "--tenant",
  info.partnerTenant.id,
  "--authority-host",
  info.url,
  "--ca-file",
  info.caFile,
];

/** `new` with client credentials for Graph. */
export const clientCredentials = (info: EmulatorInfo): string[] => [
  "new",
  ...servicePrincipal(info),
  "--scopes",
  GRAPH,
];

/** The payload of a JWT, read without any of our code. */
export const claims = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
