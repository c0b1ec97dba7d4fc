/** Store URIs, cache URIs and encryption keys: what is accepted, and errors that name the wrong part. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openTokenCache, parseStoreUri, StoreUriError } from "../../src/stores/index.ts";
import { parseEncryptionKey } from "../../src/stores/encryption.ts";
import { parseRedisUri } from "../../src/stores/redis-connection.ts";
import { runCli } from "../cli/helpers.ts";

const refuses = (uri: string, message: RegExp) =>
  assert.throws(
    () => parseStoreUri(uri),
    (e: unknown) => {
      assert.ok(e instanceof StoreUriError, `${uri}: ${String(e)}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, message);
      return true;
    },
  );

describe("store URIs", () => {
  it("parses each scheme", () => {
    assert.deepEqual(parseStoreUri("file:/srv/rt"), { scheme: "file", path: "/srv/rt" });
    assert.deepEqual(parseStoreUri("file:~/rt"), { scheme: "file", path: "~/rt" });
    assert.deepEqual(parseStoreUri("keyring:contoso automation"), {
      scheme: "keyring",
      name: "contoso automation",
    });
    assert.deepEqual(
      parseStoreUri("keyvault:https://contoso-kv.vault.azure.net/secrets/partner-rt"),
      {
        scheme: "keyvault",
        vaultUrl: "https://contoso-kv.vault.azure.net",
        secretName: "partner-rt",
      },
    );
    const redis = parseStoreUri("rediss://worker:p%40ss@cache.internal:6380/3#fleet/rt");
    assert.equal(redis.scheme, "redis");
    if (redis.scheme !== "redis") return;
    assert.equal(redis.address.host, "cache.internal");
    assert.equal(redis.address.port, 6380);
    assert.equal(redis.address.db, 3);
    assert.equal(redis.address.username, "worker");
    assert.equal(redis.address.password, "p@ss");
    assert.equal(redis.address.tls, true);
    assert.equal(redis.address.key, "fleet/rt");
    assert.equal(redis.address.description, "rediss://worker@cache.internal:6380/3#fleet/rt");
    assert.ok(!redis.address.description.includes("p@ss"), "no password in messages");
  });

  it("names the part that is wrong", () => {
    refuses("vault:x", /unknown store 'vault'; write file:PATH, keyring:NAME/);
    refuses("/home/me/rt", /unknown store/);
    refuses("file:", /file: needs a path/);
    refuses("keyring:", /keyring: needs a name/);
    refuses("keyvault:contoso-kv", /keyvault: needs the secret's URL/);
    refuses("keyvault:http://kv.vault.azure.net/secrets/a", /must be https:\/\/, not http:/);
    refuses(
      "keyvault:https://kv.vault.azure.net/keys/a",
      /path must be \/secrets\/NAME, not '\/keys\/a'/,
    );
    refuses(
      "keyvault:https://kv.vault.azure.net/certificates/app-cert/0123456789abcdef",
      /name the secret, not the certificate: keyvault:https:\/\/kv\.vault\.azure\.net\/secrets\/app-cert\. Key Vault serves a certificate with its private key/,
    );
    refuses(
      "keyvault:https://kv.vault.azure.net/secrets/bad_name",
      /secret name 'bad_name' is not valid/,
    );
    refuses("keyvault:https://kv.vault.azure.net/secrets/rt/0123456789abcdef", /without a version/);
    refuses("redis://cache:6379/0", /names no key: add #KEY/);
    refuses("redis://cache:6379/zero#k", /the database '\/zero' is not a number/);
    refuses("redis://:secret@cache:6379/0", /names no key/);
    assert.throws(
      () => parseStoreUri("redis://:hunter2@cache:6379/0"),
      (e: Error) => !e.message.includes("hunter2"),
    );
  });

  it("takes the Redis password from PARTNER_TOKEN_REDIS_PASSWORD when the URI has none", () => {
    const a = parseRedisUri("redis://cache:6379#k", "--x", { PARTNER_TOKEN_REDIS_PASSWORD: "pw" });
    assert.equal(a.password, "pw");
    assert.equal(a.port, 6379);
  });

  it("a cache URI takes no key; Redis without a key is refused with how to make one", async () => {
    const key = Buffer.alloc(32, 1);
    await assert.rejects(
      openTokenCache("redis://127.0.0.1:1/0#k", { encryptionKey: key }),
      /takes no #KEY/,
    );
    await assert.rejects(openTokenCache("redis://127.0.0.1:1/0"), /openssl rand -base64 32/);
  });
});

describe("encryption keys", () => {
  it("accepts 32 bytes in base64, base64url or hex", () => {
    const bytes = Buffer.alloc(32, 7);
    assert.deepEqual(parseEncryptionKey(bytes.toString("base64")), bytes);
    assert.deepEqual(parseEncryptionKey(bytes.toString("base64url")), bytes);
    assert.deepEqual(parseEncryptionKey(bytes.toString("hex") + "\n"), bytes);
  });

  it("refuses anything else without repeating it", () => {
    for (const bad of ["", "short", Buffer.alloc(16).toString("base64"), "z".repeat(64)])
      assert.throws(
        () => parseEncryptionKey(bad),
        (e: Error) => {
          assert.match(e.message, /not 32 bytes .*openssl rand -base64 32/);
          assert.ok(bad === "" || !e.message.includes(bad));
          return true;
        },
      );
  });
});

describe("store flags on the command line", () => {
  it("a wrong URI or a missing key is a usage error (exit 2) before any sign-in", async () => {
    const common = [
      "--application-id",
      "af692826-33ec-40b1-8655-1bee077c3a4d",
      "--scopes",
      "x/.default",
    ];
    const bad = await runCli(["new", "--refresh-token-store", "vault:x", ...common]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--refresh-token-store: unknown store 'vault'/);
    const both = await runCli([
      "new",
      "--refresh-token-store",
      "file:/tmp/x",
      "--save-refresh-token",
      "/tmp/x",
      ...common,
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--save-refresh-token FILE is --refresh-token-store file:FILE/);
    const noKey = await runCli([
      "token",
      "--refresh-token-store",
      "redis://127.0.0.1:1/0#rt",
      ...common,
    ]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /needs an encryption key.*openssl rand -base64 32/);
    const cache = await runCli(["token", "--cache", "memcached://x", ...common]);
    assert.equal(cache.code, 2);
    assert.match(cache.stderr, /--cache takes redis:\/\/HOST:PORT/);
  });
});
