/**
 * The key that encrypts the cache folder. It lives in the OS keyring (Secret Service, macOS
 * Keychain, Windows Credential Manager) through `@napi-rs/keyring`, loaded only when the keyring is
 * used. Where no keyring answers (a server, a container, CI), it lives in a key file 0600 outside
 * the cache folder, and partner-token says once what that means — as the Azure CLI warns about
 * its plaintext cache.
 *
 * Which of the two holds the key is written next to the cache (`key-location.json`, nothing
 * secret in it), so that later commands go straight to it: reading a key file costs a file read,
 * and no command probes a keyring that is known to be absent.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { PartnerTokenError } from "../client/errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "./atomic-file.ts";
import { defaultKeyDir } from "./paths.ts";
import { KEY_BYTES } from "./seal.ts";

const SERVICE = "partner-token";

type KeyLocation = { location: "keyring"; account: string } | { location: "file"; path: string };

/** The keyring refused or did not answer, while the key is known to be there. `exitCode` 1. */
export class KeyringError extends PartnerTokenError {}

export interface CacheKeyOptions {
  /** `off` never uses the keyring (env `PARTNER_TOKEN_KEYRING=off`). */
  keyring?: "auto" | "off";
  /** The key file to use where no keyring answers (default: one per profile in {@link defaultKeyDir}). */
  keyFile?: string;
  /** One-time notices (the key-file warning). */
  warn?: (line: string) => void;
}

export interface CacheKey {
  key: Buffer;
  location: "keyring" | "file";
}

/** Each profile has a key of its own, so `disconnect` of one profile leaves the others whole. */
const markerPath = (cacheDir: string, profile: string): string =>
  join(cacheDir, "profiles", `${profile}.key.json`);

/** Two cache folders never share a key: the folder's path is part of the key's name. */
function keyName(cacheDir: string, profile: string): string {
  const folder = createHash("sha256").update(resolve(cacheDir)).digest("hex").slice(0, 16);
  return `${folder}-${profile}`;
}

async function readMarker(cacheDir: string, profile: string): Promise<KeyLocation | undefined> {
  try {
    // Small files read on every command: synchronous reads cost microseconds, promise reads a
    // round trip through the thread pool.
    const marker = JSON.parse(readFileSync(markerPath(cacheDir, profile), "utf8")) as KeyLocation;
    if (marker.location === "keyring" && typeof marker.account === "string") return marker;
    if (marker.location === "file" && typeof marker.path === "string") return marker;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  }
  return undefined;
}

type KeyringAddon = typeof import("@napi-rs/keyring");

/**
 * The platform's addon package, required straight away from beside `@napi-rs/keyring`: its
 * loader first probes for musl (reads /usr/bin/ldd), tries a local build and reads the
 * addon's package.json, and being CommonJS it is parsed for its exports as well — a few
 * milliseconds of every `token` whose key is in the keyring. Any other platform, libc or
 * layout (the package absent, or one that does not load) goes through the loader, as before.
 * Exported for tests.
 */
export async function keyringAddon(): Promise<KeyringAddon> {
  const abi = process.platform === "linux" ? "-gnu" : process.platform === "win32" ? "-msvc" : "";
  try {
    const loader = createRequire(import.meta.url).resolve("@napi-rs/keyring");
    const addon = createRequire(loader)(
      `@napi-rs/keyring-${process.platform}-${process.arch}${abi}`,
    ) as Partial<KeyringAddon>;
    if (typeof addon.Entry === "function") return addon as KeyringAddon;
  } catch {
    // the loader below finds the right one, or says why there is none
  }
  return import("@napi-rs/keyring");
}

async function keyringEntry(account: string) {
  const { Entry } = await keyringAddon();
  return new Entry(SERVICE, account, { linux: { store: "secret-service" } });
}

function decodeKey(text: string | null | undefined): Buffer | undefined {
  if (!text) return undefined;
  const key = Buffer.from(text.trim(), "base64");
  return key.length === KEY_BYTES ? key : undefined;
}

/**
 * The profile's key, or undefined when the cache has none yet (nothing was ever stored, or
 * the key file is gone). Throws {@link KeyringError} when the keyring holds the key but refuses.
 */
export async function loadCacheKey(
  cacheDir: string,
  profile: string,
): Promise<CacheKey | undefined> {
  const marker = await readMarker(cacheDir, profile);
  if (!marker) return undefined;
  if (marker.location === "file") {
    try {
      const key = decodeKey(readFileSync(marker.path, "utf8"));
      return key && { key, location: "file" };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new KeyringError(
        "ERR_KEY_FILE",
        `Cannot read the cache key file ${marker.path}: ${(error as Error).message}.`,
        { hint: "Check the file's owner and mode (it must be readable by you, mode 0600)." },
      );
    }
  }
  let secret: string | null;
  try {
    secret = (await keyringEntry(marker.account)).getPassword();
  } catch (error) {
    throw new KeyringError(
      "ERR_KEYRING",
      `The cache key is kept in the OS keyring, which did not answer: ${(error as Error).message}.`,
      {
        hint:
          "Unlock the keyring (on Linux: a Secret Service such as gnome-keyring must run in your session), then try again. " +
          "Nothing was changed. To start over without the keyring: partner-token disconnect --all, then connect with PARTNER_TOKEN_KEYRING=off.",
      },
    );
  }
  const key = decodeKey(secret);
  return key && { key, location: "keyring" };
}

/**
 * The profile's key, created when there is none: in the keyring when one answers, else in
 * the key file (with a one-time warning).
 */
export async function loadOrCreateCacheKey(
  cacheDir: string,
  profile: string,
  options: CacheKeyOptions = {},
): Promise<CacheKey> {
  const existing = await loadCacheKey(cacheDir, profile);
  if (existing) return existing;
  await ensurePrivateDir(join(cacheDir, "profiles"));
  const key = randomBytes(KEY_BYTES);
  const useKeyring =
    (options.keyring ?? (process.env.PARTNER_TOKEN_KEYRING === "off" ? "off" : "auto")) !== "off";
  if (useKeyring) {
    const account = `cache-key:${keyName(cacheDir, profile)}`;
    try {
      const entry = await keyringEntry(account);
      entry.setPassword(key.toString("base64"));
      if (decodeKey(entry.getPassword())?.equals(key)) {
        await writeFileAtomic(
          markerPath(cacheDir, profile),
          JSON.stringify({ location: "keyring", account }),
        );
        return { key, location: "keyring" };
      }
    } catch {
      /* no keyring here: fall back to the key file below */
    }
  }
  const path = resolve(
    options.keyFile ?? join(defaultKeyDir(), `${keyName(cacheDir, profile)}.key`),
  );
  await ensurePrivateDir(dirname(path));
  await writeFileAtomic(path, key.toString("base64") + "\n");
  await writeFileAtomic(markerPath(cacheDir, profile), JSON.stringify({ location: "file", path }));
  options.warn?.(
    `partner-token: no OS keyring answered, so the key that encrypts the token cache is in ${path} (mode 0600). ` +
      `Anyone who can read that file as you can read your tokens. Run where a keyring is available ` +
      `(Secret Service, macOS Keychain, Windows Credential Manager) to keep the key there instead, ` +
      `or protect that file as you would a password.`,
  );
  return { key, location: "file" };
}

/** Removes the profile's key (keyring entry or key file) and its marker. */
export async function deleteCacheKey(cacheDir: string, profile: string): Promise<void> {
  const { rm } = await import("node:fs/promises");
  const marker = await readMarker(cacheDir, profile);
  if (marker?.location === "file") await rm(marker.path, { force: true });
  if (marker?.location === "keyring") {
    try {
      (await keyringEntry(marker.account)).deletePassword();
    } catch {
      /* the keyring is gone: nothing left to remove there */
    }
  }
  await rm(markerPath(cacheDir, profile), { force: true });
}
