#!/usr/bin/env node
/**
 * `partner-token` entry point: `--version`, the usage text, and the command the first argument
 * names, loaded from the command table (`command-table.ts`) and run by `runCommand`.
 */
import { readFileSync } from "node:fs";
import { runCommand } from "./command.ts";
import { commands, usage } from "./command-table.ts";
import { ExitCode } from "./exit-codes.ts";

/** Set by scripts/build.ts in the bundle; from the sources, package.json is read. */
declare const PARTNER_TOKEN_VERSION: string | undefined;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
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
  const key = name.toLowerCase();
  const entry = Object.hasOwn(commands, key) ? commands[key] : undefined;
  if (!entry) {
    process.stderr.write(`partner-token: unknown command '${name}'.\n\n${usage()}\n`);
    return ExitCode.usage;
  }
  return runCommand(rest, await entry.load(), commands);
}

// No top-level await: the standalone executable runs this file as CommonJS.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
