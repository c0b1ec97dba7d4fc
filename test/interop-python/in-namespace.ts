/**
 * The inside of the --impersonate interop test, run by it under `unshare` in a private network,
 * mount and PID namespace (never run it on its own: it bind-mounts over /etc/hosts). It brings
 * `lo` up, starts `partner-token emulator --impersonate` on port 443, points the ready line's
 * `hosts` at 127.0.0.1 with a hosts file bind-mounted over /etc/hosts (in this namespace only),
 * then runs Debian's Azure CLI and MSAL for Python against Microsoft's own host names, unmodified
 * and with no endpoint setting. It prints what they answered as one JSON object on stdout; the
 * test outside checks it.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { join } from "node:path";
import { createInterface } from "node:readline";

interface Config {
  dir: string;
  seedFile: string;
}
const config = JSON.parse(readFileSync(0, "utf8")) as Config;
const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const script = new URL("./msal_flows.py", import.meta.url).pathname;

try {
  execFileSync("ip", ["link", "set", "lo", "up"]);
} catch (e) {
  throw new Error(
    `cannot bring 'lo' up in the namespace with 'ip' (Debian's iproute2): ${(e as Error).message}`,
  );
}
const emulator = spawn(
  process.execPath,
  [
    main,
    "emulator",
    "--impersonate",
    "--auto-approve",
    "--data-dir",
    join(config.dir, "data"),
    "--seed",
    config.seedFile,
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let emulatorErr = "";
emulator.stderr.on("data", (c: Buffer) => (emulatorErr += c.toString()));
const ready = JSON.parse(
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: emulator.stdout }).once("line", resolve);
    emulator.once("exit", () => reject(new Error(`the emulator ended: ${emulatorErr}`)));
  }),
) as Record<string, any>;

const hostsFile = join(config.dir, "hosts");
writeFileSync(
  hostsFile,
  `127.0.0.1 localhost\n::1 localhost\n${(ready["hosts"] as string[]).map((h) => `127.0.0.1 ${h}`).join("\n")}\n`,
);
execFileSync("mount", ["--bind", hostsFile, "/etc/hosts"]);

const ca = String(ready["caFile"]);
const env = { ...process.env, REQUESTS_CA_BUNDLE: ca, AZURE_CORE_COLLECT_TELEMETRY: "false" };

/** One `az` command with its own configuration folder (one per sign-in). */
function az(profile: string, args: string[]) {
  const r = spawnSync("az", [...args, "--output", "json"], {
    env: { ...env, AZURE_CONFIG_DIR: join(config.dir, `az-${profile}`) },
    encoding: "utf8",
    timeout: 90_000,
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, stderr: r.stderr.slice(-3000) };
}

/** GET a JSON document over HTTPS by name (resolved through the hosts file), trusting the CA. */
const getJson = (url: string): Promise<any> =>
  new Promise((resolve, reject) =>
    get(url, { ca: readFileSync(ca) }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve(JSON.parse(text)));
    }).on("error", reject),
  );

const pc = "https://api.partnercenter.microsoft.com";
const { confidential, certificate } = ready["apps"];
const tenant = ready["partnerTenant"]["id"];
const spPem = join(config.dir, "sp.pem");
// az reads the certificate and its private key from one PEM file.
writeFileSync(
  spPem,
  readFileSync(certificate.keyFile, "utf8") + readFileSync(certificate.certificateFile, "utf8"),
  { mode: 0o600 },
);

const results: Record<string, unknown> = { ready };
// The test's own values (the emulator's public demo secrets), in a namespace of its own whose
// process list is private too.
results["spSecret"] = az("sp-secret", [
  "login",
  "--service-principal",
  "-u",
  confidential.clientId,
  "-p",
  confidential.clientSecret,
  "--tenant",
  tenant,
]);
results["spSecretGraph"] = az("sp-secret", [
  "account",
  "get-access-token",
  "--resource-type",
  "ms-graph",
]);
results["spCert"] = az("sp-cert", [
  "login",
  "--service-principal",
  "-u",
  certificate.clientId,
  "-p",
  spPem,
  "--tenant",
  tenant,
]);
results["spCertPartnerCenter"] = az("sp-cert", ["account", "get-access-token", "--resource", pc]);
results["user"] = az("user", ["login", "-u", ready["user"].username, "-p", ready["user"].password]);
results["userGraph"] = az("user", ["account", "get-access-token", "--resource-type", "ms-graph"]);
results["userPartnerCenter"] = az("user", ["account", "get-access-token", "--resource", pc]);
results["device"] = az("device", ["login", "--use-device-code"]);
results["deviceGraph"] = az("device", [
  "account",
  "get-access-token",
  "--resource-type",
  "ms-graph",
]);
results["devicePartnerCenter"] = az("device", ["account", "get-access-token", "--resource", pc]);

const msal = (authorityHost: string, flows: string[]) => {
  const r = spawnSync("/usr/bin/python3", [script], {
    env,
    encoding: "utf8",
    timeout: 90_000,
    input: JSON.stringify({
      authority_host: authorityHost,
      tenant,
      validate_authority: true,
      confidential: { client_id: confidential.clientId, secret: confidential.clientSecret },
      certificate: {
        client_id: certificate.clientId,
        key_file: certificate.keyFile,
        cert_file: certificate.certificateFile,
        thumbprint: certificate.thumbprint,
      },
      public_client_id: ready["apps"]["public"].clientId,
      redirect_uri: confidential.redirectUri,
      user: ready["user"],
      flows,
    }),
  });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { exception: `python ended with ${r.status}: ${r.stderr.slice(-2000)}` };
  }
};
results["msal"] = msal("https://login.microsoftonline.com", [
  "secret",
  "certificate_chain",
  "device_code",
  "password",
  "authorization_code",
]);
// Not in MSAL's list of well-known hosts: MSAL asks instance discovery first.
results["msalAlias"] = msal("https://login.windows.net", ["secret"]);

// Microsoft's JavaScript client too, with its default authority host and nothing but the CA.
const identity = spawnSync(
  process.execPath,
  [
    "--input-type=module",
    "-e",
    `import { ClientSecretCredential } from "@azure/identity";
     const [tenant, id] = process.argv.slice(1);
     const credential = new ClientSecretCredential(tenant, id, process.env.SECRET);
     const t = await credential.getToken("https://api.partnercenter.microsoft.com/.default");
     process.stdout.write(JSON.stringify({ token: t.token }));`,
    tenant,
    confidential.clientId,
  ],
  {
    cwd: new URL("../..", import.meta.url).pathname,
    env: { ...env, NODE_EXTRA_CA_CERTS: ca, SECRET: confidential.clientSecret },
    encoding: "utf8",
    timeout: 60_000,
  },
);
results["identityJs"] = {
  status: identity.status,
  stdout: identity.stdout,
  stderr: identity.stderr.slice(-2000),
};

results["jwks"] = await getJson("https://login.microsoftonline.com/common/discovery/v2.0/keys");
results["requests"] = (await getJson(`${ready["controlUrl"]}/requests`))["requests"].map(
  (r: { method: string; host: string; path: string; status: number }) =>
    `${r.status} ${r.method} ${r.path} ${r.host}`,
);
results["emulatorErrors"] = emulatorErr
  .split("\n")
  .filter((l) => l && !/^emulator: (listening|demo user)/.test(l));
emulator.kill("SIGTERM");
process.stdout.write(JSON.stringify(results));
