/** Documented exit codes of `partner-token` (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  /** `status`: the refresh token expires within --warn-days. */
  expiring: 3,
  signInNeeded: 4,
  cancelled: 130,
  /** The reader of stdout went away (`… | head`): stopped quietly, as a shell's SIGPIPE would. */
  brokenPipe: 141,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
