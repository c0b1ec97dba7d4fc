/**
 * `partner-token completion bash|zsh|fish|powershell`: prints a script that completes commands,
 * flags (kebab and PowerShell spellings) and enumerated values (environments, output formats,
 * modules). The script is generated from the command table and each command's flags, so it is
 * always as current as the binary that printed it.
 */
import { formatFlags, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [stackDebugFlag, helpFlag];

const usage = "Usage: partner-token completion bash|zsh|fish|powershell";

/** Built when asked for, not at load: every run of the command pays for its top level. */
const help = (): string =>
  `partner-token completion — tab completion for your shell

Examples:
  # bash: this shell, or every new one
  source <(partner-token completion bash)
  partner-token completion bash > ~/.local/share/bash-completion/completions/partner-token

  # zsh (after compinit in ~/.zshrc)
  source <(partner-token completion zsh)

  # fish
  partner-token completion fish > ~/.config/fish/completions/partner-token.fish

  # PowerShell: this session, or add the line to $PROFILE
  partner-token completion powershell | Out-String | Invoke-Expression

${usage}

Completes commands, flags in both spellings (--application-id and -ApplicationId), and the
values of --environment, --output and --module. The script goes to stdout.

Options:
${formatFlags(flags)}

Exit codes: 0 ok, 2 usage (unknown shell).
`;

export const spec: CommandSpec = { flags, usage, help, positionals: true, output: false };

export async function body({ args, table }: CommandContext): Promise<number> {
  const { completionModel, SHELLS } = await import("../completion/model.ts");
  const [shell, ...extra] = args.positionals;
  if (shell === undefined) throw usageError(`name a shell: ${SHELLS.join(", ")}.`);
  if (extra.length > 0) throw usageError("completion takes one shell name.");
  const name = shell.toLowerCase() === "pwsh" ? "powershell" : shell.toLowerCase();
  if (!(SHELLS as readonly string[]).includes(name))
    throw usageError(`no completion for '${shell}': choose ${SHELLS.join(", ")}.`);
  const model = await completionModel(table);
  const render = {
    bash: async () => (await import("../completion/bash.ts")).renderBash,
    zsh: async () => (await import("../completion/zsh.ts")).renderZsh,
    fish: async () => (await import("../completion/fish.ts")).renderFish,
    powershell: async () => (await import("../completion/powershell.ts")).renderPowerShell,
  }[name as (typeof SHELLS)[number]];
  process.stdout.write((await render())(model));
  return ExitCode.ok;
}
