/**
 * The PowerShell completion script: a native argument completer that offers commands, flags in
 * both spellings and enumerated values, matched without regard to case as PowerShell does.
 */
import type { CompletionFlag, CompletionModel } from "./model.ts";

/** Single-quoted for PowerShell (a quote is doubled). */
const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const array = (list: readonly string[]): string => `@(${list.map(quote).join(", ")})`;

/**
 * Renders the PowerShell script for `partner-token completion powershell`.
 *
 * @example
 * ```powershell
 * partner-token completion powershell | Out-String | Invoke-Expression
 * ```
 */
export function renderPowerShell(model: CompletionModel): string {
  const commandEntries: string[] = [];
  const flagEntries: string[] = [];
  const valueEntries: string[] = [];
  const fileEntries: string[] = [];
  const positionalEntries: string[] = [];
  const subcommandEntries: string[] = [];
  /** The data of one context: a command, or `command subcommand`. */
  const add = (key: string, flags: CompletionFlag[], positionals?: readonly string[]) => {
    const pairs = flags.flatMap((f) =>
      f.spellings.map((s) => `@(${quote(s)}, ${quote(f.description)})`),
    );
    // `@(@('a', 'b'))` would flatten to two strings: a single pair needs the unary comma.
    flagEntries.push(
      `        ${quote(key)} = @(${pairs.length === 1 ? "," : ""}${pairs.join(", ")})`,
    );
    const values = flags
      .filter((f) => f.values)
      .flatMap((f) => f.spellings.map((s) => `${quote(s)} = ${array(f.values!)}`));
    valueEntries.push(`        ${quote(key)} = @{ ${values.join("; ")} }`);
    const files = flags.filter((f) => f.files).flatMap((f) => f.spellings);
    fileEntries.push(`        ${quote(key)} = ${array(files)}`);
    const takesValue = flags.filter((f) => f.takesValue).flatMap((f) => f.spellings);
    valueEntries.push(
      `        ${quote(`${key}:takes-value`)} = @{ ${takesValue.map((s) => `${quote(s)} = $true`).join("; ")} }`,
    );
    if (positionals) positionalEntries.push(`        ${quote(key)} = ${array(positionals)}`);
  };
  for (const command of model.commands) {
    for (const name of command.names) {
      commandEntries.push(`        ${quote(name)} = ${quote(command.description)}`);
      add(name, command.flags, command.positionals);
      if (!command.subcommands) continue;
      subcommandEntries.push(
        `        ${quote(name)} = ${array(command.subcommands.map((sub) => sub.name))}`,
      );
      for (const sub of command.subcommands) add(`${name} ${sub.name}`, sub.flags);
    }
  }
  return `# ${model.program} completion for PowerShell.
# Load it in this session:  ${model.program} completion powershell | Out-String | Invoke-Expression
# Or add that line to $PROFILE.
Register-ArgumentCompleter -Native -CommandName ${quote(model.program)}, ${quote(`${model.program}.exe`)} -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $commands = [ordered]@{
${commandEntries.join("\n")}
    }
    $flags = @{
${flagEntries.join("\n")}
    }
    # Hashtables match keys without regard to case, like PowerShell's parameter names; the
    # kebab and PowerShell spellings differ by their dashes, so they never collide.
    $values = @{
${valueEntries.join("\n")}
    }
    $files = @{
${fileEntries.join("\n")}
    }
    $positionals = @{
${positionalEntries.join("\n")}
    }
    $subcommands = @{
${subcommandEntries.join("\n")}
    }
    $globalFlags = ${array(model.globalFlags)}

    # The words before the one being completed (the first is the program itself).
    $before = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -lt $cursorPosition -or ($_.Extent.EndOffset -eq $cursorPosition -and -not $wordToComplete) } |
        ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -and $before.Count -gt 0 -and $before[-1] -eq $wordToComplete) {
        $before = @($before | Select-Object -SkipLast 1)
    }
    $words = @($before | Select-Object -Skip 1 | Where-Object { -not $_.StartsWith('-') })
    $command = $words | Select-Object -First 1
    # A command with subcommands (customers list): the context is both words.
    if ($command -and $subcommands.ContainsKey($command) -and $words.Count -gt 1 -and $subcommands[$command] -contains $words[1]) {
        $command = "$command $($words[1])"
    }
    $prev = if ($before.Count -gt 1) { $before[-1] } else { '' }

    function Offer($candidates, $kind) {
        foreach ($candidate in $candidates) {
            $text, $tip = if ($candidate -is [array]) { $candidate[0], $candidate[1] } else { $candidate, $candidate }
            if ($text -like "$wordToComplete*") {
                [System.Management.Automation.CompletionResult]::new($text, $text, $kind, $(if ($tip) { $tip } else { $text }))
            }
        }
    }

    if (-not $command) {
        if ($wordToComplete.StartsWith('-')) { Offer $globalFlags 'ParameterName' }
        else { Offer @($commands.Keys | ForEach-Object { ,@($_, $commands[$_]) }) 'Command' }
        return
    }
    if (-not $flags.ContainsKey($command)) { return }
    # A value joined to its flag. PowerShell parses -Environment:Azu as a parameter with an
    # argument and completes only the argument; --output=t is one word.
    $current = @($commandAst.CommandElements | Where-Object { $_.Extent.StartOffset -lt $cursorPosition -and $_.Extent.EndOffset -ge $cursorPosition }) | Select-Object -Last 1
    if ($current -is [System.Management.Automation.Language.CommandParameterAst] -and $current.Argument -and $values[$command].ContainsKey("-$($current.ParameterName)")) {
        Offer $values[$command]["-$($current.ParameterName)"] 'ParameterValue'
        return
    }
    if ($wordToComplete -match '^(-{1,2}[^:=]+)([:=])(.*)$' -and $values[$command].ContainsKey($Matches[1])) {
        $flag, $sep, $partial = $Matches[1], $Matches[2], $Matches[3]
        foreach ($candidate in $values[$command][$flag]) {
            $text = if ($candidate -is [array]) { $candidate[0] } else { $candidate }
            if ($text -like "$partial*") {
                [System.Management.Automation.CompletionResult]::new("$flag$sep$text", $text, 'ParameterValue', $text)
            }
        }
        return
    }
    if ($prev -and $values[$command].ContainsKey($prev)) {
        Offer $values[$command][$prev] 'ParameterValue'
        return
    }
    if ($prev -and $files[$command] -contains $prev) {
        Get-ChildItem -Path "$wordToComplete*" -ErrorAction SilentlyContinue | ForEach-Object {
            [System.Management.Automation.CompletionResult]::new($_.Name, $_.Name, 'ProviderItem', $_.FullName)
        }
        return
    }
    if ($prev -and $values[$command + ':takes-value'].ContainsKey($prev)) { return }
    if ($wordToComplete.StartsWith('-')) { Offer $flags[$command] 'ParameterName' }
    elseif ($positionals.ContainsKey($command)) { Offer $positionals[$command] 'ParameterValue' }
}
`;
}
