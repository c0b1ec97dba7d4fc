/**
 * The main job, end to end, on the local emulator: what a CSP partner's automation does.
 *
 *   npm run demo
 *
 * 1. starts the emulator (HTTPS, its own CA; --auto-approve stands in for the person at the browser),
 * 2. App + User sign-in (-ServicePrincipal -UseAuthorizationCode) → a refresh token,
 * 3. trades the refresh token for Partner Center and Graph tokens (it rotates every time),
 * 4. a token in every customer tenant from the same refresh token,
 * 5. app-only tokens with a client secret and with a certificate thumbprint,
 * 6. the Exchange Online module's device code flow,
 * 7. Partner Center: POST /generatetoken and GET /v1/customers with the token,
 * 8. a session: connect once, then tokens for every customer from the encrypted cache,
 * 9. `customers tokens`: a token in every customer tenant at once, one JSON line each,
 * 10. `exec`: an unmodified Azure SDK program gets the partner's token in a customer tenant,
 * 11. a refresh token kept in Azure Key Vault (the emulator's), rotated by every `token` call.
 *
 * Every `partner-token` call is the real command line, run as a separate process.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultSeed, startEmulator } from "../src/emulator/index.ts";

const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const browser = fileURLToPath(new URL("./demo-browser.ts", import.meta.url));
const PC = "https://api.partnercenter.microsoft.com";
const GRAPH = "https://graph.microsoft.com";

const dataDir = await mkdtemp(join(tmpdir(), "partner-token-demo-"));
process.env["PARTNER_TOKEN_EMULATOR_DIR"] = dataDir;
// Two generated customers besides the three named ones: one where the partner's app is not
// consented yet, which step 12 finds and repairs.
const seed = {
  ...defaultSeed,
  settings: { deviceCodeIntervalSeconds: 1 },
  generatedCustomers: {
    partner: defaultSeed.tenants[0]!.id,
    count: 2,
    withoutConsent: 1,
  },
};
let emu;
let where: string[];
try {
  // On the default port, `--environment Emulator` is all partner-token needs to find it.
  emu = await startEmulator({ dataDir, autoApprove: true, seed, log: () => {} });
  where = ["--environment", "Emulator"];
} catch {
  emu = await startEmulator({ port: 0, dataDir, autoApprove: true, seed, log: () => {} });
  where = ["--authority-host", emu.url, "--ca-file", emu.caFile!];
}
const info = emu.info;
/** The seed's three named customers (the generated two are for step 12). */
const named = info.customers.filter((c) =>
  (defaultSeed.relationships ?? []).some((r) => r.customer === c.domain),
);
const env = {
  ...process.env,
  APP_SECRET: info.apps.confidential.clientSecret,
  BROWSER: `"${process.execPath}" "${browser}"`,
  NODE_EXTRA_CA_CERTS: emu.caFile!,
  PARTNER_TOKEN_CERTIFICATE_DIR: dataDir,
  // The demo's sessions live in its own folders, removed at the end.
  PARTNER_TOKEN_CACHE_DIR: join(dataDir, "cache"),
  PARTNER_TOKEN_KEY_DIR: join(dataDir, "keys"),
};

function step(title: string) {
  console.log(`\n\x1b[1m${title}\x1b[0m`);
}
const short = (token: string | null | undefined) =>
  token ? `${token.slice(0, 16)}…(${token.length} chars)` : String(token);
function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString());
}

/**
 * Runs `partner-token …` and resolves to its stdout, showing its stderr indented; secrets travel
 * in the environment (`env:NAME`), never in argv. `where` (the emulator's flags) is appended for
 * the commands that sign in.
 */
function partnerTokenRaw(
  args: string[],
  extraEnv: Record<string, string> = {},
  options: { where?: boolean; exitCodes?: number[] } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args, ...(options.where ? where : [])], {
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    child.on("close", (code) => {
      for (const line of err.trim().split("\n").filter(Boolean))
        console.log(`  │ ${line.length > 150 ? line.slice(0, 150) + "…" : line}`);
      if (!(options.exitCodes ?? [0]).includes(code ?? -1))
        return reject(new Error(`partner-token exited with ${code}`));
      resolve(out);
    });
  });
}

/** Runs a command that prints one JSON document, and parses it. */
async function partnerToken(
  args: string[],
  extraEnv: Record<string, string> = {},
  options: { where?: boolean } = {},
): Promise<Record<string, any>> {
  const out = await partnerTokenRaw(args, extraEnv, { where: options.where !== false });
  return out.trim() === "" ? {} : JSON.parse(out);
}

function partnerCenter(
  method: string,
  path: string,
  token: string,
  body?: string,
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, info.partnerCenterEndpoint),
      {
        method,
        ca: caPem,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const caPem = await readFile(emu.caFile!, "utf8");

try {
  step(
    `1. Emulator listening on ${emu.url} (partner ${info.partnerTenant.domain}, ${info.customers.length} customers)`,
  );

  step(
    "2. App + User: New-PartnerAccessToken -ServicePrincipal -UseAuthorizationCode (browser sign-in)",
  );
  const appUser = await partnerToken([
    "new",
    "-ApplicationId",
    info.apps.confidential.clientId,
    "-Credential",
    "env:APP_SECRET",
    "-Scopes",
    `${PC}/user_impersonation`,
    "-ServicePrincipal",
    "-Tenant",
    info.partnerTenant.id,
    "-UseAuthorizationCode",
  ]);
  console.log(`  account ${appUser["account"]?.username}, scopes ${appUser["scopes"].join(" ")}`);
  console.log(
    `  refresh token ${short(appUser["refreshToken"])} — store it safely; it rotates on every use`,
  );

  step("3. Refresh token → Graph token (unattended, as a script runs it every day)");
  const graph = await partnerToken(
    [
      "new",
      "--refresh-token",
      "env:RT",
      "--application-id",
      info.apps.confidential.clientId,
      "--credential",
      "env:APP_SECRET",
      "--service-principal",
      "--tenant",
      info.partnerTenant.id,
      "--scopes",
      `${GRAPH}/.default`,
    ],
    { RT: appUser["refreshToken"] },
  );
  console.log(`  aud ${claims(graph["accessToken"])["aud"]}, expires ${graph["expiresOn"]}`);
  console.log(
    `  rotated refresh token differs from the one sent: ${graph["refreshToken"] !== appUser["refreshToken"]}`,
  );

  step("4. The same refresh token in each customer tenant, kept in a file that each run rotates");
  const rtFile = join(dataDir, "refresh-token");
  await writeFile(rtFile, graph["refreshToken"] + "\n", { mode: 0o600 });
  for (const customer of named) {
    const r = await partnerToken([
      "new",
      "--refresh-token",
      `@${rtFile}`,
      "--save-refresh-token",
      rtFile,
      "--application-id",
      info.apps.confidential.clientId,
      "--credential",
      "env:APP_SECRET",
      "--tenant",
      customer.domain,
      "--scopes",
      `${GRAPH}/.default`,
    ]);
    const saved = (await readFile(rtFile, "utf8")).trim() === r["refreshToken"];
    console.log(
      `  ${customer.domain.padEnd(28)} tid ${r["tenantId"]}  scp ${claims(r["accessToken"])["scp"]}  (saved: ${saved})`,
    );
  }

  step("5. App-only: client secret, then certificate by SHA-1 thumbprint");
  const secretToken = await partnerToken([
    "new",
    "-ApplicationId",
    info.apps.confidential.clientId,
    "-Credential",
    "env:APP_SECRET",
    "-ServicePrincipal",
    "-Tenant",
    info.partnerTenant.domain,
    "-Scopes",
    `${GRAPH}/.default`,
  ]);
  console.log(
    `  secret:      roles ${JSON.stringify(claims(secretToken["accessToken"])["roles"])}, refresh token ${secretToken["refreshToken"]}`,
  );
  const certToken = await partnerToken([
    "new",
    "-ApplicationId",
    info.apps.certificate.clientId,
    "-CertificateThumbprint",
    info.apps.certificate.thumbprint,
    "-Tenant",
    info.partnerTenant.id,
    "-Scopes",
    `${GRAPH}/.default`,
  ]);
  console.log(
    `  certificate: appidacr ${claims(certToken["accessToken"])["appidacr"]} (2 = certificate)`,
  );

  step("6. Exchange Online module: -Module ExchangeOnline (device code)");
  const exo = await partnerToken([
    "new",
    "-Module",
    "ExchangeOnline",
    "-Tenant",
    info.partnerTenant.id,
  ]);
  console.log(
    `  aud ${claims(exo["accessToken"])["aud"]}, refresh token ${short(exo["refreshToken"])}`,
  );

  step("7. Partner Center: POST /generatetoken, then GET /v1/customers");
  const pcToken = await partnerCenter(
    "POST",
    "/generatetoken",
    appUser["accessToken"],
    "grant_type=jwt_token",
  );
  console.log(
    `  generatetoken: ${pcToken.status}, Partner Center token ${short(pcToken.json.access_token)}`,
  );
  const customers = await partnerCenter("GET", "/v1/customers?size=2", pcToken.json.access_token);
  console.log(
    `  customers page 1: ${customers.json.items.map((c: any) => c.companyProfile.domain).join(", ")} (next page: ${Boolean(customers.json.links.next)})`,
  );

  step("8. A session (Connect-PartnerCenter): sign in once, then tokens on demand");
  const session = await partnerToken(["connect", "--use-device-authentication"]);
  console.log(
    `  profile '${session["profile"]}' as ${session["account"]}, app ${session["applicationId"]} (the default)`,
  );
  const firstTokens: string[] = [];
  for (const customer of named) {
    const t = await partnerToken(
      ["token", "--scopes", `${GRAPH}/.default`, "--tenant", customer.id],
      {},
      { where: false },
    );
    firstTokens.push(t["accessToken"]);
    console.log(
      `  ${customer.domain.padEnd(28)} tid ${claims(t["accessToken"])["tid"]}  expires ${t["expiresOn"]}`,
    );
  }
  const cached = await partnerToken(
    ["token", "--scopes", `${GRAPH}/.default`, "--tenant", named[0]!.id],
    {},
    { where: false },
  );
  console.log(
    `  asked again: the same token, from the encrypted cache: ${cached["accessToken"] === firstTokens[0]}`,
  );
  const health = await partnerToken(["status", "-o", "json"], {}, { where: false });
  console.log(
    `  status: ${health["state"]}, refresh token ${health["refreshToken"]?.daysLeft} days left of its 90-day window, ${health["tokens"].length} cached tokens`,
  );

  step(
    "9. Every customer tenant at once: customers tokens (concurrent, throttle-aware, one JSON line each)",
  );
  // Exit 1: the generated customer without consent fails, with its code and what to do.
  const lines = (
    await partnerTokenRaw(
      ["customers", "tokens", "--scopes", `${GRAPH}/.default`],
      {},
      { exitCodes: [0, 1] },
    )
  )
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  for (const line of lines)
    console.log(
      `  ${String(line.domain ?? line.tenantId).padEnd(28)} ${line.status}  ${line.status === "ok" ? `tid ${claims(line.accessToken)["tid"]}` : `${line.error.code}: ${line.error.hint}`}`,
    );

  step(
    "10. The sidecar: an unmodified Azure SDK program gets the partner's token in a customer tenant",
  );
  const sdkProgram = `
    import { ManagedIdentityCredential } from "@azure/identity";
    const token = await new ManagedIdentityCredential().getToken("${GRAPH}/.default");
    const tid = JSON.parse(Buffer.from(token.token.split(".")[1], "base64url")).tid;
    console.log("ManagedIdentityCredential got a token for tenant " + tid);`;
  const fromSdk = await partnerTokenRaw(
    [
      "exec",
      "--tenant",
      named[0]!.domain,
      "--",
      process.execPath,
      "--input-type=module",
      "-e",
      sdkProgram,
    ],
    { AZURE_CLIENT_SECRET: "a decoy: exec removes it from the program's environment" },
  );
  console.log(`  ${fromSdk.trim()} (${named[0]!.domain} is ${named[0]!.id})`);
  await partnerToken(["disconnect"], {}, { where: false });

  step("11. A refresh token kept in Azure Key Vault (the emulator's vault), rotated on every use");
  const vault = `keyvault:${emu.url}/secrets/partner-refresh-token`;
  // DefaultAzureCredential reaches the vault as the confidential app, through AZURE_* variables.
  const vaultEnv = {
    AZURE_AUTHORITY_HOST: emu.url,
    AZURE_TENANT_ID: info.partnerTenant.id,
    AZURE_CLIENT_ID: info.apps.confidential.clientId,
    AZURE_CLIENT_SECRET: info.apps.confidential.clientSecret,
  };
  await partnerToken(
    [
      "new",
      "--application-id",
      info.apps.confidential.clientId,
      "--credential",
      "env:APP_SECRET",
      "--service-principal",
      "--use-authorization-code",
      "--tenant",
      info.partnerTenant.id,
      "--scopes",
      `${PC}/user_impersonation`,
      "--refresh-token-store",
      vault,
    ],
    vaultEnv,
  );
  console.log(`  the App + User sign-in wrote its refresh token to ${vault}`);
  for (const customer of named.slice(0, 2)) {
    const t = await partnerToken(
      [
        "token",
        "--refresh-token-store",
        vault,
        "--application-id",
        info.apps.confidential.clientId,
        "--credential",
        "env:APP_SECRET",
        "--tenant",
        customer.id,
        "--scopes",
        `${GRAPH}/.default`,
      ],
      vaultEnv,
    );
    console.log(
      `  ${customer.domain.padEnd(28)} tid ${claims(t["accessToken"])["tid"]} — no session; the rotated token went back to the vault first`,
    );
  }

  step(
    "12. Every customer working: customers check finds what is missing, customers consent repairs it",
  );
  await partnerToken([
    "connect",
    "--application-id",
    info.apps.confidential.clientId,
    "--credential",
    "env:APP_SECRET",
    "--service-principal",
    "--use-authorization-code",
    "--tenant",
    info.partnerTenant.id,
    "-o",
    "none",
  ]);
  const checkFile = join(dataDir, "check.jsonl");
  const show = (text: string) => {
    for (const line of text.trim().split("\n").filter(Boolean)) {
      const c = JSON.parse(line);
      const problems = (c.problems as Array<{ code: string }>).map((p) => p.code).join(", ");
      console.log(
        `  ${String(c.domain ?? c.tenantId).padEnd(30)} ${c.status}${problems ? `  ${problems}` : ""}`,
      );
    }
  };
  // Exit 1: a customer has an error (the consent); check writes one JSON line per customer.
  await partnerTokenRaw(["customers", "check", "--out", checkFile], {}, { exitCodes: [0, 1, 3] });
  show(await readFile(checkFile, "utf8"));
  const consented = (
    await partnerTokenRaw(["customers", "consent", "--from", checkFile], {}, { exitCodes: [0, 1] })
  )
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  for (const c of consented) console.log(`  consent in ${c.domain ?? c.tenantId}: ${c.status}`);
  await partnerTokenRaw(["customers", "check", "--out", checkFile], {}, { exitCodes: [0, 1, 3] });
  console.log("  checked again:");
  show(await readFile(checkFile, "utf8"));
  await partnerToken(["disconnect"], {}, { where: false });

  step(
    "13. The partner's own app from nothing: app create, its secret and refresh token in Key Vault, rotated",
  );
  // A partner admin's session with the default app (Azure CLI's), which may create apps.
  await partnerToken([
    "connect",
    "--profile",
    "admin",
    "--use-device-authentication",
    "-o",
    "none",
  ]);
  const admin = ["--profile", "admin", "--ca-file", emu.caFile!];
  const samSecret = `keyvault:${emu.url}/secrets/sam-secret`;
  const samRt = `keyvault:${emu.url}/secrets/sam-refresh-token`;
  const create = [
    "app",
    "create",
    "--name",
    "Contoso partner-token",
    "--secret-store",
    samSecret,
    "--refresh-token-store",
    samRt,
    "--use-device-authentication",
    ...admin,
  ];
  const made = await partnerToken(create, vaultEnv, { where: false });
  console.log(
    `  app ${made["applicationId"]}: redirect URI ${made["redirectUris"].join(" ")}, ${made["permissions"].length} permissions consented`,
  );
  console.log(
    `  its secret in ${made["secretStore"]}, its App + User refresh token in ${made["refreshTokenStore"]}`,
  );
  const again = await partnerToken(create, vaultEnv, { where: false });
  console.log(`  run again: changed = ${again["changed"]}`);
  // The job's own source: the refresh token and the secret, both read from the vault at each run.
  const source = [
    "--refresh-token-store",
    samRt,
    "--application-id",
    made["applicationId"],
    "--credential",
    samSecret,
  ];
  const [consent] = (
    await partnerTokenRaw(
      ["customers", "consent", "--customer", named[0]!.id, ...source],
      vaultEnv,
      {
        where: true,
      },
    )
  )
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  console.log(`  customers consent in ${named[0]!.domain}: ${consent.action}`);
  const job = ["token", ...source, "--tenant", named[0]!.id, "--scopes", `${GRAPH}/.default`];
  const first = await partnerToken(job, vaultEnv);
  console.log(
    `  a job, secret and refresh token from the vault: a Graph token in ${named[0]!.domain} (tid ${claims(first["accessToken"])["tid"]})`,
  );
  const rotated = await partnerToken(
    [
      "app",
      "rotate-secret",
      "--application-id",
      made["applicationId"],
      "--secret-store",
      samSecret,
      "--grace-seconds",
      "0",
      ...admin,
    ],
    vaultEnv,
    { where: false },
  );
  console.log(
    `  rotate-secret: a new secret (hint ${rotated["hint"]}…) stored and proven, ${rotated["removed"].length} old one removed`,
  );
  await partnerToken([...job, "--force-refresh"], vaultEnv);
  console.log("  the same job, unchanged, renews with the new secret from the vault");
  const creds = await partnerToken(
    [
      "app",
      "credentials",
      "--application-id",
      made["applicationId"],
      "--secret-store",
      samSecret,
      ...admin,
    ],
    vaultEnv,
    { where: false },
  );
  for (const c of creds["credentials"] as Array<Record<string, any>>)
    console.log(
      `  ${c["kind"]} ${c["hint"]}…  expires ${c["endDateTime"]} (${c["daysLeft"]} days)${c["inUse"] ? "  in use" : ""}`,
    );

  console.log("\nDone. Everything above ran offline against the emulator.");
} finally {
  await emu.close();
  await rm(dataDir, { recursive: true, force: true });
}
