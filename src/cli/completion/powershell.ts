/**
 * The PowerShell completion script: a native argument completer that offers commands, flags in
 * both spellings and enumerated values, matched without regard to case as PowerShell does.
 */
import type { CompletionModel } from "./model.ts";

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
  for (const command of model.commands) {
    for (const name of command.names) {
      commandEntries.push(`        ${quote(name)} = ${quote(command.description)}`);
      const flags = command.flags.flatMap((f) =>
        f.spellings.map((s) => `@(${quote(s)}, ${quote(f.description)})`),
      );
      // `@(@('a', 'b'))` would flatten to two strings: a single pair needs the unary comma.
      flagEntries.push(
        `        ${quote(name)} = @(${flags.length === 1 ? "," : ""}${flags.join(", ")})`,
      );
      const values = command.flags
        .filter((f) => f.values)
        .flatMap((f) => f.spellings.map((s) => `${quote(s)} = ${array(f.values!)}`));
      valueEntries.push(`        ${quote(name)} = @{ ${values.join("; ")} }`);
      const files = command.flags.filter((f) => f.files).flatMap((f) => f.spellings);
      fileEntries.push(`        ${quote(name)} = ${array(files)}`);
      const takesValue = command.flags.filter((f) => f.takesValue).flatMap((f) => f.spellings);
      valueEntries.push(
        `        ${quote(`${name}:takes-value`)} = @{ ${takesValue.map((s) => `${quote(s)} = $true`).join("; ")} }`,
      );
      if (command.positionals)
        positionalEntries.push(`        ${quote(name)} = ${array(command.positionals)}`);
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
    $globalFlags = ${array(model.globalFlags)}

    # The words before the one being completed (the first is the program itself).
    $before = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -lt $cursorPosition -or ($_.Extent.EndOffset -eq $cursorPosition -and -not $wordToComplete) } |
        ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -and $before.Count -gt 0 -and $before[-1] -eq $wordToComplete) {
        $before = @($before | Select-Object -SkipLast 1)
    }
    $command = $before | Select-Object -Skip 1 | Where-Object { -not $_.StartsWith('-') } | Select-Object -First 1
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
