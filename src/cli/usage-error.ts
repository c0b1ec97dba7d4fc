import { UsageError } from "../client/errors.ts";

/** The code of a mistake on the command line; {@link reportError} prints such an error with the command's usage line. */
export const COMMAND_LINE_CODE = "ERR_USAGE";

/**
 * A mistake on the command line: the library's {@link UsageError} (exit code 2) with the code
 * `ERR_USAGE`, printed with the command's usage line.
 */
export function usageError(message: string): UsageError {
  return new UsageError(COMMAND_LINE_CODE, message);
}

/** The error is a command-line mistake (not the library's own usage errors, which name their option). */
export function isCommandLineError(error: unknown): error is UsageError {
  return error instanceof UsageError && error.code === COMMAND_LINE_CODE;
}
