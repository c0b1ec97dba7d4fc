/**
 * Opening a store the flags name — a refresh token's, a client secret's, a certificate's — with
 * the key (`--encryption-key`) and CA (`--ca-file`) they give, every value read registered for
 * redaction; and a secret or certificate flag's store as a reader called at each renewal. Below
 * both `store-flags.ts` and `sign-in-flags.ts`, which take it from here.
 */
import type { RefreshTokenStore } from "../session/types.ts";
import { getSetting, getSource, type FlagSpec, type ParsedArgs } from "./args.ts";
import { addSecret } from "./redact.ts";
import { secretOf } from "./secret-source.ts";

export const encryptionKeyFlag: FlagSpec = {
  name: "encryption-key",
  kind: "source",
  env: "PARTNER_TOKEN_ENCRYPTION_KEY",
  help: "the key (32 bytes, base64 or hex) that encrypts what goes to Redis, from a source [env PARTNER_TOKEN_ENCRYPTION_KEY]",
};

/** The `--encryption-key` (or `PARTNER_TOKEN_ENCRYPTION_KEY`), read only when Redis needs it. */
export async function encryptionKeyOf(args: ParsedArgs): Promise<Buffer | undefined> {
  const source = getSource(args, "encryption-key");
  if (!source && !process.env[encryptionKeyFlag.env!]) return undefined;
  const { parseEncryptionKey } = await import("../stores/encryption.ts");
  const text = (await secretOf(args, "encryption-key", "encryption key", true))!;
  return parseEncryptionKey(text, source ? "--encryption-key" : encryptionKeyFlag.env!);
}

/**
 * Opens the store `uri` with the key and CA the flags give (`fallbackCa`: a session's, when the
 * flags give none). Every value read from it is registered for redaction: a refresh token, a
 * client secret, a certificate's PFX never reaches stderr.
 */
export async function openStoreFromArgs(
  args: ParsedArgs,
  uri: string,
  fallbackCa?: string,
  flag?: string,
): Promise<RefreshTokenStore> {
  const { openRefreshTokenStore, parseStoreUri } = await import("../stores/index.ts");
  const location = parseStoreUri(uri, flag);
  const encryptionKey = location.scheme === "redis" ? await encryptionKeyOf(args) : undefined;
  const caFile = getSetting(args, "ca-file") ?? fallbackCa;
  const store = await openRefreshTokenStore(uri, {
    ...(encryptionKey ? { encryptionKey } : {}),
    ...(caFile ? { caFile } : {}),
    ...(flag ? { flag } : {}),
  });
  const read = store.read.bind(store);
  store.read = async () => {
    const held = await read();
    if (held?.token) addSecret(held.token);
    return held;
  };
  return store;
}

/**
 * A secret or certificate flag's store (`--credential keyvault:…`, `--certificate-path
 * keyring:…`) as a reader that opens and reads it at each call: each renewal of a long-running
 * process (serve, exec, a session) reads what the store holds then.
 */
export async function storeReaderFromArgs(
  args: ParsedArgs,
  uri: string,
  flag: string,
  what: string,
  emptyIs: "error" | "empty" = "error",
): Promise<() => Promise<string>> {
  (await import("../stores/index.ts")).parseStoreUri(uri, flag);
  const { storeValueReader } = await import("../session/store-reader.ts");
  return storeValueReader(uri, (u) => openStoreFromArgs(args, u, undefined, flag), what, emptyIs);
}
