/**
 * What `partner-center` and `customers` share: the token source the session flags name (the
 * profile's session, or `--refresh-token-store` without one), the environment it signs in to, and
 * a Partner Center client over it.
 */
import type { ClientOptions } from "../client/types.ts";
import type { PartnerCenterClient } from "../partner-center/client.ts";
import type { TokenCache, TokenSource } from "../session/types.ts";
import { getString, type ParsedArgs } from "./args.ts";
import { openTokenSourceFromArgs, sessionOptionsOf } from "./session-flags.ts";
import { openCacheFromArgs, type OpenedTokenSource } from "./store-flags.ts";

export interface PartnerSource {
  source: TokenSource;
  /** Where Partner Center is, and the CA to trust for it. */
  partnerCenterEndpoint: string;
  caFile: string | null;
  /** Scope of the Entra token for Partner Center in this environment. */
  partnerCenterScope: string;
  /** The app tokens are asked for (the throttle is per app). */
  applicationId: string;
  /** Where Microsoft Graph is in this environment (the emulator's origin for the emulator). */
  graphEndpoint: string;
  /** The resource of Graph tokens (`https://graph.microsoft.com` in the global cloud and the emulator). */
  graphResource: string;
  close(): Promise<void>;
}

/**
 * Opens the token source of the flags. `localCache`, when given, replaces the profile's encrypted
 * file cache (not a `--cache` Redis): the bulk job caches thousands of customer tokens, which
 * belong in memory, not rewritten into the profile file one by one.
 */
export async function openPartnerSource(
  args: ParsedArgs,
  clientOptions: ClientOptions,
  localCache?: () => TokenCache,
): Promise<PartnerSource> {
  const { partnerCenterResource } = await import("../session/broker.ts");
  const source =
    getString(args, "refresh-token-store") !== undefined || localCache === undefined
      ? await openTokenSourceFromArgs(args, clientOptions)
      : await openSessionWithCache(args, clientOptions, localCache);
  const env = source.info.environment;
  return {
    source,
    partnerCenterEndpoint: env.partnerCenterEndpoint,
    caFile: env.caFile,
    partnerCenterScope: `${partnerCenterResource(env)}/user_impersonation`,
    applicationId: source.info.applicationId,
    ...(await graphOf(env)),
    close: () => source.close(),
  };
}

/**
 * Graph in an environment: a national cloud's own; for the emulator or a custom authority host,
 * the origin Partner Center is served at (the emulator serves Graph there too), with tokens for
 * `https://graph.microsoft.com`.
 */
export async function graphOf(env: {
  name: string;
  partnerCenterEndpoint: string;
}): Promise<{ graphEndpoint: string; graphResource: string }> {
  const { environments } = await import("../client/environments.ts");
  const known = environments.find((e) => e.name === env.name)?.graphEndpoint;
  if (known) return { graphEndpoint: known, graphResource: known };
  return {
    graphEndpoint: new URL(env.partnerCenterEndpoint).origin,
    graphResource: "https://graph.microsoft.com",
  };
}

/** The profile's session, its tokens in `--cache` Redis when given, else in `localCache()`. */
async function openSessionWithCache(
  args: ParsedArgs,
  clientOptions: ClientOptions,
  localCache: () => TokenCache,
): Promise<OpenedTokenSource> {
  const fleet = await openCacheFromArgs(args);
  const { openSession } = await import("../session/session.ts");
  try {
    const session = await openSession({
      ...sessionOptionsOf(args, clientOptions),
      cache: fleet ?? localCache(),
    });
    return Object.assign(session, { close: async () => void (await fleet?.close?.()) });
  } catch (error) {
    await fleet?.close?.();
    throw error;
  }
}

/** A Partner Center client over the source, in its environment. */
export async function partnerCenterClient(
  p: PartnerSource,
  options: { signal?: AbortSignal; debug?: (line: string) => void; timeoutMs?: number },
): Promise<PartnerCenterClient> {
  const { PartnerCenterClient } = await import("../partner-center/client.ts");
  return new PartnerCenterClient({
    source: p.source,
    endpoint: p.partnerCenterEndpoint,
    scope: p.partnerCenterScope,
    ...(p.caFile ? { caFile: p.caFile } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.debug ? { debug: options.debug } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * Runs `work` with a Partner Center client over the source the flags name, and closes the source
 * after (its Redis connection, if any), whatever happens.
 */
export async function withPartnerCenter<T>(
  args: ParsedArgs,
  options: { signal?: AbortSignal; debug?: (line: string) => void; timeoutMs?: number },
  work: (client: PartnerCenterClient) => Promise<T>,
): Promise<T> {
  const partner = await openPartnerSource(args, options);
  try {
    return await work(await partnerCenterClient(partner, options));
  } finally {
    await partner.close();
  }
}
