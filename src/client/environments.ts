/**
 * The national clouds (SPEC §3), custom environments (an authority host of one's own, such as the
 * emulator), and where the emulator keeps its certificate authority.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { UsageError } from "./errors.ts";

/** A resolved environment: where to sign in, and which APIs belong to it. */
export interface Environment {
  /** Canonical name (`AzureCloud`, …, `Emulator`, or `Custom`). */
  name: string;
  /** Legacy name accepted for compatibility (`GlobalCloud`, …), if any. */
  legacyName: string | null;
  /** Origin of the sign-in service, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** Origin of the Partner Center API. */
  partnerCenterEndpoint: string;
  /** Origin of Microsoft Graph, when known. */
  graphEndpoint: string | null;
  /** PEM file of an extra certificate authority to trust, or null for the system roots only. */
  caFile: string | null;
}

/**
 * The five national clouds, in the order `Get-PartnerEnvironment` lists them.
 *
 * @example
 * ```ts
 * for (const env of environments) console.log(env.name, env.authorityHost);
 * ```
 */
export const environments: readonly Environment[] = Object.freeze(
  [
    [
      "AzureCloud",
      "GlobalCloud",
      "login.microsoftonline.com",
      "api.partnercenter.microsoft.com",
      "graph.microsoft.com",
    ],
    [
      "AzureChinaCloud",
      "ChinaCloud",
      "login.chinacloudapi.cn",
      "partner.partnercenterapi.microsoftonline.cn",
      "microsoftgraph.chinacloudapi.cn",
    ],
    [
      "AzureGermanCloud",
      "GermanCloud",
      "login.microsoftonline.de",
      "api.partnercenter.microsoft.com",
      "graph.microsoft.de",
    ],
    [
      "AzurePPE",
      "PPE",
      "login.windows-ppe.net",
      "api.partnercenter.microsoft-ppe.com",
      "graph.microsoft-ppe.com",
    ],
    [
      "AzureUSGovernment",
      "USGovernment",
      "login.microsoftonline.us",
      "api.partnercenter.microsoft.com",
      "graph.microsoft.us",
    ],
  ].map(([name, legacyName, login, partnerCenter, graph]) =>
    Object.freeze({
      name: name!,
      legacyName: legacyName!,
      authorityHost: `https://${login}`,
      partnerCenterEndpoint: `https://${partnerCenter}`,
      graphEndpoint: `https://${graph}`,
      caFile: null,
    }),
  ),
);

/** Default port of `partner-token emulator`. */
export const EMULATOR_DEFAULT_URL = "https://127.0.0.1:9443";

/**
 * The emulator's default data folder, where its `ca.pem` lives:
 * `$PARTNER_TOKEN_EMULATOR_DIR`, else `%LOCALAPPDATA%\partner-token\emulator` on Windows, else
 * `$XDG_DATA_HOME/partner-token/emulator`, else `~/.local/share/partner-token/emulator`.
 *
 * @example
 * ```ts
 * const ca = join(emulatorDataDir(), "ca.pem");
 * ```
 */
export function emulatorDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string {
  if (env.PARTNER_TOKEN_EMULATOR_DIR) return env.PARTNER_TOKEN_EMULATOR_DIR;
  if (platform === "win32") {
    const base = env.LOCALAPPDATA ?? join(homedir(), "AppData", "Local");
    return join(base, "partner-token", "emulator");
  }
  const base = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(base, "partner-token", "emulator");
}

/** What {@link resolveEnvironment} accepts besides a name. */
export interface EnvironmentInput {
  /** A name (any case, legacy names accepted) or `Emulator`. Default `AzureCloud`. */
  environment?: string;
  /** A custom authority host (origin, e.g. `https://127.0.0.1:9443`); makes a custom environment. */
  authorityHost?: string;
  /** Partner Center endpoint of a custom environment (defaults to the authority host). */
  partnerCenterEndpoint?: string;
  /** PEM file of an extra certificate authority to trust. */
  caFile?: string;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Is this URL's host the local machine? */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

/**
 * Checks that an authority URL is https, or plain http on a loopback host only.
 *
 * @throws {UsageError} `ERR_INSECURE_AUTHORITY` or `ERR_INVALID_ARGUMENT`.
 */
export function checkAuthorityUrl(value: string, argument: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError("ERR_INVALID_ARGUMENT", `${argument} is not a URL: '${value}'.`);
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:") {
    if (isLoopbackUrl(url)) return url;
    throw new UsageError(
      "ERR_INSECURE_AUTHORITY",
      `${argument} '${url.origin}' uses plain http on a host that is not this machine; tokens would travel unencrypted. Use https (plain http is accepted only on localhost / 127.0.0.1 / [::1]).`,
    );
  }
  throw new UsageError("ERR_INVALID_ARGUMENT", `${argument} must be an https URL, got '${value}'.`);
}

/**
 * Resolves an environment name (case-insensitive, legacy names accepted, `Emulator`) or a custom
 * authority host into an {@link Environment}. `caFile` applies to any of them.
 *
 * @example
 * ```ts
 * resolveEnvironment("usgovernment").authorityHost; // "https://login.microsoftonline.us"
 * resolveEnvironment({ environment: "Emulator" }).caFile; // "~/.local/share/partner-token/emulator/ca.pem"
 * resolveEnvironment({ authorityHost: "https://127.0.0.1:9443", caFile: "./ca.pem" });
 * ```
 * @throws {UsageError} `ERR_UNKNOWN_ENVIRONMENT` for an unknown name, `ERR_INSECURE_AUTHORITY`
 *   for a plain-http authority host that is not on this machine.
 */
export function resolveEnvironment(input: string | EnvironmentInput = {}): Environment {
  const { environment, authorityHost, partnerCenterEndpoint, caFile } =
    typeof input === "string" ? { environment: input } : input;
  if (authorityHost !== undefined) {
    const host = checkAuthorityUrl(authorityHost, "authorityHost");
    const pc =
      partnerCenterEndpoint === undefined
        ? host
        : checkAuthorityUrl(partnerCenterEndpoint, "partnerCenterEndpoint");
    return {
      name: "Custom",
      legacyName: null,
      authorityHost: host.origin,
      partnerCenterEndpoint: pc.href.replace(/\/$/, ""),
      graphEndpoint: null,
      caFile: caFile ?? null,
    };
  }
  const wanted = (environment ?? "AzureCloud").trim().toLowerCase();
  if (wanted === "emulator") {
    return {
      name: "Emulator",
      legacyName: null,
      authorityHost: EMULATOR_DEFAULT_URL,
      partnerCenterEndpoint: partnerCenterEndpoint ?? EMULATOR_DEFAULT_URL,
      graphEndpoint: null,
      caFile: caFile ?? join(emulatorDataDir(), "ca.pem"),
    };
  }
  const found = environments.find(
    (env) => env.name.toLowerCase() === wanted || env.legacyName?.toLowerCase() === wanted,
  );
  if (!found) {
    const names = environments.map((env) => `${env.name} (${env.legacyName})`).join(", ");
    throw new UsageError(
      "ERR_UNKNOWN_ENVIRONMENT",
      `Unknown environment '${environment}'. Use one of ${names}, Emulator, or a custom authorityHost.`,
    );
  }
  return {
    ...found,
    partnerCenterEndpoint: partnerCenterEndpoint ?? found.partnerCenterEndpoint,
    caFile: caFile ?? null,
  };
}
