/**
 * What the sidecar adds to a cached token: a token through the managed-identity endpoint (HTTP
 * on loopback, one keep-alive connection, as MSAL and the Azure SDKs hold one) against the same
 * session's `getToken` in process. Both are cache hits. Goal: under 1 ms more at the median.
 *
 *   npm run bench:sidecar        (RUNS=5000 to change the number of requests)
 *
 * The emulator runs in this process; the session is a real one (`connectSession` from a
 * partner's App + User refresh token, the encrypted file cache in a temporary folder).
 */
import { mkdtemp } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireTokenByAuthorizationCode } from "../src/client/authorization-code.ts";
import { startEmulator } from "../src/emulator/index.ts";
import { connectSession } from "../src/session/session.ts";
import { startSidecar } from "../src/sidecar/server.ts";

const RUNS = Number(process.env.RUNS ?? 2000);
const GRAPH = "https://graph.microsoft.com";

process.env.PARTNER_TOKEN_KEYRING = "off";
const emu = await startEmulator({
  port: 0,
  dataDir: await mkdtemp(join(tmpdir(), "pt-bench-sidecar-emu-")),
  autoApprove: true,
  log: () => {},
});
const base = { authorityHost: emu.url, caFile: emu.caFile! };
const { clientId, clientSecret } = emu.info.apps.confidential;
const partner = emu.info.partnerTenant.id;
const customer = emu.info.customers[0]!.id;

// The partner's one interactive sign-in, through the emulator's auto-approving sign-in page.
const signIn = await acquireTokenByAuthorizationCode(
  { ...base, clientId, clientSecret, tenant: partner, scopes: [`${GRAPH}/.default`] },
  {
    // Like a browser, the page loads after the opener returns.
    openBrowser: async (url) => void setImmediate(() => void browse(url)),
  },
);
const { session } = await connectSession(
  {
    ...base,
    refreshToken: signIn.refreshToken!,
    credential: { userName: clientId, password: clientSecret },
    tenant: partner,
    scopes: [`${GRAPH}/.default`],
  },
  { cacheDir: await mkdtemp(join(tmpdir(), "pt-bench-sidecar-cache-")), profile: "bench" },
);
const sidecar = await startSidecar({ source: session, tenant: customer });

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const url = new URL(
  `${sidecar.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(GRAPH)}`,
);
function viaEndpoint(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, headers: { "X-IDENTITY-HEADER": sidecar.identityHeader } },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}
const inProcess = async (): Promise<void> => {
  await session.getToken({ scopes: [`${GRAPH}/.default`], tenant: customer });
};

async function time(fn: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

// Warm-up: the first call redeems the refresh token and fills the cache; then JIT and sockets.
await viaEndpoint();
for (let i = 0; i < 200; i++) {
  await inProcess();
  await viaEndpoint();
}
// Alternate rounds, so that a change in the machine's load touches both alike.
const direct: number[] = [];
const endpoint: number[] = [];
for (let round = 0; round < 4; round++) {
  direct.push(...(await time(inProcess)));
  endpoint.push(...(await time(viaEndpoint)));
}
direct.sort((a, b) => a - b);
endpoint.sort((a, b) => a - b);

const pct = (t: number[], p: number): number =>
  t[Math.min(t.length - 1, Math.floor(t.length * p))]!;
const row = (label: string, t: number[]): string =>
  `${label.padEnd(40)} median ${pct(t, 0.5).toFixed(3)} ms  p90 ${pct(t, 0.9).toFixed(3)} ms  p99 ${pct(t, 0.99).toFixed(3)} ms`;
console.log(`cache hits, ${direct.length} each:`);
console.log(row("session.getToken (in process)", direct));
console.log(row("GET /msi/token (loopback, keep-alive)", endpoint));
const overhead = pct(endpoint, 0.5) - pct(direct, 0.5);
console.log(
  `overhead at the median: ${overhead.toFixed(3)} ms (goal < 1 ms): ${overhead < 1 ? "met" : "NOT met"}`,
);

agent.destroy();
await sidecar.close();
await emu.close();

/** Follows the emulator's redirects to the loopback listener, as a browser would. */
async function browse(start: string): Promise<void> {
  const { request: httpsRequest } = await import("node:https");
  const { readFile } = await import("node:fs/promises");
  const ca = await readFile(emu.caFile!, "utf8");
  let next = start;
  for (let hop = 0; hop < 5; hop++) {
    const location = await new Promise<string | undefined>((resolve, reject) => {
      const target = new URL(next);
      const send = target.protocol === "https:" ? httpsRequest : request;
      const req = send(target, { ca }, (res) => {
        res.resume();
        res.on("end", () => {
          const l = res.headers.location;
          resolve(res.statusCode! >= 300 && res.statusCode! < 400 && l ? l : undefined);
        });
      });
      req.on("error", reject);
      req.end();
    });
    if (!location) return;
    next = new URL(location, next).href;
  }
}
