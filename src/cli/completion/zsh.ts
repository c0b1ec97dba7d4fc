/**
 * The zsh completion script: commands and flags with their descriptions (`_describe`), the
 * values of enumerated flags, files for path flags.
 */
import type { CompletionCommand, CompletionFlag, CompletionModel } from "./model.ts";

/** Single-quoted for zsh. */
const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
/** A `name:description` entry for `_describe` (colons in the name escaped). */
const entry = (name: string, description: string): string =>
  quote(`${name.replace(/:/g, "\\:")}:${description}`);

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
        ? `compadd -- ${f.values.map(quote).join(" ")}`
        : f.files
          ? "_files"
          : `_message ${quote(f.description)}`;
      // Matched lower-cased: PowerShell spellings are case-insensitive (-environment).
      return `${pad}  (${f.spellings.map((n) => n.toLowerCase()).join("|")}) ${action}; return ;;`;
    });
  const entries = flags.flatMap((f) => f.spellings.map((s) => entry(s, f.description)));
  const positional = positionals ? `compadd -- ${positionals.map(quote).join(" ")}` : "_files";
  const byPrevious =
    valueCases.length === 0
      ? ""
      : `${pad}case \${(L)prev} in\n${valueCases.join("\n")}\n${pad}esac\n`;
  return `${byPrevious}${pad}if [[ $PREFIX == -* ]]; then
${pad}  local -a flags=(
${pad}    ${entries.join(`\n${pad}    `)}
${pad}  )
${pad}  _describe -t options option flags
${pad}else
${pad}  ${positional}
${pad}fi`;
}

function commandCase(command: CompletionCommand): string {
  if (!command.subcommands)
    return `    (${command.names.join("|")})\n${context(command.flags, command.positionals, "      ")}\n      ;;`;
  // The subcommand is the word right after the command, as the command reads it.
  const subs = command.subcommands.map(
    (sub) => `        (${sub.name})\n${context(sub.flags, undefined, "          ")}\n          ;;`,
  );
  return `    (${command.names.join("|")})
      local sub=""
      ((i + 1 < CURRENT)) && sub=\${words[i + 1]}
      case $sub in
${subs.join("\n")}
        (*)
${context(command.flags, command.positionals, "          ")}
          ;;
      esac
      ;;`;
}

/**
 * Renders the zsh script for `partner-token completion zsh`.
 *
 * @example
 * ```sh
 * source <(partner-token completion zsh)   # after compinit
 * ```
 */
export function renderZsh(model: CompletionModel): string {
  const fn = `_${model.program.replace(/[^A-Za-z0-9]/g, "_")}`;
  const commands = model.commands.flatMap((c) => c.names.map((n) => entry(n, c.description)));
  return `#compdef ${model.program}
# ${model.program} completion for zsh.
# Load it in this shell (after compinit):  source <(${model.program} completion zsh)
# Or save it as _${model.program} in a folder of $fpath.
${fn}() {
  local cmd="" prev="\${words[CURRENT-1]}" i
  for ((i = 2; i < CURRENT; i++)); do
    if [[ \${words[i]} != -* ]]; then
      cmd=\${words[i]}
      break
    fi
  done
  if [[ -z $cmd ]]; then
    if [[ $PREFIX == -* ]]; then
      compadd -- ${model.globalFlags.map(quote).join(" ")}
    else
      local -a commands=(
        ${commands.join("\n        ")}
      )
      _describe -t commands command commands
    fi
    return
  fi
  case $cmd in
${model.commands.map(commandCase).join("\n")}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${model.program}
fi
`;
}
