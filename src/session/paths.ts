/**
 * Where sessions live. The cache folder holds only encrypted files; the key that opens them is
 * elsewhere (the OS keyring, or a key file outside the cache folder), so a copy of the cache
 * folder alone reveals nothing.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The cache folder: `$PARTNER_TOKEN_CACHE_DIR`; else `%LOCALAPPDATA%\partner-token` on Windows,
 * `~/Library/Application Support/partner-token` on macOS, `$XDG_STATE_HOME/partner-token` (default
 * `~/.local/state/partner-token`) elsewhere.
 *
 * @example
 * ```ts
 * defaultCacheDir({ XDG_STATE_HOME: "/srv/state" }, "linux"); // "/srv/state/partner-token"
 * ```
 */
export function defaultCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string {
  if (env.PARTNER_TOKEN_CACHE_DIR) return env.PARTNER_TOKEN_CACHE_DIR;
  if (platform === "win32")
    return join(env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local"), "partner-token");
  if (platform === "darwin")
    return join(homedir(), "Library", "Application Support", "partner-token");
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "partner-token");
}

/**
 * The folder of key files, used where no OS keyring answers: `$PARTNER_TOKEN_KEY_DIR`; else
 * `%APPDATA%\partner-token\keys`, `~/Library/Preferences/partner-token/keys`, or
 * `$XDG_CONFIG_HOME/partner-token/keys` (default `~/.config/…`) — never inside the cache folder.
 */
export function defaultKeyDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string {
  if (env.PARTNER_TOKEN_KEY_DIR) return env.PARTNER_TOKEN_KEY_DIR;
  if (platform === "win32")
    return join(env.APPDATA ?? join(homedir(), "AppData", "Roaming"), "partner-token", "keys");
  if (platform === "darwin")
    return join(homedir(), "Library", "Preferences", "partner-token", "keys");
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "partner-token", "keys");
}

/** Profile names become file names: letters, digits, `.`, `_`, `-`, 1–64 characters. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
