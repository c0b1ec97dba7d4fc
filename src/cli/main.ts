#!/usr/bin/env node
/**
 * `partner-token` entry point. Subcommands are imported lazily so that `--version` and `--help`
 * cost no more than starting Node.
 */
import { readFileSync } from "node:fs";
import type { FlagSpec } from "./args.ts";
import { ExitCode } from "./exit-codes.ts";

/** Set by scripts/build.ts in the bundle; from the sources, package.json is read. */
declare const PARTNER_TOKEN_VERSION: string | undefined;

/**
 * A command module. `flags` (its parser's specs) is what `completion` offers; the table and
 * the usage text are passed to `run` so that `completion` reads them without importing this
 * file (importing it runs the command line).
 */
export interface CommandModule {
  run(argv: string[], cli: { commands: CommandTable; usage: string }): Promise<number>;
  flags?: readonly FlagSpec[];
  /** For a command with subcommands (`customers list`): each one's flags, for `completion`. */
  subcommands?: Readonly<Record<string, readonly FlagSpec[]>>;
}
export type CommandTable = Record<string, () => Promise<CommandModule>>;

const commands: CommandTable = {
  emulator: () => import("./commands/emulator.ts"),
  new: () => import("./commands/new.ts"),
  "new-access-token": () => import("./commands/new.ts"),
  environments: () => import("./commands/environments.ts"),
  decode: () => import("./commands/decode.ts"),
  completion: () => import("./commands/completion.ts"),
  connect: () => import("./commands/connect.ts"),
  token: () => import("./commands/token.ts"),
  status: () => import("./commands/status.ts"),
  disconnect: () => import("./commands/disconnect.ts"),
  exec: () => import("./commands/exec.ts"),
  serve: () => import("./commands/serve.ts"),
  "partner-center": () => import("./commands/partner-center.ts"),
  customers: () => import("./commands/customers.ts"),
  app: () => import("./commands/app.ts"),
};

const usage = `partner-token — Microsoft Entra ID access and refresh tokens for Partner Center, Graph and any API

Examples:
  # Sign in once (browser, MFA) and keep the session; then a token in any script
  partner-token connect
  partner-token token --scopes https://graph.microsoft.com/.default --query accessToken -o tsv

  # New-PartnerAccessToken, flag for flag (its PowerShell spelling works too)
  partner-token new --service-principal --application-id "$APP" --credential env:APP_SECRET \\
    --tenant "$TENANT" --scopes https://api.partnercenter.microsoft.com/.default

  # All of it offline, against the local Entra ID + Partner Center emulator
  partner-token emulator --auto-approve &
  partner-token connect --use-device-authentication --environment Emulator

  # Tab completion
  source <(partner-token completion bash)

Usage: partner-token <command> [options]

Commands:
  new             get an access token and a refresh token (alias new-access-token)
  connect         sign in once and keep the session (Connect-PartnerCenter)
  token           an access token from the session, renewed when needed
  status          the session's health: account, cached tokens, refresh-token window
  disconnect      forget a session
  exec            run a command whose Azure SDKs get the session's tokens (managed identity)
  serve           the same local managed-identity endpoint, long-running
  partner-center  Partner Center's token exchange (partner-center token: POST /generatetoken)
  customers       the partner's customers (list), and a token in every customer tenant (tokens)
  app             the partner's app: made from nothing (create), its secret rotated (rotate-secret)
  environments    list the clouds (AzureCloud, AzureChinaCloud, …) and their endpoints
  decode          show the header and claims of a token
  emulator        run the local Entra ID + Partner Center emulator
  completion      tab completion for bash, zsh, fish, PowerShell

Exit codes: 0 ok, 1 error, 2 usage, 3 refresh token expiring (status), 4 sign-in needed, 130 cancelled.

Run 'partner-token <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stderr.write(usage + "\n");
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    // Read here rather than from a module of its own: one module less to load for --version.
    const version =
      typeof PARTNER_TOKEN_VERSION === "string"
        ? PARTNER_TOKEN_VERSION
        : (
            JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
              version: string;
            }
          ).version;
    process.stdout.write(version + "\n");
    return ExitCode.ok;
  }
  const load = commands[name.toLowerCase()];
  if (!load) {
    process.stderr.write(`partner-token: unknown command '${name}'.\n\n${usage}\n`);
    return ExitCode.usage;
  }
  const command = await load();
  return command.run(rest, { commands, usage });
}

// No top-level await: the standalone executable runs this file as CommonJS.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
