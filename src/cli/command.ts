/**
 * What every command is, and the one place that runs it: a command module exports `spec` (its
 * flags, usage line and `--help` text) and `body` (its own work), and {@link runCommand} does the
 * rest — the crash guard, parsing the flags, `--help` on stdout, `--debug` (the stack of a
 * failure), refusing stray arguments, checking `-o`/`--query` before any network call, Ctrl-C,
 * and turning any failure into a message and an exit code. A command with subcommands
 * (`customers list|tokens`) exports a spec with `subcommands` and no body.
 */
import type { ClientOptions } from "../client/types.ts";
import {
  getBoolean,
  getSettingFrom,
  getString,
  parseArgs,
  type FlagSpec,
  type ParsedArgs,
} from "./args.ts";
import { abortOnInterrupt, installCrashGuard, reportError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { compileQuery, parseOutputFormat, type OutputFormat } from "./output.ts";
import { say } from "./redact.ts";
import { usageError } from "./usage-error.ts";

/** `--help`: every command takes it. */
export const helpFlag: FlagSpec = {
  name: "help",
  short: "h",
  kind: "boolean",
  help: "show this help",
};

/** `--debug`: every command takes it; a command that calls a server logs the exchange with it. */
export const debugFlag: FlagSpec = {
  name: "debug",
  kind: "boolean",
  help: "show the HTTP exchange on stderr, secrets and tokens redacted",
};

/**
 * `--timeout`: every command that calls a server takes it — the deadline of one operation (a token
 * request with its discovery, retries and waits; one Partner Center call), in seconds.
 */
export const timeoutFlag: FlagSpec = {
  name: "timeout",
  kind: "string",
  valueName: "seconds",
  env: "PARTNER_TOKEN_TIMEOUT",
  help: "give up on a server after this many seconds per operation, retries included (default 60) [env PARTNER_TOKEN_TIMEOUT]",
};

/** `--timeout` (or PARTNER_TOKEN_TIMEOUT) in milliseconds, when the command has the flag and it is set. */
function timeoutOf(args: ParsedArgs): number | undefined {
  if (!args.specs.has("timeout")) return undefined;
  const setting = getSettingFrom(args, "timeout");
  if (setting === undefined) return undefined;
  const seconds = Number(setting.value);
  if (!/^\d+(\.\d+)?$/.test(setting.value.trim()) || !(seconds > 0) || seconds > 86_400)
    throw usageError(
      `${setting.from} takes a number of seconds (above 0, at most 86400), not '${setting.value}'.`,
    );
  return Math.round(seconds * 1000);
}

/** `--debug` of a command that calls no server. */
export const stackDebugFlag: FlagSpec = {
  ...debugFlag,
  help: "on failure, show the stack on stderr",
};

export interface CommandSpec {
  /** Every flag, `help` and `debug` included (`completion` offers them all). */
  flags: readonly FlagSpec[];
  /** The one-line usage, shown after a usage error. */
  usage: string;
  /** The whole `--help` text (examples first), built when asked for. */
  help: () => string | Promise<string>;
  /** Positional arguments are the command's (default: refused). */
  positionals?: boolean;
  /** Said after "unexpected argument 'X'." when positionals are refused. */
  strayHint?: string;
  /** The command prints a result with `-o`/`--query` (default true). */
  output?: boolean;
  /**
   * Everything after the first `--` is the command's, untouched (`exec -- COMMAND ARGS…`): in
   * {@link CommandContext.rest}, not parsed.
   */
  rest?: boolean;
  /**
   * What Ctrl-C (SIGINT) and SIGTERM do:
   * - `cancel` (default): abort the work (`signal`), exit 130; a second Ctrl-C exits at once;
   * - `stop`: a long-running command (`serve`, `emulator`) stops: `signal` is aborted (SIGHUP
   *   too) and the body closes what it holds and returns its exit code;
   * - `none`: the command handles signals itself (`exec` passes them on to its child).
   */
  interrupt?: "cancel" | "stop" | "none";
}

export interface CommandContext {
  args: ParsedArgs;
  debug: boolean;
  format: OutputFormat;
  query: string | undefined;
  /** Aborted as `spec.interrupt` says. */
  signal: AbortSignal;
  /** The signal, and the redacted HTTP log with `--debug`: what every library call takes. */
  clientOptions: ClientOptions;
  /** With `spec.rest`: the arguments after `--`. */
  rest: string[];
  /** The command table (for `completion`). */
  table: CommandTable;
}

/** A command: its spec and its own work, which resolves to the exit code. */
export interface Command {
  spec: CommandSpec;
  body: (context: CommandContext) => Promise<number>;
}

/** A command with subcommands: `customers list|tokens`, `partner-center token`. */
export interface CommandGroup {
  spec: {
    /** `--help` and `debug`, offered before a subcommand is named. */
    flags: readonly FlagSpec[];
    usage: string;
    help: () => string;
    /** The message for an unknown subcommand. */
    unknown: (name: string) => string;
    subcommands: Readonly<Record<string, Command>>;
  };
  body?: undefined;
}

export type CommandModule = Command | CommandGroup;

/** One entry of the command table: its one-line summary (usage, completion) and its module, loaded lazily. */
export interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
  /** This name is another spelling of that command (`new-access-token` of `new`). */
  aliasOf?: string;
}
export type CommandTable = Readonly<Record<string, CommandEntry>>;

/** What every library call takes from a command: its Ctrl-C signal, and with `--debug` the redacted HTTP log. */
export function clientOptionsOf(
  signal: AbortSignal,
  debug: boolean,
  timeoutMs?: number,
): ClientOptions {
  return {
    signal,
    ...(debug ? { debug: (line: string) => say(line) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

/** `signal` aborted at SIGINT, SIGTERM or SIGHUP: a long-running command's "stop". */
function stopOnSignal(): AbortSignal {
  const controller = new AbortController();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const stop = (): void => {
    for (const s of signals) process.off(s, stop);
    controller.abort();
  };
  for (const s of signals) process.on(s, stop);
  return controller.signal;
}

/**
 * Runs a command (or a group's subcommand) with `argv`; resolves to the exit code.
 *
 * @example
 * ```ts
 * export const spec: CommandSpec = { flags, usage, help };
 * export async function body({ args, format, query }: CommandContext): Promise<number> {
 *   await writeResult(await work(args), format, query);
 *   return ExitCode.ok;
 * }
 * // main.ts: runCommand(argv, await import("./commands/x.ts"), table)
 * ```
 */
export async function runCommand(
  argv: string[],
  command: CommandModule,
  table: CommandTable = {},
): Promise<number> {
  installCrashGuard();
  if (command.body === undefined) {
    const { spec } = command;
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      process.stdout.write(spec.help());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    const sub = Object.hasOwn(spec.subcommands, name) ? spec.subcommands[name] : undefined;
    if (!sub)
      return reportError(usageError(spec.unknown(name)), spec.usage, argv.includes("--debug"));
    return runCommand(rest, sub, table);
  }
  const { spec, body } = command;
  let debug = false;
  try {
    const split = spec.rest ? argv.indexOf("--") : -1;
    const own = split < 0 ? argv : argv.slice(0, split);
    const rest = split < 0 ? [] : argv.slice(split + 1);
    const args = parseArgs(own, spec.flags);
    if (getBoolean(args, "help")) {
      process.stdout.write(await spec.help());
      return ExitCode.ok;
    }
    debug = getBoolean(args, "debug");
    if (!spec.positionals && args.positionals.length > 0)
      throw usageError(
        `unexpected argument '${args.positionals[0]}'.${spec.strayHint ? ` ${spec.strayHint}` : ""}`,
      );
    const output = spec.output !== false;
    const format = output ? parseOutputFormat(getString(args, "output")) : "json";
    const query = output ? getString(args, "query") : undefined;
    await compileQuery(query);
    const timeoutMs = timeoutOf(args);
    const interrupt = spec.interrupt ?? "cancel";
    const signal =
      interrupt === "cancel"
        ? abortOnInterrupt()
        : interrupt === "stop"
          ? stopOnSignal()
          : new AbortController().signal;
    return await body({
      args,
      debug,
      format,
      query,
      signal,
      clientOptions: clientOptionsOf(signal, debug, timeoutMs),
      rest,
      table,
    });
  } catch (error) {
    return reportError(error, spec.usage, debug);
  }
}
