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
import { openCacheFromArgs } from "./store-flags.ts";

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
  const storeUri = getString(args, "refresh-token-store");
  if (storeUri !== undefined) {
    const source = await openTokenSourceFromArgs(args, clientOptions);
    // The store's source resolves its environment from the same flags; so do we.
    const { resolveEnvironment } = await import("../client/environments.ts");
    const environmentName = getString(args, "environment");
    const authorityHost =
      getString(args, "authority-host") ??
      (environmentName === undefined ? process.env.AZURE_AUTHORITY_HOST : undefined);
    const caFile = getString(args, "ca-file") ?? process.env.PARTNER_TOKEN_CA_FILE;
    const env = resolveEnvironment({
      ...(environmentName ? { environment: environmentName } : {}),
      ...(authorityHost ? { authorityHost } : {}),
      ...(caFile ? { caFile } : {}),
    });
    return {
      source,
      partnerCenterEndpoint: env.partnerCenterEndpoint,
      caFile: env.caFile,
      partnerCenterScope: `${partnerCenterResource(env)}/user_impersonation`,
      applicationId: getString(args, "application-id") ?? process.env.AZURE_CLIENT_ID ?? "",
      ...(await graphOf(env)),
      close: async () => source.close?.(),
    };
  }
  const fleet = await openCacheFromArgs(args);
  const { openSession } = await import("../session/session.ts");
  try {
    const cache = fleet ?? localCache?.();
    const session = await openSession({
      ...sessionOptionsOf(args, clientOptions),
      ...(cache ? { cache } : {}),
    });
    const env = session.info.environment;
    return {
      source: session,
      partnerCenterEndpoint: env.partnerCenterEndpoint,
      caFile: env.caFile,
      partnerCenterScope: `${partnerCenterResource(env)}/user_impersonation`,
      applicationId: session.info.applicationId,
      ...(await graphOf(env)),
      close: async () => fleet?.close?.(),
    };
  } catch (error) {
    await fleet?.close?.();
    throw error;
  }
}

/**
 * Graph in an environment: a national cloud's own; for the emulator or a custom authority host,
 * the origin Partner Center is served at (the emulator serves Graph there too), with tokens for
 * `https://graph.microsoft.com`.
 */
async function graphOf(env: {
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

/** A Partner Center client over the source, in its environment. */
export async function partnerCenterClient(
  p: PartnerSource,
  options: { signal?: AbortSignal; debug?: (line: string) => void },
): Promise<PartnerCenterClient> {
  const { PartnerCenterClient } = await import("../partner-center/client.ts");
  return new PartnerCenterClient({
    source: p.source,
    endpoint: p.partnerCenterEndpoint,
    scope: p.partnerCenterScope,
    ...(p.caFile ? { caFile: p.caFile } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.debug ? { debug: options.debug } : {}),
  });
}

/**
 * Runs `work` with a Partner Center client over the source the flags name, and closes the source
 * after (its Redis connection, if any), whatever happens.
 */
export async function withPartnerCenter<T>(
  args: ParsedArgs,
  options: { signal?: AbortSignal; debug?: (line: string) => void },
  work: (client: PartnerCenterClient) => Promise<T>,
): Promise<T> {
  const partner = await openPartnerSource(args, options);
  try {
    return await work(await partnerCenterClient(partner, options));
  } finally {
    await partner.close();
  }
}
