/**
 * `keyvault:https://VAULT.vault.azure.net/secrets/NAME`: the refresh token as an Azure Key Vault
 * secret, through Microsoft's `@azure/keyvault-secrets`, authenticated by `@azure/identity`'s
 * `DefaultAzureCredential` — the `AZURE_*` variables, a managed identity, workload identity or an
 * `az login` all work, and `AZURE_AUTHORITY_HOST` reaches another cloud or the emulator. Loaded
 * only when a Key Vault store is used.
 *
 * Every write is a new version of the secret: Key Vault has no conditional write, but nothing is
 * ever overwritten either — two writers make two versions, both readable — and the session's
 * renewal lock keeps workers from redeeming the same token twice. Throttling (429) and server
 * errors (5xx) are retried by the SDK's pipeline, honouring `Retry-After`; anything else is
 * reported at once with what to do.
 */
import { readFile } from "node:fs/promises";
import type { TokenCredential } from "@azure/core-auth";
import type { RefreshTokenStore, StoredRefreshToken } from "../session/types.ts";
import { assertStorableToken, StoreError } from "./errors.ts";

/** Key Vault's own DNS suffixes: the SDK checks a challenge against these; anything else is a private endpoint or the emulator. */
const KEY_VAULT_SUFFIXES = [
  ".vault.azure.net",
  ".vault.azure.cn",
  ".vault.usgovcloudapi.net",
  ".vault.microsoftazure.de",
  ".managedhsm.azure.net",
];
/** The login hosts of the public clouds, where MSAL's instance discovery works. */
const KNOWN_LOGIN_HOSTS = [
  "login.microsoftonline.com",
  "login.chinacloudapi.cn",
  "login.microsoftonline.us",
  "login.microsoftonline.de",
];

export interface KeyVaultStoreOptions {
  /** Default: `DefaultAzureCredential`. */
  credential?: TokenCredential;
  /** An extra CA to trust (a private endpoint behind a corporate proxy, or the emulator). */
  caFile?: string;
  /** Retries of 429/5xx (default 3, the SDK's). */
  maxRetries?: number;
}

/**
 * The store for `keyvault:VAULT_URL/secrets/NAME`.
 *
 * @example
 * ```ts
 * const store = await openKeyVaultStore("https://contoso-kv.vault.azure.net", "partner-rt");
 * const current = await store.read(); // { token, updatedAt } or null
 * await store.write(rotated); // a new version
 * ```
 */
export async function openKeyVaultStore(
  vaultUrl: string,
  secretName: string,
  options: KeyVaultStoreOptions = {},
): Promise<RefreshTokenStore> {
  const description = `keyvault:${vaultUrl}/secrets/${secretName}`;
  if (options.caFile) await trustCa(options.caFile);
  const client = await secretClient(vaultUrl, options);
  return {
    description,
    async read(): Promise<StoredRefreshToken | null> {
      try {
        const secret = await client.getSecret(secretName);
        if (!secret.value) return null;
        const updated = secret.properties.updatedOn ?? secret.properties.createdOn;
        return updated
          ? { token: secret.value, updatedAt: updated.getTime() }
          : { token: secret.value };
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw keyVaultError(description, vaultUrl, "read", error);
      }
    },
    async write(token: string): Promise<void> {
      assertStorableToken(token, description);
      try {
        await client.setSecret(secretName, token, {
          contentType: "application/vnd.partner-token.refresh-token",
          tags: { "written-by": "partner-token" },
        });
      } catch (error) {
        throw keyVaultError(description, vaultUrl, "write", error);
      }
    },
  };
}

type SecretClient = import("@azure/keyvault-secrets").SecretClient;

/**
 * One client per vault in a process, over one default credential: a secret read at every renewal
 * (a client secret kept in the vault) then costs one GET, not a new sign-in of the credential and
 * a new challenge round trip each time. A caller's own credential gets a client of its own.
 */
const clients = new Map<string, Promise<SecretClient>>();
let sharedCredential: Promise<TokenCredential> | undefined;

function secretClient(vaultUrl: string, options: KeyVaultStoreOptions): Promise<SecretClient> {
  const make = async (): Promise<SecretClient> => {
    const [{ SecretClient }, credential] = await Promise.all([
      import("@azure/keyvault-secrets"),
      options.credential ??
        (sharedCredential ??= defaultCredential().catch((error: unknown) => {
          sharedCredential = undefined;
          throw error;
        })),
    ]);
    const host = new URL(vaultUrl).hostname.toLowerCase();
    return new SecretClient(vaultUrl, credential, {
      // The SDK checks that the challenge's resource is the vault's own domain; a vault served
      // elsewhere (the emulator, a private name) needs the check off. The token still only goes
      // back to the origin that sent the challenge.
      disableChallengeResourceVerification: !KEY_VAULT_SUFFIXES.some((s) => host.endsWith(s)),
      retryOptions: { maxRetries: options.maxRetries ?? 3 },
      userAgentOptions: { userAgentPrefix: "partner-token" },
    });
  };
  if (options.credential) return make();
  const key = `${vaultUrl}|${options.maxRetries ?? 3}`;
  let client = clients.get(key);
  if (!client) {
    client = make();
    clients.set(key, client);
    client.catch(() => clients.delete(key));
  }
  return client;
}

async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  const authorityHost = process.env.AZURE_AUTHORITY_HOST;
  let custom = false;
  try {
    custom =
      authorityHost !== undefined &&
      !KNOWN_LOGIN_HOSTS.includes(new URL(authorityHost).hostname.toLowerCase());
  } catch {
    /* identity reports a malformed AZURE_AUTHORITY_HOST itself */
  }
  // MSAL asks login.microsoftonline.com about any authority it does not know; a private cloud or
  // the emulator is not known there (identity's documented option for such hosts).
  return new DefaultAzureCredential(custom ? { disableInstanceDiscovery: true } : {});
}

async function trustCa(caFile: string): Promise<void> {
  const tls = await import("node:tls");
  // Node 22.15+: the SDK and identity send through node:https, which uses the default CA list.
  if (typeof tls.setDefaultCACertificates !== "function") return;
  const pem = await readFile(caFile, "utf8");
  const current = tls.getCACertificates("default");
  if (!current.includes(pem)) tls.setDefaultCACertificates([...current, pem]);
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}

function keyVaultError(
  description: string,
  vaultUrl: string,
  verb: "read" | "write",
  error: unknown,
): StoreError {
  const e = error as Error & { statusCode?: number; code?: string; details?: unknown };
  const status = statusOf(error);
  const name = e.name ?? "";
  const what = verb === "read" ? "reading" : "writing";
  const kept = verb === "write" ? " The secret was left as it was." : "";
  if (name === "CredentialUnavailableError" || name === "AggregateAuthenticationError")
    return new StoreError(
      "ERR_KEYVAULT_CREDENTIAL",
      description,
      `No Azure credential for Key Vault while ${what} ${description}.${kept}`,
      {
        hint:
          "DefaultAzureCredential found none: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET " +
          "(or AZURE_CLIENT_CERTIFICATE_PATH), run where a managed identity is assigned, or sign in with `az login`.",
        cause: error,
      },
    );
  if (name === "AuthenticationError")
    return new StoreError(
      "ERR_KEYVAULT_CREDENTIAL",
      description,
      `The Azure credential for Key Vault was refused while ${what} ${description}: ${firstLine(e.message)}.${kept}`,
      { cause: error },
    );
  if (status === 401 || status === 403)
    return new StoreError(
      "ERR_KEYVAULT_FORBIDDEN",
      description,
      `Key Vault refused ${what} ${description} (HTTP ${status}: ${firstLine(e.message)}); the identity needs the secret permissions get and set.${kept}`,
      {
        status,
        hint:
          `Give the identity partner-token runs as the secret permissions get and set on ${vaultUrl} ` +
          "(an access policy, or the role Key Vault Secrets Officer).",
        cause: error,
      },
    );
  if (status === 429 || (status !== undefined && status >= 500))
    return new StoreError(
      "ERR_KEYVAULT_UNAVAILABLE",
      description,
      `Key Vault kept answering HTTP ${status} while ${what} ${description}, after retries.${kept}`,
      { status, hint: "Try again later; Key Vault is throttling or unavailable.", cause: error },
    );
  return new StoreError(
    "ERR_KEYVAULT",
    description,
    `Key Vault: ${what} ${description} failed: ${firstLine(e.message ?? String(error))}${status ? ` (HTTP ${status})` : ""}.${kept}`,
    { ...(status ? { status } : {}), cause: error },
  );
}

const firstLine = (text: string): string => text.split(/\r?\n/)[0]!.replace(/\.$/, "");
