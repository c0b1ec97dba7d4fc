/**
 * `redis+cluster://` and `redis+sentinel://` URIs (no server needed): what is parsed, what is
 * refused and how, that a password never reaches a description or a message, and the hash slot
 * the client computes to find the master a write must `WAIT` on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isRedisCacheUri,
  openTokenCache,
  parseStoreUri,
  StoreError,
  StoreUriError,
} from "../../src/stores/index.ts";
import { parseEncryptionKey } from "../../src/stores/encryption.ts";
import { keySlot, parseRedisUri, redactUri } from "../../src/stores/redis-connection.ts";
import { freePort, newKey } from "./helpers.ts";

const noEnv = {};

describe("redis+cluster and redis+sentinel URIs", () => {
  it("parses a cluster's seed nodes, user, password and key; the description has no password", () => {
    const a = parseRedisUri(
      "rediss+cluster://fleet:s3cr%40t@10.0.0.5:7000,[::1]:7001,cache-3#rt",
      "--x",
      noEnv,
    );
    assert.equal(a.mode, "cluster");
    assert.deepEqual(a.nodes, [
      { host: "10.0.0.5", port: 7000 },
      { host: "::1", port: 7001 },
      { host: "cache-3", port: 6379 },
    ]);
    assert.equal(a.username, "fleet");
    assert.equal(a.password, "s3cr@t");
    assert.equal(a.tls, true);
    assert.equal(a.key, "rt");
    assert.equal(a.db, 0);
    assert.equal(a.description, "rediss+cluster://fleet@10.0.0.5:7000,[::1]:7001,cache-3:6379#rt");
    assert.ok(!a.description.includes("s3cr"));
    assert.equal(parseRedisUri("redis+cluster://h:1/?", "--x", noEnv).mode, "cluster");
  });

  it("parses sentinels, the master's name and the database; the password may come from the environment", () => {
    const a = parseRedisUri("redis+sentinel://s1,s2:26380/mymaster/3#partner-rt", "--x", {
      PARTNER_TOKEN_REDIS_PASSWORD: "from-env",
    });
    assert.equal(a.mode, "sentinel");
    assert.deepEqual(a.nodes, [
      { host: "s1", port: 26379 },
      { host: "s2", port: 26380 },
    ]);
    assert.equal(a.masterName, "mymaster");
    assert.equal(a.db, 3);
    assert.equal(a.password, "from-env");
    assert.equal(a.tls, false);
    assert.equal(a.description, "redis+sentinel://s1:26379,s2:26380/mymaster/3#partner-rt");
    const location = parseStoreUri("redis+sentinel://u:pw@s1:26379/mymaster#rt");
    assert.equal(location.scheme, "redis");
    assert.ok(isRedisCacheUri("rediss+sentinel://s1/m") && isRedisCacheUri("redis+cluster://h:1"));
    assert.ok(!isRedisCacheUri("redis+other://h:1") && !isRedisCacheUri("file:/x"));
  });

  it("refuses what cannot work, naming the part, never showing the password", () => {
    const refused = (uri: string, pattern: RegExp) =>
      assert.throws(
        () => parseRedisUri(uri, "--cache", noEnv),
        (e: unknown) => {
          assert.ok(e instanceof StoreUriError, String(e));
          assert.match(e.message, pattern);
          assert.doesNotMatch(e.message, /hunter2/);
          return true;
        },
      );
    refused("redis+cluster://u:hunter2@h:7000/2", /only database 0/);
    refused("redis+cluster://u:hunter2@", /names no node/);
    refused("redis+cluster://u:hunter2@h:7000,,h2", /'' is not HOST:PORT/);
    refused("redis+cluster://u:hunter2@h:99999", /not 1–65535/);
    refused("redis+cluster://u:hunter2@h:7000?password=hunter2", /takes no query options/);
    refused("redis+sentinel://u:hunter2@s1:26379", /needs the master's name/);
    refused("redis+sentinel://u:hunter2@s1:26379/m/x", /'\/x' is not a number/);
    refused("redis+sentinel://u:hunter2@s1:26379/m/0/extra", /more than \/MASTER_NAME\/DB/);
    refused("redis+sentinel://u:hunter2@s1/m%zz", /not valid percent-encoding/);
    assert.throws(() => parseStoreUri("redis+cluster://u:hunter2@h:7000"), /names no key/);
    assert.equal(
      redactUri("redis+cluster://u:hunter2@h:1,h:2#k"),
      "redis+cluster://u:***@h:1,h:2#k",
    );
  });

  it("an unreachable cluster: an error naming Redis and the nodes, no password", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    await assert.rejects(
      openTokenCache(`redis+cluster://fleet:hunter2@127.0.0.1:${p1},127.0.0.1:${p2}`, {
        encryptionKey: parseEncryptionKey(newKey()),
      }),
      (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.code, "ERR_REDIS_UNAVAILABLE");
        assert.match(
          e.message,
          new RegExp(
            `^Redis at Cluster 127\\.0\\.0\\.1:${p1},127\\.0\\.0\\.1:${p2} .*could not connect`,
          ),
        );
        assert.doesNotMatch(`${e.message} ${e.hint}`, /hunter2/);
        return true;
      },
    );
  });

  it("computes Redis Cluster's hash slot, hash tags included", () => {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    assert.equal(keySlot("123456789"), 0x31c3 % 16384);
    assert.equal(keySlot("foo"), 12182);
    assert.equal(keySlot("{user1000}.following"), keySlot("user1000"));
    assert.equal(keySlot("partner-token:lock:{abc}"), keySlot("partner-token:token:{abc}"));
    assert.notEqual(keySlot("partner-token:lock:abc"), keySlot("partner-token:token:abc"));
  });
});
