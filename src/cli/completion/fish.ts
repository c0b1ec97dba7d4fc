/**
 * The fish completion script: one `complete` line per command and per flag spelling (`-l` for
 * kebab flags, `-o` for PowerShell's single-dash names, `-s` for one letter).
 */
import type { CompletionFlag, CompletionModel } from "./model.ts";

/** Single-quoted for fish (backslash and quote escaped). */
const quote = (text: string): string => `'${text.replace(/[\\']/g, "\\$&")}'`;

/**
 * Renders the fish script for `partner-token completion fish`.
 *
 * @example
 * ```sh
 * partner-token completion fish > ~/.config/fish/completions/partner-token.fish
 * ```
 */
export function renderFish(model: CompletionModel): string {
  const c = `complete -c ${model.program}`;
  const lines = [
    `# ${model.program} completion for fish.`,
    `# Save it:  ${model.program} completion fish > ~/.config/fish/completions/${model.program}.fish`,
    `${c} -f`,
    `${c} -n __fish_use_subcommand -l help -s h -d 'show the help'`,
    `${c} -n __fish_use_subcommand -l version -s v -d 'print the version'`,
  ];
  const flagLines = (when: string, flags: CompletionFlag[]): string[] =>
    flags.flatMap((flag) => {
      const value = !flag.takesValue
        ? ""
        : flag.values
          ? ` -x -a ${quote(flag.values.join(" "))}`
          : flag.files
            ? " -r -F"
            : " -x";
      return flag.spellings.map((spelling) => {
        const option = spelling.startsWith("--")
          ? `-l ${spelling.slice(2)}`
          : spelling.length === 2
            ? `-s ${spelling.slice(1)}`
            : `-o ${spelling.slice(1)}`;
        return `${c} ${when} ${option}${value} -d ${quote(flag.description)}`;
      });
    });
  for (const command of model.commands) {
    for (const name of command.names)
      lines.push(
        `${c} -n __fish_use_subcommand -a ${quote(name)} -d ${quote(command.description)}`,
      );
    const seen = `__fish_seen_subcommand_from ${command.names.join(" ")}`;
    const subs = command.subcommands ?? [];
    // Before a subcommand: its names; after one: its own flags.
    const when =
      subs.length === 0
        ? `-n ${quote(seen)}`
        : `-n ${quote(`${seen}; and not __fish_seen_subcommand_from ${subs.map((s) => s.name).join(" ")}`)}`;
    if (command.positionals) lines.push(`${c} ${when} -a ${quote(command.positionals.join(" "))}`);
    lines.push(...flagLines(when, command.flags));
    for (const sub of subs)
      lines.push(
        ...flagLines(
          `-n ${quote(`${seen}; and __fish_seen_subcommand_from ${sub.name}`)}`,
          sub.flags,
        ),
      );
  }
  return lines.join("\n") + "\n";
}
