/**
 * A fleet worker for the failover tests (redis-ha.ts): a process that, like a scheduled
 * `partner-token token --refresh-token-store … --cache …`, opens the Redis refresh-token store and
 * the Redis fleet cache, asks for a token, and closes them — again and again until its stdin
 * closes (or once, with `PT_WORKER_ONCE=1`; N times in a row, with `PT_WORKER_CALLS=N`). Each call prints one JSON line: `ok` with a digest of
 * the access token (never the token), or the error's code and message.
 *
 * Configuration in `PT_WORKER` (JSON: storeUri, cacheUri, clientId, tenant, authorityHost, caFile,
 * scope); the secrets in `PT_KEY` and `APP_SECRET` — never in argv.
 */
import { createHash } from "node:crypto";
import { resolveEnvironment } from "../../src/client/environments.ts";
import { PartnerTokenError, SignInRequiredError } from "../../src/client/errors.ts";
import { TokenBroker } from "../../src/session/broker.ts";
import {
  openRefreshTokenStore,
  openTokenCache,
  parseEncryptionKey,
} from "../../src/stores/index.ts";

interface WorkerConfig {
  storeUri: string;
  cacheUri: string;
  clientId: string;
  tenant: string;
  authorityHost: string;
  caFile: string;
  scope: string;
}

const config = JSON.parse(process.env.PT_WORKER ?? "{}") as WorkerConfig;
const encryptionKey = parseEncryptionKey(process.env.PT_KEY ?? "");
const resolved = resolveEnvironment({ authorityHost: config.authorityHost, caFile: config.caFile });
const environment = {
  name: resolved.name,
  authorityHost: resolved.authorityHost,
  partnerCenterEndpoint: resolved.partnerCenterEndpoint,
  caFile: resolved.caFile,
};

async function once(): Promise<boolean> {
  const at = Date.now();
  const closers: Array<() => Promise<void>> = [];
  try {
    const store = await openRefreshTokenStore(config.storeUri, { encryptionKey });
    closers.push(async () => store.close?.());
    // The default lock TTL (10 s), as the command uses: a busy machine may stall a holder for seconds.
    const cache = await openTokenCache(config.cacheUri, { encryptionKey });
    closers.push(async () => cache.close?.());
    const broker = new TokenBroker({
      kind: "user",
      app: {
        clientId: config.clientId,
        clientSecret: process.env.APP_SECRET!,
        environment,
        tenant: "organizations",
      },
      accountId: "store:failover-test",
      refreshTokens: store,
      cache,
    });
    const result = await broker.getToken({ scopes: [config.scope], tenant: config.tenant });
    const digest = createHash("sha256").update(result.accessToken).digest("hex").slice(0, 16);
    print({ at, ok: true, token: digest, ms: Date.now() - at, pid: process.pid });
    return true;
  } catch (error) {
    const e = error as PartnerTokenError;
    print({
      at,
      ok: false,
      code: e.code ?? "",
      message: e.message,
      signIn: error instanceof SignInRequiredError,
      ms: Date.now() - at,
    });
    return false;
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

if (process.env.PT_WORKER_ONCE === "1") {
  process.exitCode = (await once()) ? 0 : 1;
} else if (process.env.PT_WORKER_CALLS) {
  // A benchmark's worker: that many calls in a row.
  for (let i = 0; i < Number(process.env.PT_WORKER_CALLS); i++) await once();
} else {
  let stopping = false;
  process.stdin.on("end", () => (stopping = true)).resume();
  while (!stopping) {
    await once();
    await new Promise((r) => setTimeout(r, 100));
  }
}
