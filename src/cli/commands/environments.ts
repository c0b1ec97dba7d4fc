/**
 * `partner-token environments [NAME]`: Get-PartnerEnvironment. The national clouds and the
 * local emulator, with their sign-in host and API endpoints; one of them when NAME is given
 * (any case, legacy names accepted).
 */
import { formatFlags, getBoolean, getString, parseArgs, type FlagSpec } from "../args.ts";
import { reportError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { compileQuery, outputFlags, parseOutputFormat, writeResult } from "../output.ts";
import { UsageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...outputFlags,
  { name: "help", short: "h", kind: "boolean", help: "show this help" },
];

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

/** Entry point of `partner-token environments`. */
export async function run(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, flags);
    if (getBoolean(args, "help")) {
      process.stdout.write(help());
      return ExitCode.ok;
    }
    if (args.positionals.length > 1) throw new UsageError("environments takes at most one name.");
    const format = parseOutputFormat(getString(args, "output"));
    const query = getString(args, "query");
    await compileQuery(query);
    const { environments, resolveEnvironment } = await import("../../client/environments.ts");
    const name = args.positionals[0];
    const result =
      name === undefined
        ? [...environments, resolveEnvironment("Emulator")]
        : resolveEnvironment(name);
    await writeResult(result, format, query);
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, usage);
  }
}
