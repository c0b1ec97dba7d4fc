/**
 * What every command that uses a session shares: the flags that pick the session (`--profile`,
 * `--cache-dir`), the ones that shape a token request (`--scopes`, `--tenant`, `--min-validity`,
 * `--force-refresh`, `--warn-days`), and {@link openTokenSourceFromArgs}, which turns them into a
 * TokenSource. `token`, `partner-center`, `customers`, `exec` and `serve` all go through it.
 */
import type { ClientOptions } from "../client/types.ts";
import type { SessionOptions } from "../session/session.ts";
import type { GetTokenOptions } from "../session/types.ts";
import { getBoolean, getList, getString, type FlagSpec, type ParsedArgs } from "./args.ts";
import { progress, say } from "./redact.ts";
import { usageError } from "./usage-error.ts";
import { scopesFlag, tenantFlag, withHelp } from "./sign-in-flags.ts";
import {
  cacheFlags,
  openCacheFromArgs,
  openStoreFromArgs,
  type OpenedTokenSource,
} from "./store-flags.ts";

/** `--profile` and `--cache-dir`: which session; `--cache` and `--encryption-key`: a fleet's Redis. */
export const profileFlags: FlagSpec[] = [
  {
    name: "profile",
    kind: "string",
    valueName: "name",
    help: "the session to use (default $PARTNER_TOKEN_PROFILE, else 'default')",
  },
  {
    name: "cache-dir",
    kind: "string",
    valueName: "dir",
    help: "the token cache folder [env PARTNER_TOKEN_CACHE_DIR]",
  },
  ...cacheFlags,
];

/** `--warn-days`: when a refresh token's remaining window is worth a warning. */
export const warnDaysFlag: FlagSpec = {
  name: "warn-days",
  kind: "string",
  valueName: "days",
  help: "warn when the refresh token has fewer days left of its 90-day window (default 14)",
};

export const minValidityFlag: FlagSpec = {
  name: "min-validity",
  kind: "string",
  valueName: "seconds",
  help: "a cached token must stay valid this long, else it is renewed (default 300)",
};

/** `--no-cae`: the session asks for no CAE tokens (its cache keys say so). */
export const noCaeFlag: FlagSpec = {
  name: "no-cae",
  kind: "boolean",
  help: "no CAE tokens: Graph and Exchange tokens for an hour, not a day, and no claims challenges",
};

export const forceRefreshFlag: FlagSpec = {
  name: "force-refresh",
  kind: "boolean",
  help: "renew even when the cache holds a valid token",
};

/** The flags of a token request from a session. */
export const tokenRequestFlags: FlagSpec[] = [
  withHelp(
    scopesFlag,
    "scopes of the token (default: the session's, e.g. Partner Center's user_impersonation)",
  ),
  withHelp(tenantFlag, "a customer's tenant (default the session's own)"),
  minValidityFlag,
  forceRefreshFlag,
  noCaeFlag,
  warnDaysFlag,
];

function nonNegative(args: ParsedArgs, name: string, fallback: number): number {
  const text = getString(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !Number.isFinite(value))
    throw usageError(
      `--${name} takes a number (${name === "warn-days" ? "days" : "seconds"}), not '${text}'.`,
    );
  return value;
}

export function warnDaysOf(args: ParsedArgs): number {
  return nonNegative(args, "warn-days", 14);
}

/** The session options the flags and environment give. */
export function sessionOptionsOf(
  args: ParsedArgs,
  clientOptions: ClientOptions = {},
): SessionOptions {
  const profile = getString(args, "profile");
  const cacheDir = getString(args, "cache-dir");
  return {
    ...(profile !== undefined ? { profile } : {}),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    warn: say,
    warnDays: warnDaysOf(args),
    clientOptions: { log: (line) => progress(line), ...clientOptions },
    openStore: (uri, o) => openStoreFromArgs(args, uri, o?.caFile),
    ...(getBoolean(args, "no-cae") ? { cae: false } : {}),
  };
}

/** `--scopes`, `--tenant`, `--min-validity`, `--force-refresh` as a token request. */
export function tokenRequestOf(
  args: ParsedArgs,
): Omit<GetTokenOptions, "scopes"> & { scopes: string[] } {
  const tenant = getString(args, "tenant");
  if (tenant !== undefined && tenant.trim() === "")
    throw usageError("--tenant needs a tenant id or domain.");
  return {
    scopes: getList(args, "scopes") ?? [],
    ...(tenant !== undefined ? { tenant } : {}),
    minValidity: nonNegative(args, "min-validity", 300),
    ...(getBoolean(args, "force-refresh") ? { forceRefresh: true } : {}),
  };
}

/**
 * The TokenSource the flags name: `--refresh-token-store URI` (with `--application-id`…) without a
 * session, else the profile's session; its access tokens cached in `--cache` Redis when given.
 */
export async function openTokenSourceFromArgs(
  args: ParsedArgs,
  clientOptions: ClientOptions = {},
): Promise<OpenedTokenSource> {
  const storeUri = getString(args, "refresh-token-store");
  if (storeUri !== undefined) {
    const { openStoreTokenSource } = await import("./store-flags.ts");
    return openStoreTokenSource(args, storeUri, clientOptions);
  }
  const cache = await openCacheFromArgs(args);
  const { openSession } = await import("../session/session.ts");
  try {
    const session = await openSession({
      ...sessionOptionsOf(args, clientOptions),
      ...(cache ? { cache } : {}),
    });
    return Object.assign(session, { close: async () => void (await cache?.close?.()) });
  } catch (error) {
    await cache?.close?.();
    throw error;
  }
}
