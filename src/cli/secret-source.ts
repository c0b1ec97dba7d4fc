/**
 * Secrets come from a *source*, never from the command line itself (where other users see them
 * in the process list and the shell keeps them in its history):
 *
 * | source      | reads                                            |
 * | ----------- | ------------------------------------------------ |
 * | `-`         | standard input (once per command)                |
 * | `@path`     | a file (`@~/…` is under the home folder)         |
 * | `env:NAME`  | an environment variable                          |
 * | `prompt`    | a hidden prompt on the terminal                  |
 * | `file:PATH`, `keyring:NAME`, `keyvault:URL` | a store, as refresh-token stores are named |
 *
 * Leaving the value out uses the flag's default variable (e.g. `AZURE_CLIENT_SECRET`) when set,
 * else prompts on a terminal. One trailing line break is removed from stdin and files.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { getSetting, getSource, type ParsedArgs } from "./args.ts";
import { addSecret } from "./redact.ts";
import { CancelledError } from "../client/errors.ts";
import { CREDENTIAL_STORE_URI } from "../session/store-reader.ts";
import { usageError } from "./usage-error.ts";

export const SOURCE_SPELLINGS =
  "- (stdin), @path (a file), env:NAME (a variable), prompt, or a store: file:PATH, keyring:NAME, keyvault:https://VAULT.vault.azure.net/secrets/NAME, redis://HOST:PORT#KEY";

/**
 * The stores a secret may be read from (as `--refresh-token-store` names them,
 * `CREDENTIAL_STORE_URI`): read here once per run; a session (`connect`) and
 * `--refresh-token-store` (`token`, `serve`, `exec`) instead keep the URI and read the store at
 * each renewal (`session/store-reader.ts`).
 */
const STORE_SOURCE = CREDENTIAL_STORE_URI;

let stdinUsed: string | undefined;

export interface ReadSecretOptions {
  /** The flag as the user wrote it, for messages. */
  flag: string;
  /** What the secret is, for the prompt ("client secret"). */
  what: string;
  /** The variable read when the source is left out. */
  defaultEnv?: string;
  /** An extra CA for a `keyvault:` source (the emulator, a private endpoint). */
  caFile?: string;
}

/** Tells a source from a literal secret, without reading anything. */
export function isSource(value: string): boolean {
  return (
    value === "-" ||
    value === "prompt" ||
    value.startsWith("@") ||
    value.startsWith("env:") ||
    STORE_SOURCE.test(value)
  );
}

/**
 * Reads a secret from its source and registers it for redaction.
 *
 * @example
 * await readSecret("env:PT_REFRESH_TOKEN", { flag: "--refresh-token", what: "refresh token" })
 */
export async function readSecret(
  source: string | undefined,
  options: ReadSecretOptions,
): Promise<string> {
  const value = await readRaw(source, options);
  if (value === "") throw usageError(`${options.flag}: the ${options.what} is empty.`);
  addSecret(value);
  return value;
}

async function readRaw(source: string | undefined, o: ReadSecretOptions): Promise<string> {
  if (source === undefined) {
    const fromEnv = o.defaultEnv ? process.env[o.defaultEnv] : undefined;
    if (fromEnv) return fromEnv;
    if (process.stdin.isTTY && process.stderr.isTTY) return prompt(`${o.what}: `);
    throw usageError(
      `${o.flag} needs the ${o.what} from a source: ${SOURCE_SPELLINGS}` +
        (o.defaultEnv ? `; or set ${o.defaultEnv}.` : "."),
    );
  }
  if (source === "-") {
    if (stdinUsed !== undefined)
      throw usageError(
        `${o.flag} -: standard input is already the source of ${stdinUsed}; use @path or env:NAME for one of them.`,
      );
    stdinUsed = o.flag;
    return stripLineBreak(await readStdin());
  }
  if (source === "prompt") {
    if (!process.stdin.isTTY)
      throw usageError(`${o.flag} prompt: standard input is not a terminal.`);
    return prompt(`${o.what}: `);
  }
  if (source.startsWith("@")) {
    const path = source.slice(1).replace(/^~(?=\/|\\|$)/, homedir());
    try {
      return stripLineBreak(await readFile(path, "utf8"));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw usageError(`${o.flag}: cannot read '${path}' (${code}).`);
    }
  }
  if (source.startsWith("env:")) {
    const name = source.slice(4);
    const value = process.env[name];
    if (!value) throw usageError(`${o.flag}: the environment variable ${name} is not set.`);
    return value;
  }
  if (STORE_SOURCE.test(source)) {
    // A store (Key Vault, the keyring, a private file, Redis): a rotated secret is picked up on
    // the next run. Redis holds it encrypted with PARTNER_TOKEN_ENCRYPTION_KEY.
    const { openRefreshTokenStore, parseStoreUri } = await import("../stores/index.ts");
    const caFile = o.caFile ?? process.env.PARTNER_TOKEN_CA_FILE;
    const keyText = process.env.PARTNER_TOKEN_ENCRYPTION_KEY;
    const encryptionKey =
      parseStoreUri(source, o.flag).scheme === "redis" && keyText
        ? (await import("../stores/encryption.ts")).parseEncryptionKey(
            keyText,
            "PARTNER_TOKEN_ENCRYPTION_KEY",
          )
        : undefined;
    const store = await openRefreshTokenStore(source, {
      flag: o.flag,
      ...(caFile ? { caFile } : {}),
      ...(encryptionKey ? { encryptionKey } : {}),
    });
    try {
      const held = await store.read();
      if (!held) throw usageError(`${o.flag}: ${store.description} holds no ${o.what}.`);
      return held.token;
    } finally {
      await store.close?.();
    }
  }
  // Deliberately not echoed: it is (probably) the secret itself.
  throw usageError(
    `${o.flag} takes where to read the ${o.what} from, not the ${o.what} itself: a value on the ` +
      `command line is visible to other users and kept in shell history.\n` +
      `Write one of: ${o.flag} -   (stdin)  |  ${o.flag} @path  |  ${o.flag} env:NAME  |  ${o.flag} prompt` +
      (o.defaultEnv ? `  |  leave it out to read ${o.defaultEnv}` : ""),
  );
}

const stripLineBreak = (text: string): string => text.replace(/\r?\n$/, "");

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A prompt that does not echo what is typed. Ctrl-C cancels. */
function prompt(label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(label);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = "";
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new CancelledError("cancelled"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * Reads the secret of the `source` flag `name` (its declared `env` when the source is left out).
 * Undefined when the flag is not given and `always` is not set.
 */
export async function secretOf(
  args: ParsedArgs,
  name: string,
  what: string,
  always = false,
): Promise<string | undefined> {
  const source = getSource(args, name);
  if (!source && !always) return undefined;
  const env = args.specs.get(name)?.env;
  // --ca-file (or its setting) reaches a keyvault: source too, not only PARTNER_TOKEN_CA_FILE.
  const caFile = args.specs.has("ca-file") ? getSetting(args, "ca-file") : undefined;
  return readSecret(source?.source, {
    flag: args.spelled.get(name) ?? `--${name}`,
    what,
    ...(env ? { defaultEnv: env } : {}),
    ...(caFile ? { caFile } : {}),
  });
}
