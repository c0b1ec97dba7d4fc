/**
 * The commands of `partner-token`: each one's summary (the usage text and `completion` read it)
 * and its module, imported only when the command runs, so that `--version` and `--help` cost no
 * more than starting Node.
 */
import type { CommandTable } from "./command.ts";

export const commands: CommandTable = {
  emulator: {
    summary: "run the local Entra ID + Partner Center emulator",
    load: () => import("./commands/emulator.ts"),
  },
  new: {
    summary: "get an access token and a refresh token",
    load: () => import("./commands/new.ts"),
  },
  "new-access-token": {
    summary: "get an access token and a refresh token",
    load: () => import("./commands/new.ts"),
    aliasOf: "new",
  },
  environments: {
    summary: "list the clouds (AzureCloud, AzureChinaCloud, …) and their endpoints",
    load: () => import("./commands/environments.ts"),
  },
  decode: {
    summary: "show the header and claims of a token",
    load: () => import("./commands/decode.ts"),
  },
  completion: {
    summary: "tab completion for bash, zsh, fish, PowerShell",
    load: () => import("./commands/completion.ts"),
  },
  connect: {
    summary: "sign in once and keep the session (Connect-PartnerCenter)",
    load: () => import("./commands/connect.ts"),
  },
  token: {
    summary: "an access token from the session, renewed when needed",
    load: () => import("./commands/token.ts"),
  },
  status: {
    summary: "the session's health: account, cached tokens, refresh-token window",
    load: () => import("./commands/status.ts"),
  },
  disconnect: {
    summary: "forget a session",
    load: () => import("./commands/disconnect.ts"),
  },
  exec: {
    summary: "run a command whose Azure SDKs get the session's tokens (managed identity)",
    load: () => import("./commands/exec.ts"),
  },
  serve: {
    summary: "the same local managed-identity endpoint, long-running",
    load: () => import("./commands/serve.ts"),
  },
  "partner-center": {
    summary: "Partner Center's token exchange (partner-center token: POST /generatetoken)",
    load: () => import("./commands/partner-center.ts"),
  },
  customers: {
    summary:
      "the partner's customers (list), a token in each one's tenant (tokens), access diagnosed (check) and repaired (consent)",
    load: () => import("./commands/customers.ts"),
  },
  app: {
    summary:
      "the partner's app: made from nothing (create), its secret or certificate rotated (rotate-secret, rotate-certificate), expiry (credentials)",
    load: () => import("./commands/app.ts"),
  },
};

/** The order of the usage text's command list: the everyday ones first. */
const USAGE_ORDER = [
  "new",
  "connect",
  "token",
  "status",
  "disconnect",
  "exec",
  "serve",
  "partner-center",
  "customers",
  "app",
  "environments",
  "decode",
  "emulator",
  "completion",
];

/** The usage text of a bare `partner-token` and `partner-token --help`. */
export function usage(): string {
  const listed = [
    ...USAGE_ORDER,
    ...Object.keys(commands).filter((n) => !USAGE_ORDER.includes(n) && !commands[n]!.aliasOf),
  ];
  const lines = listed.map((name) => {
    const aliases = Object.keys(commands).filter((n) => commands[n]!.aliasOf === name);
    const summary = commands[name]!.summary;
    return `  ${name.padEnd(16)}${summary}${aliases.length ? ` (alias ${aliases.join(", ")})` : ""}`;
  });
  return `partner-token — Microsoft Entra ID access and refresh tokens for Partner Center, Graph and any API

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
${lines.join("\n")}

Exit codes: 0 ok, 1 error, 2 usage, 3 refresh token expiring (status), 4 sign-in needed, 130 cancelled.

Run 'partner-token <command> --help' for a command's options.`;
}
