/**
 * The local Entra ID + Partner Center emulator, as a library: start it from a test or a script,
 * read its ready line, drive it through the control operations, close it.
 *
 * @example
 * ```ts
 * import { startEmulator } from "partner-token/emulator";
 * const emu = await startEmulator({ port: 0, dataDir: "/tmp/emu", autoApprove: true });
 * console.log(emu.info.apps.confidential.clientId, emu.caFile);
 * await emu.close();
 * ```
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Directory } from "./directory.ts";
import { Emulator } from "./emulator.ts";
import { controlOps } from "./endpoints/control.ts";
import { signingKeyFrom } from "./jwt.ts";
import { ensurePki, thumbprints } from "./pki.ts";
import { defaultSeed, loadSeedFile, parseSeed, type Seed, type SeedInput } from "./seed.ts";
import { createEmulatorServer } from "./server.ts";
import { impersonatedCertificateNames, impersonatedHosts } from "./services.ts";
import { dirname, resolve } from "node:path";

export { SeedError, defaultSeed, parseSeed, type SeedInput } from "./seed.ts";
export type { FaultInput } from "./endpoints/control.ts";
export type { RequestLogEntry, RequestLogPage } from "./emulator.ts";

/** The port `partner-token emulator` listens on by default (and `--environment Emulator` reaches). */
export const DEFAULT_PORT = 9443;

export interface EmulatorOptions {
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Plain HTTP instead of HTTPS. */
  http?: boolean;
  /** Where the CA, signing key and demo certificate live; default {@link defaultDataDir}. */
  dataDir?: string;
  /** A seed object, or the path of a JSON seed file; default the embedded seed. */
  seed?: SeedInput | string;
  /** Sign in the default user without a form; approve device codes after the first pending poll. */
  autoApprove?: boolean;
  /** Where diagnostics go (default stderr). */
  log?: (line: string) => void;
  /**
   * Answer under Microsoft's own host names (login.microsoftonline.com, api.partnercenter…,
   * management.azure.com, *.vault.azure.net…), routing by Host, with Entra's exact issuers; for
   * clients that cannot be pointed elsewhere. Default port 443. See `hosts` in the ready line.
   */
  impersonate?: boolean;
}

/** The ready line: one JSON object, printed on stdout by `partner-token emulator`. */
export interface ReadyLine {
  url: string;
  caFile: string | null;
  authorityHost: string;
  partnerCenterEndpoint: string;
  controlUrl: string;
  partnerTenant: { id: string; domain: string };
  customers: { id: string; domain: string }[];
  apps: {
    confidential: { clientId: string; clientSecret: string; redirectUri: string };
    certificate: {
      clientId: string;
      certificateFile: string;
      keyFile: string;
      thumbprint: string;
      thumbprintSha256: string;
    };
    public: { clientId: string };
  };
  user: { username: string; password: string };
  mfaUser: { username: string; password: string; mfaCode: string } | null;
  /** With `impersonate`: the host names to point at the emulator's address (hosts file). */
  hosts?: string[];
}

export interface RunningEmulator {
  url: string;
  caFile: string | null;
  info: ReadyLine;
  advanceClock(seconds: number): string;
  injectFault(fault: import("./endpoints/control.ts").FaultInput): void;
  clearFaults(): void;
  revoke(filter: { refreshToken?: string; username?: string; all?: boolean }): number;
  setUser(change: {
    username: string;
    mfaRequired?: boolean;
    password?: string;
    accountEnabled?: boolean;
  }): void;
  /** Puts a user into a group (AdminAgents, a GDAP group) or takes them out. */
  setGroupMember(change: { group: string; tenant?: string; user: string; member: boolean }): {
    members: number;
  };
  /** Changes a GDAP relationship (by id, or all of a customer's): status, end, auto-extend, group. */
  setRelationship(change: {
    id?: string;
    customer?: string;
    status?: string;
    endsInDays?: number;
    autoExtend?: boolean;
    group?: string;
    roles?: string[];
  }): { relationships: string[] };
  /** Partner Center's MFA rule for App + User calls. */
  setPartnerCenter(change: { requireMfa: boolean }): { requireMfa: boolean };
  /** The partner's customers, each with what the seed made of it (`kind`). */
  customers(): { id: string; domain: string; displayName: string; kind: string }[];
  approveDeviceCode(input: { userCode: string; username?: string; deny?: boolean }): void;
  requests(): import("./emulator.ts").RequestLogEntry[];
  /** A page of the request log: entries with `seq` above `after`, oldest first. */
  requestPage(after?: number, limit?: number): import("./emulator.ts").RequestLogPage;
  clearRequests(): void;
  /** Heap, stores and log sizes, as `GET /_emulator/stats` shows them. */
  stats(): ReturnType<ReturnType<typeof controlOps>["stats"]>;
  close(): Promise<void>;
}

/** `$PARTNER_TOKEN_EMULATOR_DIR`, else the platform's per-user data folder + `partner-token/emulator`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["PARTNER_TOKEN_EMULATOR_DIR"]) return env["PARTNER_TOKEN_EMULATOR_DIR"];
  if (process.platform === "win32")
    return join(
      env["LOCALAPPDATA"] ?? join(homedir(), "AppData", "Local"),
      "partner-token",
      "emulator",
    );
  if (process.platform === "darwin")
    return join(homedir(), "Library", "Application Support", "partner-token", "emulator");
  return join(
    env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"),
    "partner-token",
    "emulator",
  );
}

function resolveSeed(seed: SeedInput | string | undefined): { seed: Seed; baseDir: string } {
  if (typeof seed === "string")
    return { seed: loadSeedFile(seed), baseDir: dirname(resolve(seed)) };
  return { seed: parseSeed(seed ?? defaultSeed), baseDir: process.cwd() };
}

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const dataDir = options.dataDir ?? defaultDataDir();
  const { seed, baseDir } = resolveSeed(options.seed);
  if (options.impersonate && options.http)
    throw new Error(
      "--impersonate needs HTTPS: Microsoft's clients only speak HTTPS to its hosts.",
    );
  const pki = ensurePki(dataDir, options.impersonate ? impersonatedCertificateNames() : undefined);
  const directory = new Directory(seed, (app) =>
    app.certificates.map((c) =>
      "generated" in c
        ? pki.appCertificatePem
        : "pem" in c
          ? c.pem
          : readFileSync(resolve(baseDir, c.file), "utf8"),
    ),
  );
  const emu = new Emulator(
    directory,
    signingKeyFrom(pki.signingKeyPem),
    options.autoApprove ?? false,
  );
  emu.impersonate = options.impersonate ?? false;
  let info: ReadyLine | undefined;
  const server = createEmulatorServer(emu, {
    ...(options.http ? {} : { tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } }),
    info: () => info,
    onError: (e) =>
      log(`emulator: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? (options.impersonate ? 443 : DEFAULT_PORT), host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  const localUrl = `${options.http ? "http" : "https"}://${hostInUrl}:${port}`;
  const portSuffix = port === 443 ? "" : `:${port}`;
  emu.url = options.impersonate ? `https://login.microsoftonline.com${portSuffix}` : localUrl;
  info = readyLine(
    emu,
    directory,
    options.http ? null : pki.caFile,
    pki.appCertificateFile,
    pki.appKeyFile,
    pki.appCertificatePem,
  );
  if (options.impersonate)
    info = {
      ...info,
      partnerCenterEndpoint: `https://api.partnercenter.microsoft.com${portSuffix}`,
      // The control API answers on every name; the loopback address needs no hosts entry.
      controlUrl: `${localUrl}/_emulator`,
      hosts: impersonatedHosts(seed.vaults.map((v) => v.name)),
    };
  if (!options.http && host !== "127.0.0.1" && host !== "localhost" && host !== "::1")
    log(
      `emulator: warning: listening on ${host}, beyond this machine. Its users and secrets are public test values.`,
    );

  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  // Expired codes, sessions, flows and refresh tokens are forgotten once a minute.
  const sweeper = setInterval(() => emu.sweep(), 60_000);
  sweeper.unref();
  const ops = controlOps(emu);
  return {
    url: emu.url,
    caFile: info.caFile,
    info,
    ...ops,
    close: () =>
      new Promise<void>((ok) => {
        clearInterval(sweeper);
        server.close(() => ok());
        for (const s of sockets) s.destroy();
      }),
  };
}

function readyLine(
  emu: Emulator,
  directory: Directory,
  caFile: string | null,
  certificateFile: string,
  keyFile: string,
  certificatePem: string,
): ReadyLine {
  const d = directory.seed.defaults;
  const user = d.user ? directory.user(d.user) : [...directory.users.values()][0];
  const mfa = d.mfaUser ? directory.user(d.mfaUser) : undefined;
  const confidential = d.confidentialApp ? directory.application(d.confidentialApp) : undefined;
  const certificate = d.certificateApp ? directory.application(d.certificateApp) : undefined;
  const publicApp = d.publicApp ? directory.application(d.publicApp) : undefined;
  const partner = user?.home ?? directory.tenants[0]!;
  const certPem = certificate?.certificates[0] ?? certificatePem;
  const prints = thumbprints(certPem);
  return {
    url: emu.url,
    caFile,
    authorityHost: emu.url,
    partnerCenterEndpoint: emu.url,
    controlUrl: `${emu.url}/_emulator`,
    partnerTenant: { id: partner.id, domain: partner.domains[0]! },
    customers: partner.customers.map((c) => ({ id: c.id, domain: c.domains[0]! })),
    apps: {
      confidential: {
        clientId: confidential?.clientId ?? "",
        clientSecret: confidential?.secrets[0]?.value ?? "",
        redirectUri: confidential?.redirectUris[0] ?? "",
      },
      certificate: {
        clientId: certificate?.clientId ?? "",
        certificateFile,
        keyFile,
        thumbprint: prints.sha1,
        thumbprintSha256: prints.sha256,
      },
      public: { clientId: publicApp?.clientId ?? "" },
    },
    user: { username: user?.username ?? "", password: user?.password ?? "" },
    mfaUser: mfa ? { username: mfa.username, password: mfa.password, mfaCode: mfa.mfaCode } : null,
  };
}
