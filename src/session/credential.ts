/**
 * `PartnerTokenCredential`: an `@azure/core-auth` TokenCredential over a partner-token session, so
 * that any Azure SDK client (Key Vault, Resource Manager, Graph's Azure-based clients, a
 * core-rest-pipeline of one's own) runs with the partner's delegated access — in a customer's
 * tenant through `tenantId`.
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { SignInRequiredError } from "../client/errors.ts";
import type { SessionOptions } from "./session.ts";
import type { TokenSource } from "./types.ts";

/**
 * No session to take tokens from. Named `CredentialUnavailableError`, as `@azure/identity` names
 * it, so that a `ChainedTokenCredential` moves on to its next credential.
 */
export class CredentialUnavailableError extends Error {
  override readonly name = "CredentialUnavailableError";
}

export interface PartnerTokenCredentialOptions extends SessionOptions {
  /** Use this TokenSource instead of opening the profile's session. */
  source?: TokenSource;
  /** Default tenant when the SDK names none (default: the session's). */
  tenantId?: string;
  /** Renew this many seconds before expiry (default 300). */
  minValidity?: number;
}

/**
 * @example
 * ```ts
 * import { SecretClient } from "@azure/keyvault-secrets";
 * import { PartnerTokenCredential } from "partner-token";
 * const client = new SecretClient(vaultUrl, new PartnerTokenCredential({ profile: "contoso" }));
 * ```
 */
export class PartnerTokenCredential implements TokenCredential {
  private source: Promise<TokenSource> | undefined;
  private readonly options: PartnerTokenCredentialOptions;

  constructor(options: PartnerTokenCredentialOptions = {}) {
    this.options = options;
    if (options.source) this.source = Promise.resolve(options.source);
  }

  private open(): Promise<TokenSource> {
    this.source ??= import("./session.ts")
      .then(({ openSession }) => openSession(this.options))
      .catch((error: unknown) => {
        this.source = undefined; // a later call may find a session made meanwhile
        if (error instanceof SignInRequiredError && error.code === "ERR_NO_SESSION")
          throw new CredentialUnavailableError(
            `PartnerTokenCredential: ${error.message} ${error.hint ?? ""}`.trim(),
          );
        throw error;
      });
    return this.source;
  }

  /**
   * A token for `scopes`, as `@azure/identity`'s credentials give it: `enableCae` asks for a CAE
   * token (the bearer policy of `@azure/core-rest-pipeline` does), `claims` carries a claims
   * challenge to Entra (the cache is skipped; a revoked session gives a sign-in-needed error).
   */
  async getToken(
    scopes: string | string[],
    options: GetTokenOptions = {},
  ): Promise<AccessToken | null> {
    const source = await this.open();
    const tenant = options.tenantId ?? this.options.tenantId;
    const result = await source.getToken({
      scopes: Array.isArray(scopes) ? scopes : [scopes],
      ...(tenant ? { tenant } : {}),
      ...(options.claims ? { claims: options.claims } : {}),
      // As @azure/identity: a CAE token only when asked (core-rest-pipeline's bearer policy asks).
      cae: options.enableCae === true,
      minValidity: this.options.minValidity ?? 300,
      ...(options.abortSignal ? { signal: options.abortSignal as AbortSignal } : {}),
    });
    const expiresOnTimestamp = Date.parse(result.expiresOn);
    return {
      token: result.accessToken,
      expiresOnTimestamp,
      // Ask again (served from the cache until then) a little before the renewal margin.
      refreshAfterTimestamp: expiresOnTimestamp - (this.options.minValidity ?? 300) * 1000,
      tokenType: "Bearer",
    };
  }
}
