#!/usr/bin/env node
/**
 * `partner-token` entry point. Subcommands are imported lazily so that `--version` and `--help`
 * cost no more than starting Node.
 */
import { readFileSync } from "node:fs";
import { ExitCode } from "./exit-codes.ts";

const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number> }>> = {
  emulator: () => import("./commands/emulator.ts"),
  new: () => import("./commands/new.ts"),
  "new-access-token": () => import("./commands/new.ts"),
  environments: () => import("./commands/environments.ts"),
  decode: () => import("./commands/decode.ts"),
};

const usage = `partner-token — Microsoft Entra ID access and refresh tokens for Partner Center, Graph and any API

Usage: partner-token <command> [options]

Commands:
  new             get an access token and a refresh token (alias new-access-token)
  environments    list the clouds (AzureCloud, AzureChinaCloud, …) and their endpoints
  decode          show the header and claims of a token
  emulator        run the local Entra ID + Partner Center emulator

Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in needed, 130 cancelled.

Run 'partner-token <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stderr.write(usage + "\n");
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    // Read here rather than from a module of its own: one module less to load for --version.
    const { version } = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    process.stdout.write(version + "\n");
    return ExitCode.ok;
  }
  const load = commands[name.toLowerCase()];
  if (!load) {
    process.stderr.write(`partner-token: unknown command '${name}'.\n\n${usage}\n`);
    return ExitCode.usage;
  }
  const command = await load();
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
