/**
 * What shell completion offers, read from the commands themselves: the command table (each
 * command's summary) and each command's spec (its flags, its subcommands'). Nothing here lists a
 * command or a flag by hand, so a new command or flag completes as soon as it exists.
 */
import type { FlagSpec } from "../args.ts";
import type { CommandTable } from "../command.ts";

/** One flag with every spelling the parser accepts (kebab, PowerShell, short). */
export interface CompletionFlag {
  /** `--application-id`, `--client-id`, `-ApplicationId`, `-ClientId`, `-o`, … */
  spellings: string[];
  description: string;
  /** The flag is followed by a value (string, list or secret source). */
  takesValue: boolean;
  /** The values it takes, when they are a fixed set (environments, output formats, modules). */
  values?: readonly string[];
  /** Its value is a path: the shell's file completion applies. */
  files?: boolean;
}

export interface CompletionCommand {
  /** The command and its aliases (table entries that load the same module). */
  names: string[];
  description: string;
  flags: CompletionFlag[];
  /** Values offered for positional arguments, if they are a fixed set. */
  positionals?: readonly string[];
  /**
   * `customers list`, `customers tokens`: each with flags of its own. The command's
   * positionals are then these names.
   */
  subcommands?: { name: string; flags: CompletionFlag[] }[];
}

export interface CompletionModel {
  program: string;
  commands: CompletionCommand[];
  /** Options before any command. */
  globalFlags: string[];
}

export const SHELLS = ["bash", "zsh", "fish", "powershell"] as const;
export type Shell = (typeof SHELLS)[number];

/** `application-id` → `ApplicationId`: the PowerShell parameter name the parser folds to the flag. */
export const pascalCase = (kebab: string): string =>
  kebab
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

/** Every spelling of a flag the parser accepts, PowerShell unique prefixes aside. */
export function spellingsOf(spec: FlagSpec): string[] {
  const kebab = [spec.name, ...(spec.aliases ?? []).filter((a) => a === a.toLowerCase())];
  const powershell = [
    ...kebab.map(pascalCase),
    ...(spec.aliases ?? []).filter((a) => a !== a.toLowerCase()),
  ];
  const seen = new Set<string>();
  const unique = (names: string[]) =>
    names.filter((n) => !seen.has(n.toLowerCase()) && seen.add(n.toLowerCase()));
  return [
    ...(spec.short ? [`-${spec.short}`] : []),
    ...unique(kebab.map((n) => `--${n}`)),
    ...unique(powershell.map((n) => `-${n}`)),
  ];
}

/** Value names and flag names whose value is a path. */
const PATH_VALUE = /^(file|pem|pfx|dir|folder|path)$/i;
const PATH_FLAG = /-(file|path|dir)$/;

/**
 * The fixed sets of values, by flag name: the same flag name means the same thing in every
 * command (`--environment` in `new`, `connect`, …).
 */
async function enumeratedValues(): Promise<Record<string, readonly string[]>> {
  const [{ environments }, { OUTPUT_FORMATS }, { MODULES }] = await Promise.all([
    import("../../client/environments.ts"),
    import("../output.ts"),
    import("../sign-in-flags.ts"),
  ]);
  const environmentNames = [
    ...environments.flatMap((e) => (e.legacyName ? [e.name, e.legacyName] : [e.name])),
    "Emulator",
  ];
  return {
    environment: environmentNames,
    output: OUTPUT_FORMATS,
    module: MODULES,
    // Positionals, keyed `<command>:`.
    "environments:": environmentNames,
    "completion:": SHELLS,
  };
}

/**
 * Loads every command of the table and describes it for completion.
 *
 * @example
 * ```ts
 * const model = await completionModel(commands);
 * process.stdout.write(renderBash(model));
 * ```
 */
export async function completionModel(commands: CommandTable): Promise<CompletionModel> {
  const values = await enumeratedValues();
  const byModule = new Map<unknown, CompletionCommand>();
  const result: CompletionCommand[] = [];
  for (const [name, entry] of Object.entries(commands)) {
    const module = await entry.load();
    const existing = byModule.get(module);
    if (existing) {
      existing.names.push(name);
      continue;
    }
    const describe = (specs: readonly FlagSpec[]): CompletionFlag[] =>
      specs
        .filter((spec) => !spec.hidden)
        .map((spec) => ({
          spellings: spellingsOf(spec),
          description: spec.help,
          takesValue: spec.kind !== "boolean",
          ...(values[spec.name] ? { values: values[spec.name] } : {}),
          ...((spec.valueName && PATH_VALUE.test(spec.valueName)) || PATH_FLAG.test(spec.name)
            ? { files: true }
            : {}),
        }));
    const subcommands = Object.entries(
      module.body === undefined ? module.spec.subcommands : {},
    ).map(([sub, command]) => ({ name: sub, flags: describe(command.spec.flags) }));
    const positionals =
      subcommands.length > 0 ? subcommands.map((s) => s.name) : values[`${name}:`];
    const command: CompletionCommand = {
      names: [name],
      description: entry.summary,
      // With subcommands, the flags belong to them; before one, only the group's (--help).
      flags: describe(module.spec.flags),
      ...(positionals ? { positionals } : {}),
      ...(subcommands.length > 0 ? { subcommands } : {}),
    };
    byModule.set(module, command);
    result.push(command);
  }
  return {
    program: "partner-token",
    commands: result,
    globalFlags: ["--help", "-h", "--version", "-v"],
  };
}
