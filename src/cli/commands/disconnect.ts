/** `partner-token disconnect`: removes the profile's session — its tokens and its key. */
import { formatFlags, type FlagSpec } from "../args.ts";
import { helpFlag, stackDebugFlag, type CommandContext, type CommandSpec } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { say } from "../redact.ts";
import { profileFlags, sessionOptionsOf } from "../session-flags.ts";

export const flags: FlagSpec[] = [...profileFlags, stackDebugFlag, helpFlag];

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

export const spec: CommandSpec = { flags, usage, help, output: false };

export async function body({ args }: CommandContext): Promise<number> {
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
}
