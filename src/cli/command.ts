/**
 * What every command does around its own work: the crash guard, parsing its flags, `--help`,
 * `--debug`, refusing stray arguments, checking `-o`/`--query` before any network call, Ctrl-C,
 * and turning any failure into a message and an exit code.
 */
import type { ClientOptions } from "../client/types.ts";
import { getBoolean, getString, parseArgs, type FlagSpec, type ParsedArgs } from "./args.ts";
import { abortOnInterrupt, installCrashGuard, reportError } from "./errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { compileQuery, parseOutputFormat, type OutputFormat } from "./output.ts";
import { say } from "./redact.ts";
import { UsageError } from "./usage-error.ts";

export interface CommandSpec {
  flags: readonly FlagSpec[];
  /** The one-line usage, shown after a usage error. */
  usage: string;
  /** The whole `--help` text, built when asked for. */
  help: () => string;
  /** Positional arguments are the command's (default: refused). */
  positionals?: boolean;
  /** The command prints a result with `-o`/`--query` (default true). */
  output?: boolean;
}

/** What every library call takes from a command: its Ctrl-C signal, and with `--debug` the redacted HTTP log. */
export function clientOptionsOf(signal: AbortSignal, debug: boolean): ClientOptions {
  return { signal, ...(debug ? { debug: (line: string) => say(line) } : {}) };
}

export interface CommandContext {
  args: ParsedArgs;
  debug: boolean;
  format: OutputFormat;
  query: string | undefined;
  signal: AbortSignal;
  /** The signal, and the redacted HTTP log with `--debug`: what every library call takes. */
  clientOptions: ClientOptions;
}

/**
 * Runs a command's body with its flags parsed; resolves to the exit code.
 *
 * @example
 * ```ts
 * export const run = (argv: string[]) =>
 *   runCommand(argv, { flags, usage, help }, async ({ args, format, query }) => {
 *     await writeResult(await work(args), format, query);
 *     return ExitCode.ok;
 *   });
 * ```
 */
export async function runCommand(
  argv: string[],
  spec: CommandSpec,
  body: (context: CommandContext) => Promise<number>,
): Promise<number> {
  let debug = false;
  installCrashGuard();
  try {
    const args = parseArgs(argv, spec.flags);
    if (getBoolean(args, "help")) {
      process.stdout.write(spec.help());
      return ExitCode.ok;
    }
    debug = getBoolean(args, "debug");
    if (!spec.positionals && args.positionals.length > 0)
      throw new UsageError(`unexpected argument '${args.positionals[0]}'.`);
    const output = spec.output !== false;
    const format = output ? parseOutputFormat(getString(args, "output")) : "json";
    const query = output ? getString(args, "query") : undefined;
    await compileQuery(query);
    const signal = abortOnInterrupt();
    return await body({
      args,
      debug,
      format,
      query,
      signal,
      clientOptions: clientOptionsOf(signal, debug),
    });
  } catch (error) {
    return reportError(error, spec.usage, debug);
  }
}

/**
 * A command with subcommands (`customers list|tokens`, `partner-center token`): bare or with
 * `--help` it shows the help; an unknown name is a usage error; otherwise the subcommand runs
 * with the rest of the arguments.
 */
export async function runSubcommand(
  argv: string[],
  spec: { usage: string; help: () => string; unknown: (name: string) => string },
  subcommands: Record<string, (rest: string[]) => Promise<number>>,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(spec.help());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const run = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!run) return reportError(new UsageError(spec.unknown(name)), spec.usage);
  return run(rest);
}
