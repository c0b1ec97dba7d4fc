import { ExitCode } from "./exit-codes.ts";

/** A mistake on the command line: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = ExitCode.usage;
  override name = "UsageError";
}
