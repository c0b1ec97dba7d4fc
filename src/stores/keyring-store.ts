/**
 * `keyring:NAME`: the refresh token in the OS keyring (Secret Service on Linux, the macOS
 * Keychain, the Windows Credential Manager) through `@napi-rs/keyring`, under the service
 * "partner-token" and the account NAME. Loaded only when a keyring store is used.
 *
 * A keyring replaces a secret in one call, so two writers cannot interleave; the session's
 * renewal lock keeps them from redeeming the same token twice.
 */
import type { RefreshTokenStore, StoredRefreshToken } from "../session/types.ts";
import { assertStorableToken, StoreError } from "./errors.ts";

/** The keyring service under which partner-token keeps refresh tokens. */
export const KEYRING_SERVICE = "partner-token";

function keyringError(description: string, verb: string, error: unknown): StoreError {
  return new StoreError(
    "ERR_KEYRING",
    description,
    `The OS keyring did not let partner-token ${verb} ${description}: ${(error as Error).message}.`,
    {
      hint:
        process.platform === "linux"
          ? "A Secret Service (gnome-keyring, KeePassXC…) must be running and unlocked in this session (D-Bus). " +
            "On a server or in a container use file:, keyvault: or redis: instead. Nothing was changed."
          : "Unlock the keychain / credential manager, then try again. Nothing was changed.",
      cause: error,
    },
  );
}

/**
 * The store for `keyring:NAME`.
 *
 * @example
 * ```ts
 * const store = await openKeyringStore("contoso-automation");
 * await store.write(result.refreshToken);
 * ```
 */
export async function openKeyringStore(name: string): Promise<RefreshTokenStore> {
  const description = `keyring:${name}`;
  let entry;
  try {
    const { AsyncEntry } = await import("@napi-rs/keyring");
    entry = new AsyncEntry(KEYRING_SERVICE, name, { linux: { store: "secret-service" } });
  } catch (error) {
    throw keyringError(description, "open", error);
  }
  return {
    description,
    async read(): Promise<StoredRefreshToken | null> {
      let token: string | null;
      try {
        token = await entry.getPassword();
      } catch (error) {
        throw keyringError(description, "read", error);
      }
      return token ? { token } : null;
    },
    async write(token: string): Promise<void> {
      assertStorableToken(token, description);
      try {
        await entry.setPassword(token);
      } catch (error) {
        throw keyringError(description, "write", error);
      }
    },
  };
}
