/**
 * Turns any failure into a message on stderr and an exit code (README "Exit codes"):
 * 0 ok, 1 error, 2 usage, 4 sign-in needed, 130 cancelled.
 *
 * Library errors carry `code` (stable), `hint` (the next step), `exitCode`, and the server's
 * fields (error, description, trace and correlation ids); they are shown as they are, through
 * the redactor, so that nothing secret reaches the terminal even from an unexpected crash.
 */
import { ExitCode } from "./exit-codes.ts";
import { say } from "./redact.ts";
import { CancelledError } from "../client/errors.ts";
import { isCommandLineError } from "./usage-error.ts";

interface LibraryErrorShape {
  message: string;
  code?: unknown;
  hint?: unknown;
  exitCode?: unknown;
  error?: unknown;
  errorDescription?: unknown;
  errorCodes?: unknown;
  traceId?: unknown;
  correlationId?: unknown;
  timestamp?: unknown;
  status?: unknown;
  option?: unknown;
}

/**
 * The flags that set the library's options. A library hint names the option
 * ("pass its PEM file (caFile)"); on the command line the person needs the flag.
 */
const FLAG_FOR_OPTION: Record<string, string> = {
  caFile: "--ca-file or PARTNER_TOKEN_CA_FILE",
  certificatePassword: "--certificate-password",
  certificatePath: "--certificate-path",
  clientSecret: "--credential",
  authorityHost: "--authority-host",
  partnerCenterEndpoint: "--partner-center-endpoint",
  timeoutMs: "--timeout or PARTNER_TOKEN_TIMEOUT",
};

/** `hint` with the library option it names replaced by the flag that sets it. */
export function hintForCommandLine(hint: string, option: unknown): string {
  const flag = typeof option === "string" ? FLAG_FOR_OPTION[option] : undefined;
  return flag === undefined ? hint : hint.split(`(${option as string})`).join(`(${flag})`);
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;

export function isCancellation(error: unknown): boolean {
  if (error instanceof CancelledError) return true;
  const e = error as { name?: unknown; code?: unknown } | null;
  return (
    e !== null &&
    typeof e === "object" &&
    (e.name === "AbortError" || e.code === "ABORT_ERR" || e.code === "ERR_CANCELLED")
  );
}

/**
 * Writes `error` for a person and returns the exit code.
 *
 * @param usage the command's one-line usage, shown after a usage error.
 */
export function reportError(error: unknown, usage: string, debug = false): number {
  if (isCommandLineError(error)) {
    say(
      `partner-token: ${error.message}\n\n${usage}\nRun with --help for every option.` +
        (debug && error.stack ? `\n\n${error.stack}` : ""),
    );
    return ExitCode.usage;
  }
  if (isCancellation(error) || interrupted) {
    if (!interrupted) say("partner-token: cancelled.");
    return ExitCode.cancelled;
  }
  if (error instanceof Error) {
    const e = error as LibraryErrorShape & Error;
    const code = str(e.code);
    // "code: …" would look like an authorization code to the redactor: keep the code in brackets.
    const lines = [
      `partner-token: ${e.message}${code && !e.message.includes(code) ? ` [${code}]` : ""}`,
    ];
    const serverError = str(e.error);
    if (serverError && serverError !== code && !e.message.includes(serverError))
      lines.push(`  error: ${serverError}`);
    const description = str(e.errorDescription);
    if (description && !e.message.includes(description.slice(0, 40)))
      lines.push(`  description: ${description}`);
    const trace = str(e.traceId);
    const correlation = str(e.correlationId);
    if (trace) lines.push(`  trace id: ${trace}`);
    if (correlation) lines.push(`  correlation id: ${correlation}`);
    const hint = str(e.hint);
    if (hint) lines.push(`\n${hintForCommandLine(hint, e.option)}`);
    if (debug && e.stack) lines.push(`\n${e.stack}`);
    if (e.cause instanceof Error && debug)
      lines.push(`caused by: ${e.cause.stack ?? e.cause.message}`);
    say(lines.join("\n"));
    const exit = e.exitCode;
    return typeof exit === "number" && Number.isInteger(exit) ? exit : ExitCode.error;
  }
  say(`partner-token: ${String(error)}`);
  return ExitCode.error;
}

/**
 * Last resort for errors thrown outside a command's own handling: print redacted, exit 1.
 * Node's default would print the stack with whatever the error message held.
 */
export function installCrashGuard(): void {
  const crash = (error: unknown): void => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    say(`partner-token: unexpected error: ${text}`);
    process.exit(ExitCode.error);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}

/**
 * Ctrl-C aborts the running sign-in (its listener and polling stop) and exits 130; a second
 * Ctrl-C, or a flow that does not stop within two seconds, exits at once.
 */
let interrupted = false;

export function abortOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(ExitCode.cancelled);
    interrupted = true;
    say("\npartner-token: cancelled.");
    controller.abort(new CancelledError("cancelled"));
    setTimeout(() => process.exit(ExitCode.cancelled), 2000).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}
