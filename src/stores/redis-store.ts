/**
 * `redis://[user:password@]HOST:PORT[/DB]#KEY`: the refresh token in a Redis hash, encrypted
 * (AES-256-GCM with `--encryption-key`, bound to the key's name). Fields: `value` (the encrypted
 * token) and `updatedAt` (milliseconds, in clear: it is not a secret, and the write script needs it).
 *
 * Writes are a compare-and-set in one Lua script: a token is written only when no newer one is
 * there already, so two writers never interleave and a slow worker never puts an older token back
 * over a newer one.
 *
 * Behind a Redis Cluster or Sentinel (`redis+cluster://`, `redis+sentinel://`), replication to
 * the replicas is asynchronous: a write returns only once a replica confirmed it (`WAIT`), so a
 * failover, which promotes a replica, cannot hand the fleet a token older than one a worker has
 * already used. Should it happen anyway (a write lost while no replica was connected), the older
 * token still works: Entra ID does not revoke a refresh token when it issues the next one, and the
 * next renewal writes a newer token over it (the compare-and-set above only refuses older ones).
 */
import type { RefreshTokenStore, StoredRefreshToken } from "../session/types.ts";
import { decryptFromRedis, encryptForRedis, missingEncryptionKey } from "./encryption.ts";
import { assertStorableToken } from "./errors.ts";
import { RedisConnection, type RedisAddress } from "./redis-connection.ts";

/** Returns 1 when written, 0 when a newer token is already stored. */
const WRITE = `
local current = tonumber(redis.call("HGET", KEYS[1], "updatedAt"))
if current and current > tonumber(ARGV[2]) then return 0 end
redis.call("HSET", KEYS[1], "value", ARGV[1], "updatedAt", ARGV[2])
return 1`;

/**
 * Opens the store at `address` (whose `key` is the hash's name).
 *
 * @example
 * ```ts
 * const store = await openRedisStore(parseRedisUri("redis://10.0.0.5:6379#partner-rt", "store"), key);
 * await store.write(result.refreshToken);
 * ```
 */
export async function openRedisStore(
  address: RedisAddress,
  encryptionKey: Buffer | undefined,
): Promise<RefreshTokenStore> {
  if (!encryptionKey) throw missingEncryptionKey(`The refresh-token store ${address.description}`);
  const redisKey = address.key!;
  const connection = await RedisConnection.open(address);
  const description = address.description;
  return {
    description,
    async read(): Promise<StoredRefreshToken | null> {
      const fields = await connection.run("read the refresh token", (r) => r.hgetall(redisKey));
      if (fields["value"] === undefined) return null;
      const token = decryptFromRedis(encryptionKey, redisKey, fields["value"], description);
      const updatedAt = Number(fields["updatedAt"]);
      return Number.isFinite(updatedAt) ? { token, updatedAt } : { token };
    },
    async write(token: string): Promise<void> {
      assertStorableToken(token, description);
      const value = encryptForRedis(encryptionKey, redisKey, token);
      // Relied on (this resolves) only once a replica has it, where the master has replicas.
      await connection.evalReplicated("write the refresh token", WRITE, redisKey, [
        value,
        String(Date.now()),
      ]);
    },
    close: () => connection.close(),
  };
}
