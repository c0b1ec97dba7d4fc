/**
 * The bash completion script: one function that finds the command among the words typed so
 * far, then offers the values of the flag before the cursor, or the command's flags, or its
 * positional values. Everything it offers is written into the script when it is generated.
 */
import type { CompletionCommand, CompletionFlag, CompletionModel } from "./model.ts";

/** A word list for `compgen -W`, single-quoted for bash. */
const words = (list: readonly string[]): string => `'${list.join(" ").replace(/'/g, `'\\''`)}'`;

/** What to offer within one command (or subcommand), indented by `pad`. */
function context(
  flags: CompletionFlag[],
  positionals: readonly string[] | undefined,
  pad: string,
): string {
  const valueCases = flags
    .filter((f) => f.takesValue)
    .map((f) => {
      const action = f.values
        ? `COMPREPLY=($(compgen -W ${words(f.values)} -- "$cur"))`
        : f.files
          ? `COMPREPLY=($(compgen -f -- "$cur"))`
          : // A free value (an id, a URL): offering flags here would be wrong.
            `COMPREPLY=()`;
      return `${pad}  ${f.spellings.join("|")}) ${action}; return ;;`;
    });
  const positional = positionals
    ? `COMPREPLY=($(compgen -W ${words(positionals)} -- "$cur"))`
    : "COMPREPLY=()";
  const byPrevious =
    valueCases.length === 0 ? "" : `${pad}case "$prev" in\n${valueCases.join("\n")}\n${pad}esac\n`;
  return `${byPrevious}${pad}if [[ $cur == -* ]]; then
${pad}  COMPREPLY=($(compgen -W ${words(flags.flatMap((f) => f.spellings))} -- "$cur"))
${pad}else
${pad}  ${positional}
${pad}fi`;
}

function commandCase(command: CompletionCommand): string {
  if (!command.subcommands)
    return `    ${command.names.join("|")})\n${context(command.flags, command.positionals, "      ")}\n      ;;`;
  // The subcommand is the word right after the command, as the command reads it.
  const subs = command.subcommands.map(
    (sub) => `        ${sub.name})\n${context(sub.flags, undefined, "          ")}\n          ;;`,
  );
  return `    ${command.names.join("|")})
      local sub=""
      ((i + 1 < COMP_CWORD)) && sub="\${COMP_WORDS[i + 1]}"
      case "$sub" in
${subs.join("\n")}
        *)
${context(command.flags, command.positionals, "          ")}
          ;;
      esac
      ;;`;
}

/**
 * Renders the bash script for `partner-token completion bash`.
 *
 * @example
 * ```sh
 * source <(partner-token completion bash)
 * ```
 */
export function renderBash(model: CompletionModel): string {
  const fn = `_${model.program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const commandNames = model.commands.flatMap((c) => c.names);
  return `# ${model.program} completion for bash.
# Load it in this shell:   source <(${model.program} completion bash)
# Or for every new shell:  ${model.program} completion bash > ~/.local/share/bash-completion/completions/${model.program}
${fn}() {
  # PowerShell spellings are case-insensitive: -environment is -Environment.
  local restore
  restore=$(shopt -p nocasematch)
  shopt -s nocasematch
  ${fn}_words
  eval "$restore"
}
${fn}_words() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" i
  ((COMP_CWORD > 0)) && prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  # --flag=value: bash splits at '=' (COMP_WORDBREAKS); the flag is one word further back.
  if [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
    prev="\${COMP_WORDS[COMP_CWORD - 2]}"
  elif [[ $cur == "=" ]]; then
    prev="\${COMP_WORDS[COMP_CWORD - 1]}" cur=""
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W ${words(model.globalFlags)} -- "$cur"))
    else
      COMPREPLY=($(compgen -W ${words(commandNames)} -- "$cur"))
    fi
    return
  fi
  case "$cmd" in
${model.commands.map(commandCase).join("\n")}
    *) COMPREPLY=() ;;
  esac
}
complete -o default -F ${fn} ${model.program}
`;
}
