/**
 * `partner-token environments [NAME]`: Get-PartnerEnvironment. The national clouds and the
 * local emulator, with their sign-in host and API endpoints; one of them when NAME is given
 * (any case, legacy names accepted).
 */
import { formatFlags, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [...outputFlags, stackDebugFlag, helpFlag];

const usage = "Usage: partner-token environments [NAME] [-o json|table|tsv|none] [--query EXPR]";

/** Built when asked for, not at load: every run of the command pays for its top level. */
const help = (): string =>
  `partner-token environments — the clouds and their endpoints (Get-PartnerEnvironment)

Examples:
  partner-token environments -o table
  partner-token environments usgovernment --query authorityHost -o tsv

${usage}

Without NAME: every cloud (AzureCloud, AzureChinaCloud, AzureGermanCloud, AzurePPE,
AzureUSGovernment) and the local emulator, as a JSON array. With NAME (any case, legacy names
such as GlobalCloud accepted): that one, as an object.

Options:
${formatFlags(flags)}

Exit codes: 0 ok, 2 usage (unknown name).
`;

export const spec: CommandSpec = { flags, usage, help, positionals: true };

export async function body({ args, format, query }: CommandContext): Promise<number> {
  if (args.positionals.length > 1) throw usageError("environments takes at most one name.");
  const { environments, resolveEnvironment } = await import("../../client/environments.ts");
  const name = args.positionals[0];
  const result =
    name === undefined
      ? [...environments, resolveEnvironment("Emulator")]
      : resolveEnvironment(name);
  await writeResult(result, format, query);
  return ExitCode.ok;
}
