/**
 * The fish completion script: one `complete` line per command and per flag spelling (`-l` for
 * kebab flags, `-o` for PowerShell's single-dash names, `-s` for one letter).
 */
import type { CompletionModel } from "./model.ts";

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
  for (const command of model.commands) {
    for (const name of command.names)
      lines.push(
        `${c} -n __fish_use_subcommand -a ${quote(name)} -d ${quote(command.description)}`,
      );
    const when = `-n ${quote(`__fish_seen_subcommand_from ${command.names.join(" ")}`)}`;
    if (command.positionals) lines.push(`${c} ${when} -a ${quote(command.positionals.join(" "))}`);
    for (const flag of command.flags) {
      const value = !flag.takesValue
        ? ""
        : flag.values
          ? ` -x -a ${quote(flag.values.join(" "))}`
          : flag.files
            ? " -r -F"
            : " -x";
      for (const spelling of flag.spellings) {
        const option = spelling.startsWith("--")
          ? `-l ${spelling.slice(2)}`
          : spelling.length === 2
            ? `-s ${spelling.slice(1)}`
            : `-o ${spelling.slice(1)}`;
        lines.push(`${c} ${when} ${option}${value} -d ${quote(flag.description)}`);
      }
    }
  }
  return lines.join("\n") + "\n";
}
