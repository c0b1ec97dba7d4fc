/**
 * A cache hit in process: partner-token's `session.getToken` against `@azure/msal-node`'s
 * `acquireTokenSilent`, both with a valid token already cached for the same user, scopes and
 * tenant. Goal: partner-token ≥ 10× faster. Printed as a ratio of medians measured in one run,
 * never asserted (these machines are shared and noisy).
 *
 *   npm run bench:session          (N=2000 to change the number of calls)
 *
 * The whole-process `partner-token token` from the cache against `node -e 0` is in
 * `npm run bench:cli`.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { PublicClientApplication } from "@azure/msal-node";
import { startEmulator } from "../src/emulator/index.ts";
import { connectSession, openSession } from "../src/index.ts";

const N = Number(process.env.N ?? 2000);
const PC = "https://api.partnercenter.microsoft.com/user_impersonation";

const emu = await startEmulator({
  port: 0,
  dataDir: await mkdtemp(join(tmpdir(), "bench-session-")),
  autoApprove: true,
  log: () => {},
});
setDefaultCACertificates([...getCACertificates("default"), await readFile(emu.caFile!, "utf8")]);
const tenant = emu.info.partnerTenant.id;

// partner-token: a session with the Partner Center token cached (encrypted file cache).
process.env.PARTNER_TOKEN_KEYRING = "off";
process.env.PARTNER_TOKEN_KEY_DIR = await mkdtemp(join(tmpdir(), "bench-keys-"));
const cacheDir = await mkdtemp(join(tmpdir(), "bench-cache-"));
await connectSession(
  {
    useDeviceAuthentication: true,
    authorityHost: emu.url,
    caFile: emu.caFile!,
    applicationId: emu.info.apps.public.clientId,
    scopes: [PC],
  },
  { cacheDir, clientOptions: { log: () => {} } },
);
const session = await openSession({ cacheDir });

// MSAL: the same user's refresh token redeemed once, then silent calls from its cache.
const ropc = await fetch(`${emu.url}/${tenant}/oauth2/v2.0/token`, {
  method: "POST",
  body: new URLSearchParams({
    grant_type: "password",
    client_id: emu.info.apps.public.clientId,
    username: emu.info.user.username,
    password: emu.info.user.password,
    scope: `${PC} openid profile offline_access`,
  }),
});
const { refresh_token } = (await ropc.json()) as { refresh_token: string };
const pca = new PublicClientApplication({
  auth: {
    clientId: emu.info.apps.public.clientId,
    authority: `${emu.url}/${tenant}`,
    knownAuthorities: [new URL(emu.url).host],
  },
});
await pca.acquireTokenByRefreshToken({
  refreshToken: refresh_token,
  scopes: [PC],
  forceCache: true,
});
const [account] = await pca.getTokenCache().getAllAccounts();
if (!account) throw new Error("MSAL cached no account");

async function time(label: string, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await call(); // warm up
  const samples: number[] = [];
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)]!;
  console.log(
    `${label.padEnd(44)} median ${(median * 1000).toFixed(1).padStart(8)} µs   p99 ${(samples[Math.floor(samples.length * 0.99)]! * 1000).toFixed(1).padStart(8)} µs`,
  );
  return median;
}

const requestsBefore = emu.requests().length;
const ours = await time("partner-token session.getToken (cache hit)", () =>
  session.getToken({ scopes: [PC] }),
);
// A new session per call: the cache file read and decrypted each time (a process's first hit).
const cold = await time("openSession + getToken (file read, decrypt)", async () =>
  (await openSession({ cacheDir })).getToken({ scopes: [PC] }),
);
const msal = await time("msal-node acquireTokenSilent (cache hit)", () =>
  pca.acquireTokenSilent({ account, scopes: [PC] }),
);
const requests = emu.requests().length - requestsBefore;
console.log(
  `\nrequests to the emulator during the timed calls: ${requests} (0 expected: both were cache hits)`,
);
console.log(
  `partner-token is ${(msal / ours).toFixed(1)}× faster than acquireTokenSilent (goal ≥ 10×)`,
);
console.log(
  `a process's first hit (read and decrypt the file) takes ${(cold / msal).toFixed(1)}× the time of acquireTokenSilent`,
);
await emu.close();
