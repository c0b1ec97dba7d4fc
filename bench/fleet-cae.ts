/**
 * Benchmark (not a test): token requests per worker-hour of a fleet with and without CAE. Ratios
 * are printed, nothing is asserted.
 *
 *   npm run bench:fleet-cae    (WORKERS=10 HOURS=72 STEP_MINUTES=5 to change the shape)
 *
 * The emulator and WORKERS sessions run in this process over one refresh-token store and one
 * shared, encrypted token cache in Debian's `redis-server` (a free port), as a fleet's workers do
 * with `--refresh-token-store redis://… --cache redis://…`. Time is simulated: `Date` (which the
 * emulator's clock, the token cache and the client all read) moves STEP_MINUTES at a time
 * over HOURS; at each step every worker asks for a Graph token. Two fleets: CAE tokens (the
 * default: cp1, a day long) and `--no-cae` (an hour). Printed: refresh grants the emulator
 * answered, per worker-hour, and the ratio (goal: CAE at least 15× fewer); then that CAE keeps
 * revocation: right after the user's sessions are revoked, Graph refuses the fleet's cached token
 * with a claims challenge (the emulator's configured revocation latency is 0).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GRAPH = "https://graph.microsoft.com/.default";
const WORKERS = Number(process.env.WORKERS ?? 10);
const HOURS = Number(process.env.HOURS ?? 72);
const STEP_MINUTES = Number(process.env.STEP_MINUTES ?? 5);

// The simulated clock: real time plus an offset this bench moves — for `Date.now()` and
// `new Date()` alike (jose reads the latter when it checks an id token's times).
let offsetMs = 0;
const RealDate = Date;
class SimulatedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...(args as [string]));
  }
  static override now(): number {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = SimulatedDate as DateConstructor;

function https(
  url: string,
  ca: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? "GET", headers: init.headers ?? {}, ca },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "pt-bench-cae-"));
  const { startEmulator } = await import("../src/emulator/index.ts");
  const emu = await startEmulator({ port: 0, dataDir: join(dir, "emulator"), log: () => {} });
  const { startRedis } = await import("../test/stores/helpers.ts");
  const redisServer = await startRedis();
  const { openRefreshTokenStore, openTokenCache } = await import("../src/stores/index.ts");
  const { parseEncryptionKey } = await import("../src/stores/encryption.ts");
  const { openStoreSession } = await import("../src/session/store-session.ts");
  const ca = await readFile(emu.caFile!, "utf8");
  const encryptionKey = parseEncryptionKey(randomBytes(32).toString("base64"));
  const { clientId, clientSecret } = emu.info.apps.confidential;
  const tenant = emu.info.customers[0]!.domain;
  const refreshGrants = () =>
    emu.requests().filter((e) => e.note["grant_type"] === "refresh_token").length;

  /** One fleet over HOURS: its refresh grants, and one of its workers' last Graph token. */
  const fleet = async (label: string, cae: boolean) => {
    const signIn = await https(`${emu.url}/${emu.info.partnerTenant.id}/oauth2/v2.0/token`, ca, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: clientId,
        client_secret: clientSecret,
        grant_type: "password",
        username: emu.info.user.username,
        password: emu.info.user.password,
        scope: `offline_access ${GRAPH}`,
      }).toString(),
    });
    const storeUri = `${redisServer.url}/0#bench-cae-${label}`;
    const seed = await openRefreshTokenStore(storeUri, { encryptionKey });
    await seed.write(JSON.parse(signIn.text).refresh_token);
    await seed.close?.();
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, async (_, i) =>
        openStoreSession({
          store: await openRefreshTokenStore(storeUri, { encryptionKey }),
          cache: await openTokenCache(`${redisServer.url}/1`, { encryptionKey }),
          applicationId: clientId,
          clientSecret,
          authorityHost: emu.url,
          caFile: emu.caFile!,
          profile: `bench-${label}-${i}`,
          cacheDir: join(dir, "cache"),
          cae,
        }),
      ),
    );
    emu.clearRequests();
    let last = "";
    const steps = Math.round((HOURS * 60) / STEP_MINUTES);
    for (let step = 0; step < steps; step++) {
      const results = await Promise.all(
        workers.map((w) => w.getToken({ scopes: [GRAPH], tenant })),
      );
      last = results[0]!.accessToken;
      offsetMs += STEP_MINUTES * 60_000;
    }
    const grants = refreshGrants();
    await Promise.all(workers.map((w) => w.close()));
    return { grants, last, calls: steps * WORKERS };
  };

  try {
    const plain = await fleet("hour", false);
    const cae = await fleet("cae", true);
    const perWorkerHour = (n: number) => n / (WORKERS * HOURS);
    console.log(
      `fleet CAE: ${WORKERS} workers, a Graph token every ${STEP_MINUTES} simulated minutes for ${HOURS} h, one Redis cache`,
    );
    console.log(
      `without CAE (--no-cae)  ${plain.grants} token requests  ${perWorkerHour(plain.grants).toFixed(4)} per worker-hour  (${plain.calls} calls)`,
    );
    console.log(
      `with CAE (default)      ${cae.grants} token requests  ${perWorkerHour(cae.grants).toFixed(4)} per worker-hour  (${cae.calls} calls)`,
    );
    console.log(
      `ratio                   ${(plain.grants / Math.max(cae.grants, 1)).toFixed(1)}× fewer with CAE   (goal ≥ 15×)`,
    );
    // Revocation is still immediate: the fleet's cached CAE token meets a challenge at once.
    offsetMs += 1000;
    emu.revoke({ username: emu.info.user.username });
    const answer = await https(`${emu.url}/v1.0/me`, ca, {
      headers: { authorization: `Bearer ${cae.last}` },
    });
    const challenged =
      answer.status === 401 &&
      /insufficient_claims/.test(String(answer.headers["www-authenticate"]));
    console.log(
      `revocation              the cached CAE token, revoked 0 s ago: ${answer.status}${challenged ? " with a claims challenge" : " (no challenge!)"}`,
    );
  } finally {
    await redisServer.close();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
