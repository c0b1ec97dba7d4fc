/**
 * Runs a command beside the sidecar: its standard streams are the terminal's, the signals this
 * process receives are passed on, and its exit code becomes ours — so `partner-token exec -- cmd`
 * behaves in a script exactly as `cmd` would.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";

/** Signals passed on to the command (Ctrl-C, `kill`, a closed terminal). */
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Shell conventions for a command that could not be started. */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;

export interface ExecOptions {
  env: Record<string, string>;
  /** Told why the command could not start (not found, not executable). */
  log?: (line: string) => void;
}

/**
 * Runs `command args…` with inherited standard streams and resolves to its exit code: the code
 * it exited with, 128 + the signal's number when a signal ended it, 127 when it was not found,
 * 126 when it could not be executed.
 *
 * @example
 * ```ts
 * process.exitCode = await runChild("python3", ["job.py"], { env: childEnvironment(process.env, sidecar) });
 * ```
 */
export function runChild(command: string, args: string[], options: ExecOptions): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, stdio: "inherit" });
    // A signal sent to this process alone (kill PID, a service manager) must reach the command;
    // in a terminal the command has also received Ctrl-C itself, as a process of the same group.
    const forward = (signal: NodeJS.Signals): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = (code: number): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(code);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code === "ENOENT" ? NOT_FOUND : NOT_EXECUTABLE;
      options.log?.(
        code === NOT_FOUND
          ? `partner-token: command not found: ${command}`
          : `partner-token: cannot run ${command}: ${error.message}`,
      );
      done(code);
    });
    child.once("exit", (code, signal) => {
      if (signal !== null) done(128 + (constants.signals[signal] ?? 0));
      else done(code ?? 1);
    });
  });
}
