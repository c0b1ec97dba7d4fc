/**
 * `consentCustomers`: the repair a tool can do — Partner Center's application consent
 * (`POST /v1/customers/{tenantId}/applicationconsents`, SPEC §8) for the session's app in each
 * customer, "Permission entry already exists." counted as done, and each result proven by a
 * freshly redeemed token in that tenant. Running it twice changes nothing the second time.
 */
import { CancelledError, PartnerTokenError, UsageError } from "../client/errors.ts";
import { sleep } from "../client/http.ts";
import type { GraphClient } from "../graph/client.ts";
import { consentedGrants, GRAPH_APP_ID, type ResourceGrant } from "../graph/directory.ts";
import { PartnerCenterError, type PartnerCenterClient } from "../partner-center/client.ts";
import type { TokenSource } from "../session/types.ts";
import { mapConcurrent } from "./check.ts";
import type { CustomerRef } from "./customer-tokens.ts";
import { customerHint } from "./hints.ts";

/**
 * The grants given when neither `grants` nor the app's consent in the partner tenant says:
 * Microsoft Graph's `Directory.Read.All` and `User.Read`, Microsoft's own example of the call.
 */
export const DEFAULT_CONSENT_GRANTS: readonly ResourceGrant[] = Object.freeze([
  { resourceAppId: GRAPH_APP_ID, scopes: ["Directory.Read.All", "User.Read"] },
]);

/**
 * What the partner's own consent holds that means nothing in a customer's tenant, and is left out
 * of the default grants: Graph's GDAP scopes (they read the partner's relationships) and Partner
 * Center's API (a partner's, not a customer's).
 */
const PARTNER_ONLY_SCOPES = /^DelegatedAdminRelationship\./i;
const PARTNER_ONLY_RESOURCES = new Set(["fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"]);

export interface ConsentCustomersOptions {
  partnerCenter: PartnerCenterClient;
  /** The app to consent (the session's). */
  applicationId: string;
  /** The customers to consent the app in. */
  customers: Iterable<string | CustomerRef> | AsyncIterable<string | CustomerRef>;
  /** What to grant; default {@link defaultGrants} of the app. */
  grants: ResourceGrant[];
  /** Scopes of the proving token in each tenant; default `https://graph.microsoft.com/.default`. */
  verifyScopes?: string[];
  /** The name Partner Center gives the consent (`displayName`). */
  displayName?: string;
  /** Customers at once. Default 8 (Partner Center allows 50 consent requests a second per app). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** One customer's consent. */
export interface CustomerConsent {
  tenantId: string;
  domain: string | null;
  name: string | null;
  status: "ok" | "error";
  /** `consented` (created now), `already-consented` (Partner Center had it), or `failed`. */
  action: "consented" | "already-consented" | "failed";
  grants: ResourceGrant[];
  /** A token in the tenant was redeemed after the consent (proof it works). */
  verified: boolean;
  error?: {
    /**
     * `consent-forbidden`, `consent-mfa-required`, `consent-resource-missing`, `consent-throttled`,
     * `consent-refused`, `verify-failed`, or the library's code of a failure before Partner Center.
     */
    code: string;
    message: string;
    fix: string;
    status?: number;
    correlationId?: string;
  };
}

/**
 * The grants the app holds in the partner's own tenant (its `AllPrincipals` delegated grants, read
 * through Graph), which is what the partner consented it for, less what only a partner tenant
 * uses (Graph's `DelegatedAdminRelationship.*`, Partner Center's API);
 * {@link DEFAULT_CONSENT_GRANTS} when nothing is left or they cannot be read.
 *
 * @example
 * ```ts
 * const grants = await defaultGrants(new GraphClient({ source: session }), appId);
 * ```
 */
export async function defaultGrants(
  graph: GraphClient,
  applicationId: string,
): Promise<{ grants: ResourceGrant[]; from: "partner-tenant" | "defaults" }> {
  try {
    const { grants } = await consentedGrants(graph, applicationId);
    const useful = grants
      .filter((g) => !PARTNER_ONLY_RESOURCES.has(g.resourceAppId.toLowerCase()))
      .map((g) => ({ ...g, scopes: g.scopes.filter((s) => !PARTNER_ONLY_SCOPES.test(s)) }))
      .filter((g) => g.scopes.length > 0);
    if (useful.length > 0) return { grants: useful, from: "partner-tenant" };
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    if (!(error instanceof PartnerTokenError)) throw error;
  }
  return {
    grants: DEFAULT_CONSENT_GRANTS.map((g) => ({ ...g, scopes: [...g.scopes] })),
    from: "defaults",
  };
}

/**
 * Parses `RESOURCE=SCOPE,SCOPE…` (RESOURCE an application id, or `graph` for Microsoft Graph).
 *
 * @example
 * ```ts
 * parseGrant("graph=User.Read,Directory.Read.All");
 * ```
 */
export function parseGrant(text: string): ResourceGrant {
  const m = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(text);
  const resource = m?.[1]?.toLowerCase();
  const scopes = (m?.[2] ?? "").split(/[,\s]+/).filter((s) => s !== "");
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const id = resource === "graph" ? GRAPH_APP_ID : resource;
  if (!id || !guid.test(id) || scopes.length === 0 || scopes.some((s) => !/^[\w.\-]+$/.test(s)))
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `A grant is RESOURCE=SCOPE,SCOPE… with RESOURCE an application id (or 'graph'), e.g. graph=User.Read,Directory.Read.All — not '${text}'.`,
    );
  return { resourceAppId: id, scopes };
}

/**
 * Consents the app in every customer given, one {@link CustomerConsent} each as it completes.
 *
 * @example
 * ```ts
 * for await (const r of consentCustomers(session, { partnerCenter, applicationId, customers, grants })) {
 *   console.log(r.tenantId, r.action, r.verified, r.error?.fix);
 * }
 * ```
 */
export async function* consentCustomers(
  source: TokenSource,
  options: ConsentCustomersOptions,
): AsyncGenerator<CustomerConsent, void, undefined> {
  if (typeof options.applicationId !== "string" || options.applicationId.trim() === "")
    throw new UsageError("ERR_INVALID_ARGUMENT", "applicationId must name the app to consent.");
  if (!Array.isArray(options.grants) || options.grants.length === 0)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "grants must name at least one resource and its scopes.",
    );
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 50)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `concurrency must be a whole number from 1 to 50, not ${concurrency}.`,
    );
  const verifyScopes = options.verifyScopes ?? ["https://graph.microsoft.com/.default"];
  const seen = new Set<string>();
  const input = options.customers;
  const refs = (async function* () {
    for await (const c of input as AsyncIterable<string | CustomerRef>) {
      const ref =
        typeof c === "string" ? { tenantId: c.trim() } : { ...c, tenantId: c.tenantId.trim() };
      const key = ref.tenantId.toLowerCase();
      if (key === "" || seen.has(key)) continue;
      seen.add(key);
      yield ref;
    }
  })();
  yield* mapConcurrent(refs, concurrency, (ref) => consentOne(source, ref, options, verifyScopes));
}

async function consentOne(
  source: TokenSource,
  ref: CustomerRef,
  options: ConsentCustomersOptions,
  verifyScopes: string[],
): Promise<CustomerConsent> {
  const base = {
    tenantId: ref.tenantId,
    domain: ref.domain ?? null,
    name: ref.name ?? null,
    grants: options.grants,
  };
  let action: CustomerConsent["action"] = "consented";
  try {
    await options.partnerCenter.request({
      method: "POST",
      path: `/v1/customers/${encodeURIComponent(ref.tenantId)}/applicationconsents`,
      json: {
        applicationId: options.applicationId,
        applicationGrants: options.grants.map((g) => ({
          enterpriseApplicationId: g.resourceAppId,
          scope: g.scopes.join(","),
        })),
        ...(options.displayName ? { displayName: options.displayName } : {}),
      },
    });
  } catch (error) {
    if (error instanceof CancelledError || options.signal?.aborted) throw new CancelledError();
    if (alreadyExists(error)) action = "already-consented";
    else
      return {
        ...base,
        status: "error",
        action: "failed",
        verified: false,
        error: consentError(error, ref.tenantId),
      };
  }
  try {
    await verifyToken(source, ref.tenantId, verifyScopes, options.signal);
    return { ...base, status: "ok", action, verified: true };
  } catch (error) {
    if (error instanceof CancelledError || options.signal?.aborted) throw new CancelledError();
    const e = error as PartnerTokenError;
    const code = e.aadsts !== undefined ? `AADSTS${e.aadsts}` : (e.code ?? "ERR_UNEXPECTED");
    return {
      ...base,
      status: "error",
      action,
      verified: false,
      error: {
        code: "verify-failed",
        message: `Partner Center ${action === "consented" ? "accepted the consent" : "already had the consent"}, but no token for ${verifyScopes.join(" ")} came in the tenant (${code}): ${String(e.message).split(/\r?\n/)[0]}`,
        fix: customerHint(e.aadsts, e.hint),
        ...(e.status !== undefined ? { status: e.status } : {}),
      },
    };
  }
}

/**
 * A freshly redeemed token in the tenant. A source built for bulk work hands Entra's throttling
 * back at once; here it is waited out (its Retry-After, at most 10 s, a few times).
 */
async function verifyToken(
  source: TokenSource,
  tenant: string,
  scopes: string[],
  signal: AbortSignal | undefined,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await source.getToken({
        scopes,
        tenant,
        forceRefresh: true,
        ...(signal ? { signal } : {}),
      });
      return;
    } catch (error) {
      const e = error as PartnerTokenError;
      if (attempt >= 3 || (e.status !== 429 && e.status !== 503)) throw error;
      const header = e.response?.headers?.get("retry-after");
      const seconds = header && /^\d+$/.test(header.trim()) ? Number(header.trim()) : 1;
      await sleep(Math.min(10, seconds) * 1000, signal);
    }
  }
}

function alreadyExists(error: unknown): boolean {
  if (!(error instanceof PartnerCenterError)) return false;
  if (error.status === 409) return true;
  return /already exists/i.test(`${error.errorDescription ?? ""} ${error.message}`);
}

function consentError(error: unknown, tenantId: string): NonNullable<CustomerConsent["error"]> {
  const e = error as PartnerTokenError;
  const message = String(e.message ?? error).split(/\r?\n/)[0]!;
  const fields = {
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.correlationId !== undefined ? { correlationId: e.correlationId } : {}),
  };
  if (!(error instanceof PartnerCenterError))
    return {
      code: e.code ?? "ERR_UNEXPECTED",
      message,
      fix: e.aadsts !== undefined ? customerHint(e.aadsts, e.hint) : (e.hint ?? "See the message."),
      ...fields,
    };
  if (
    error.status === 401 &&
    (String(error.partnerCenterCode) === "900421" || /multi-factor|\bmfa\b/i.test(message))
  )
    return {
      code: "consent-mfa-required",
      message,
      fix: "Partner Center requires an MFA sign-in for App + User calls: sign in again interactively with MFA (partner-token connect), then run again.",
      ...fields,
    };
  if (error.status === 403)
    return {
      code: "consent-forbidden",
      message,
      fix: `The signed-in user must be in the partner's AdminAgents group and hold, through GDAP in this customer, Global Administrator, Privileged Role Administrator, Application Administrator or Cloud Application Administrator (partner-token customers check --customer ${tenantId} says which is missing).`,
      ...fields,
    };
  if (
    (error.status === 400 || error.status === 404) &&
    /service ?principal|resource|enterprise/i.test(message)
  )
    return {
      code: "consent-resource-missing",
      message,
      fix: "A resource of the grants has no service principal in the customer's tenant (the service is not provisioned there): leave it out with --grant, or have it provisioned.",
      ...fields,
    };
  if (error.status === 429)
    return {
      code: "consent-throttled",
      message,
      fix: "Partner Center kept throttling after the retries honoured its Retry-After; run again later (a second run consents only what is missing).",
      ...fields,
    };
  return {
    code: "consent-refused",
    message,
    fix: error.hint ?? "See the message; run again once it is fixed.",
    ...fields,
  };
}
