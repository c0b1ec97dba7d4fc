/** `partner-token disconnect`: removes the profile's session — its tokens and its key. */
import { formatFlags, getBoolean, parseArgs, type FlagSpec } from "../args.ts";
import { installCrashGuard, reportError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { say } from "../redact.ts";
import { profileFlags, sessionOptionsOf } from "../session-flags.ts";
import { UsageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...profileFlags,
  { name: "help", short: "h", kind: "boolean", help: "show this help" },
];

const usage = "Usage: partner-token disconnect [--profile P] [--cache-dir DIR]";

const help = (): string => `partner-token disconnect — forget a session

Examples:
  partner-token disconnect
  partner-token disconnect --profile contoso

${usage}

Removes the profile's cached tokens, its refresh token (when kept in the local cache) and the key
that encrypts them (keyring entry or key file). A refresh token kept in an external store
(--refresh-token-store) stays there. Exit 0 also when there was no session.

Options:
${formatFlags(flags)}
`;

export async function run(argv: string[]): Promise<number> {
  installCrashGuard();
  try {
    const args = parseArgs(argv, flags);
    if (getBoolean(args, "help")) {
      process.stdout.write(help());
      return ExitCode.ok;
    }
    if (args.positionals.length > 0)
      throw new UsageError(`unexpected argument '${args.positionals[0]}'.`);
    const options = sessionOptionsOf(args);
    const { disconnectSession, profileName } = await import("../../session/session.ts");
    const existed = await disconnectSession(options);
    const name = profileName(options.profile);
    say(
      existed
        ? `partner-token: disconnected profile '${name}'.`
        : `partner-token: profile '${name}' had no session.`,
    );
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, usage);
  }
}
