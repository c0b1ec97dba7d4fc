/**
 * `checkCustomers`: a diagnosis of the partner's access to each customer tenant (SPEC §8) — the
 * GDAP relationships and their end, whether the signed-in user is in a group holding roles there,
 * whether the app is consented (its service principal, its delegated grants), a token attempt, and
 * whether the session's sign-in was MFA — with each problem named by a stable code and a fix.
 * The token attempts run through {@link customerTokens} (concurrent, sharing its throttle); the
 * Graph reads of the partner tenant are made once per job.
 */
import { tryDecodeClaims } from "../client/decode.ts";
import { CancelledError, PartnerTokenError, UsageError } from "../client/errors.ts";
import { GraphError, type GraphClient } from "../graph/client.ts";
import {
  ADMIN_AGENTS_GROUP,
  CONSENT_ROLE_IDS,
  consentedGrants,
  getMe,
  listAccessAssignments,
  listRelationships,
  myGroups,
  roleName,
  type AccessAssignment,
  type DelegatedAdminRelationship,
  type DirectoryGroup,
  type ResourceGrant,
} from "../graph/directory.ts";
import type { PartnerCenterClient } from "../partner-center/client.ts";
import type { TokenSource } from "../session/types.ts";
import {
  customerTokens,
  type CustomerRef,
  type CustomerTokenFailure,
  type CustomerTokenResult,
} from "./customer-tokens.ts";
import * as P from "./problems.ts";
import type { Problem } from "./problems.ts";
import type { Throttle } from "./throttle.ts";

export type { Problem, ProblemCode } from "./problems.ts";

export interface CheckCustomersOptions {
  /** Graph, over the same token source (partner tenant and customer tenants). */
  graph: GraphClient;
  /** The session's app: the one whose consent is checked in each customer. */
  applicationId: string;
  /** Scopes of the token attempt in each customer. Default `{graph.resource}/.default`. */
  scopes?: string[];
  /** The customers (tenant ids or refs); default every customer of `partnerCenter`. */
  customers?: Iterable<string | CustomerRef> | AsyncIterable<string | CustomerRef>;
  partnerCenter?: PartnerCenterClient;
  /** A relationship ending within this many days without auto-extend is a warning. Default 30. */
  warnDays?: number;
  /**
   * The delegated grants the app should hold in every customer; missing scopes are
   * `consent-scopes-missing`. Default none: only the consent's presence is checked.
   */
  requiredGrants?: ResourceGrant[];
  /** Customers diagnosed at once (and tokens in flight). Default 16. */
  concurrency?: number;
  throttle?: Throttle;
  signal?: AbortSignal;
  /** The clock days-left are counted on. Default the system's. */
  now?: () => Date;
}

export interface RelationshipView {
  id: string;
  displayName: string | null;
  status: string;
  roles: string[];
  /** The partner groups its active access assignments name (display names where known, else ids). */
  groups: string[];
  endDateTime: string | null;
  daysLeft: number | null;
  autoExtend: boolean;
}

/** One customer's diagnosis. */
export interface CustomerCheck {
  tenantId: string;
  domain: string | null;
  name: string | null;
  /** `error` when any problem is an error, `warning` when only warnings, else `ok`. */
  status: "ok" | "warning" | "error";
  /** The relationships with this customer; null when Graph could not be read. */
  gdap: { relationships: RelationshipView[] } | null;
  /** Whether the signed-in user holds roles there, through which groups. null when unknown. */
  access: {
    adminAgent: boolean | null;
    inGroup: boolean;
    groups: string[];
    roles: string[];
  } | null;
  /** The app's consent in the customer's tenant; null when it could not be read. */
  consent: {
    /** Whether the app's service principal is there; null when Entra's refusal does not say. */
    servicePrincipal: boolean | null;
    granted: ResourceGrant[];
    missing: ResourceGrant[];
  } | null;
  /** The token attempt. */
  token:
    | { status: "ok"; scopes: string[]; expiresOn: string }
    | { status: "error"; scopes: string[]; error: CustomerTokenFailure["error"] };
  /** Whether the session's sign-in was multi-factor; null when the token does not say. */
  mfa: boolean | null;
  problems: Problem[];
}

/** What is read once per job from the partner tenant. */
interface PartnerView {
  user: string | null;
  groups: Map<string, DirectoryGroup> | null;
  adminAgent: boolean | null;
  relationships: Map<string, DelegatedAdminRelationship[]> | null;
  relationshipsError: Problem | null;
  mfa: boolean | null;
}

const DAY_MS = 86_400_000;

/**
 * The diagnosis of every customer, one {@link CustomerCheck} per customer as each completes.
 * Throws only for what no customer can get past (the session unusable) or when cancelled.
 *
 * @example
 * ```ts
 * const graph = new GraphClient({ source: session });
 * for await (const c of checkCustomers(session, { graph, applicationId, partnerCenter })) {
 *   for (const p of c.problems) console.log(c.tenantId, p.code, p.fix);
 * }
 * ```
 */
export async function* checkCustomers(
  source: TokenSource,
  options: CheckCustomersOptions,
): AsyncGenerator<CustomerCheck, void, undefined> {
  const warnDays = options.warnDays ?? 30;
  if (!Number.isInteger(warnDays) || warnDays < 0 || warnDays > 3650)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `warnDays must be a whole number from 0 to 3650, not ${warnDays}.`,
    );
  if (typeof options.applicationId !== "string" || options.applicationId.trim() === "")
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "applicationId must name the app whose consent is checked.",
    );
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `concurrency must be a whole number from 1 to 1000, not ${concurrency}.`,
    );
  const scopes = options.scopes ?? [`${options.graph.resource}/.default`];
  const now = options.now ?? (() => new Date());
  const graph = options.graph;
  const appId = options.applicationId.trim().toLowerCase();

  const partner = await readPartner(source, graph, options.signal);
  const assignments = new Map<string, Promise<AccessAssignment[]>>();
  const assignmentsOf = (id: string) => {
    let p = assignments.get(id);
    if (!p) {
      p = listAccessAssignments(graph, id);
      p.catch(() => undefined);
      assignments.set(id, p);
    }
    return p;
  };

  const tokens = customerTokens(source, {
    scopes,
    concurrency,
    ...(options.customers ? { customers: options.customers } : {}),
    ...(options.partnerCenter ? { partnerCenter: options.partnerCenter } : {}),
    ...(options.throttle ? { throttle: options.throttle } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  yield* mapConcurrent(tokens, concurrency, (token) =>
    diagnose(token, {
      partner,
      graph,
      appId,
      scopes,
      warnDays,
      now: now(),
      requiredGrants: options.requiredGrants ?? [],
      assignmentsOf,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
}

async function readPartner(
  source: TokenSource,
  graph: GraphClient,
  signal?: AbortSignal,
): Promise<PartnerView> {
  const token = await source.getToken({
    scopes: [`${graph.resource}/.default`],
    ...(signal ? { signal } : {}),
  });
  const claims = tryDecodeClaims(token.accessToken);
  const amr = claims?.["amr"];
  const mfa = Array.isArray(amr) ? amr.includes("mfa") : null;
  const view: PartnerView = {
    user:
      typeof claims?.["upn"] === "string"
        ? (claims["upn"] as string)
        : (token.account?.username ?? null),
    groups: null,
    adminAgent: null,
    relationships: null,
    relationshipsError: null,
    mfa,
  };
  // An app-only session has no /me: the user-side of the diagnosis is then unknown.
  if (claims?.["idtyp"] !== "app" && claims?.["scp"] !== undefined) {
    try {
      const me = await getMe(graph);
      view.user = me.userPrincipalName ?? view.user;
      const groups = await myGroups(graph);
      view.groups = new Map(groups.map((g) => [g.id, g]));
      view.adminAgent = groups.some(
        (g) => g.displayName?.toLowerCase() === ADMIN_AGENTS_GROUP.toLowerCase(),
      );
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (!(error instanceof GraphError)) throw error;
    }
  }
  try {
    const byCustomer = new Map<string, DelegatedAdminRelationship[]>();
    for await (const r of listRelationships(graph)) {
      const list = byCustomer.get(r.customerTenantId) ?? [];
      list.push(r);
      byCustomer.set(r.customerTenantId, list);
    }
    view.relationships = byCustomer;
  } catch (error) {
    if (!(error instanceof GraphError)) throw error;
    view.relationshipsError = P.graphFailed(
      "the GDAP relationships (tenantRelationships/delegatedAdminRelationships, partner tenant)",
      error.message,
      error.status === 403
        ? "The session needs Graph's DelegatedAdminRelationship.Read.All (delegated) and a partner role that may read relationships (e.g. Admin agent); consent it for the app in the partner tenant and sign in again."
        : error.hint,
    );
  }
  return view;
}

interface DiagnoseContext {
  partner: PartnerView;
  graph: GraphClient;
  appId: string;
  scopes: string[];
  warnDays: number;
  now: Date;
  requiredGrants: ResourceGrant[];
  assignmentsOf: (relationshipId: string) => Promise<AccessAssignment[]>;
  signal?: AbortSignal;
}

async function diagnose(token: CustomerTokenResult, ctx: DiagnoseContext): Promise<CustomerCheck> {
  const { partner } = ctx;
  const tenantId = token.tenantId;
  const key = tenantId.toLowerCase();
  const problems: Problem[] = [];
  let explained = false;

  // GDAP: the relationships with this customer (relationships are keyed by tenant id; a domain
  // given as the customer matches none, so it is looked up by the relationship's customer name).
  let gdap: CustomerCheck["gdap"] = null;
  let access: CustomerCheck["access"] = null;
  let roleIds = new Set<string>();
  if (partner.relationshipsError) problems.push(partner.relationshipsError);
  else if (partner.relationships) {
    const relationships = partner.relationships.get(key) ?? [];
    const views: RelationshipView[] = [];
    const active = relationships.filter((r) => r.status === "active");
    const userGroups: string[] = [];
    const groupsOfActive: string[] = [];
    let expiring: Problem | null = null;
    let assignmentsFailed: Problem | null = null;
    for (const r of relationships) {
      const end = r.endDateTime ? Date.parse(r.endDateTime) : NaN;
      const daysLeft = Number.isNaN(end) ? null : Math.floor((end - ctx.now.getTime()) / DAY_MS);
      const autoExtend = r.autoExtendDuration !== null && r.autoExtendDuration !== "PT0S";
      const groups: string[] = [];
      if (r.status === "active") {
        try {
          for (const a of await ctx.assignmentsOf(r.id)) {
            if (a.status !== "active") continue;
            const name = partner.groups?.get(a.groupId)?.displayName ?? a.groupId;
            groups.push(name);
            groupsOfActive.push(name);
            if (partner.groups?.has(a.groupId)) {
              userGroups.push(name);
              for (const id of a.roleIds) roleIds.add(id);
            }
          }
        } catch (error) {
          if (!(error instanceof GraphError)) throw error;
          assignmentsFailed = P.graphFailed(
            `the access assignments of relationship '${r.displayName ?? r.id}'`,
            error.message,
            error.hint,
          );
        }
        if (!autoExtend && daysLeft !== null && daysLeft <= ctx.warnDays && r.endDateTime)
          expiring ??= P.relationshipExpiring(
            r.displayName ?? r.id,
            r.endDateTime,
            Math.max(0, daysLeft),
          );
      }
      views.push({
        id: r.id,
        displayName: r.displayName,
        status: r.status,
        roles: r.roleIds.map(roleName),
        groups,
        endDateTime: r.endDateTime,
        daysLeft,
        autoExtend,
      });
    }
    gdap = { relationships: views };
    const notAgent = partner.adminAgent === false;
    if (notAgent) {
      problems.push(P.notAdminAgent(partner.user));
      explained = true;
    } else if (active.length === 0) {
      problems.push(
        P.noActiveRelationship(
          relationships.map((r) => ({
            name: r.displayName ?? r.id,
            status: r.status,
            endDateTime: r.endDateTime,
          })),
        ),
      );
      explained = true;
    } else if (assignmentsFailed) problems.push(assignmentsFailed);
    else if (partner.groups && userGroups.length === 0) {
      problems.push(P.userNotInGroup(partner.user, [...new Set(groupsOfActive)]));
      explained = true;
    }
    // The expiring warning applies only when that relationship is what gives access.
    if (expiring && !notAgent && active.length > 0) problems.push(expiring);
    if (partner.groups)
      access = {
        adminAgent: partner.adminAgent,
        inGroup: userGroups.length > 0,
        groups: [...new Set(userGroups)],
        roles: [...roleIds].map(roleName),
      };
  } else roleIds = new Set();

  // Consent: the app's service principal and grants in the customer's tenant, read through Graph
  // there (which needs a token there: without access, what the token attempt said stands).
  let consent: CustomerCheck["consent"] = null;
  const tokenCode = token.status === "error" ? token.error.aadsts : undefined;
  if (tokenCode === 65001 || tokenCode === 700016) {
    // AADSTS700016: no service principal; AADSTS65001: perhaps one, without a grant.
    consent = {
      servicePrincipal: tokenCode === 700016 ? false : null,
      granted: [],
      missing: ctx.requiredGrants,
    };
    problems.push(P.consentMissing(ctx.appId, tenantId, `Entra answered AADSTS${tokenCode}`));
    explained = true;
  } else if (!explained) {
    try {
      const found = await consentedGrants(ctx.graph, ctx.appId, tenantId);
      const missing = missingGrants(ctx.requiredGrants, found.grants);
      // Without a service principal, an app the tenant still gave a token to is one Microsoft
      // pre-authorises everywhere (its first-party tools, such as the Azure CLI): nothing to consent.
      const preAuthorised = !found.servicePrincipal && token.status === "ok";
      consent = {
        servicePrincipal: found.servicePrincipal !== null,
        granted: found.grants,
        missing: preAuthorised ? [] : missing,
      };
      if (preAuthorised) {
        // Nothing is missing.
      } else if (!found.servicePrincipal) {
        problems.push(P.consentMissing(ctx.appId, tenantId, "its service principal is not there"));
        explained = true;
      } else if (missing.length > 0)
        problems.push(
          P.consentScopesMissing(
            ctx.appId,
            tenantId,
            missing.flatMap((g) => g.scopes.map((s) => `${g.resourceAppId}/${s}`)),
          ),
        );
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (!(error instanceof PartnerTokenError)) throw error;
      // A customer that gives the partner no Graph token is diagnosed by the token attempt.
      if (error instanceof GraphError)
        problems.push(
          P.graphFailed(
            "the app's consent (servicePrincipals, oauth2PermissionGrants)",
            error.message,
            error.hint,
          ),
        );
    }
  }
  // Repairing consent takes one of the roles Partner Center's application consent accepts.
  if (
    problems.some((p) => p.code === "consent-missing" || p.code === "consent-scopes-missing") &&
    access?.inGroup &&
    ![...roleIds].some((id) => CONSENT_ROLE_IDS.has(id))
  )
    problems.push(
      P.missingRole(
        [...roleIds].map(roleName),
        [...CONSENT_ROLE_IDS].map(roleName),
        "consenting the app (customers consent)",
      ),
    );

  if (token.status === "error" && !explained)
    problems.push(P.tokenFailed(token.error.code, token.error.message, token.error.hint));
  if (partner.mfa === false) problems.push(P.mfaMissing());

  const status = problems.some((p) => p.severity === "error")
    ? "error"
    : problems.length > 0
      ? "warning"
      : "ok";
  const name =
    token.name ??
    partner.relationships?.get(key)?.find((r) => r.customerName !== null)?.customerName ??
    null;
  return {
    tenantId,
    domain: token.domain ?? null,
    name,
    status,
    gdap,
    access,
    consent,
    token:
      token.status === "ok"
        ? { status: "ok", scopes: ctx.scopes, expiresOn: token.expiresOn }
        : { status: "error", scopes: ctx.scopes, error: token.error },
    mfa: partner.mfa,
    problems,
  };
}

/** The required scopes the granted ones lack, per resource (scope names compared case-insensitively). */
export function missingGrants(
  required: ResourceGrant[],
  granted: ResourceGrant[],
): ResourceGrant[] {
  const out: ResourceGrant[] = [];
  for (const r of required) {
    const have = new Set(
      granted
        .filter((g) => g.resourceAppId.toLowerCase() === r.resourceAppId.toLowerCase())
        .flatMap((g) => g.scopes.map((s) => s.toLowerCase())),
    );
    const missing = r.scopes.filter((s) => !have.has(s.toLowerCase()));
    if (missing.length > 0) out.push({ resourceAppId: r.resourceAppId, scopes: missing });
  }
  return out;
}

/**
 * `fn` over an async source, at most `limit` at once, results as each completes (not in input
 * order). The first failure stops the pulling and is thrown once the running ones settle.
 */
export async function* mapConcurrent<T, R>(
  input: AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R, void, undefined> {
  type Settled =
    { kind: "result"; id: number; result: R } | { kind: "input"; next: IteratorResult<T> };
  const iterator = input[Symbol.asyncIterator]();
  const running = new Map<number, Promise<Settled>>();
  // At most one pull from the input at a time; while it waits, finished work is still handed on.
  let pulling: Promise<Settled> | undefined;
  let nextId = 0;
  let done = false;
  try {
    for (;;) {
      if (!done && !pulling && running.size < limit)
        pulling = iterator.next().then((next) => ({ kind: "input", next }) as Settled);
      if (!pulling && running.size === 0) return;
      const settled = await Promise.race([...running.values(), ...(pulling ? [pulling] : [])]);
      if (settled.kind === "input") {
        pulling = undefined;
        if (settled.next.done) done = true;
        else {
          const id = nextId++;
          running.set(
            id,
            fn(settled.next.value).then((result) => ({ kind: "result", id, result }) as Settled),
          );
        }
        continue;
      }
      running.delete(settled.id);
      yield settled.result;
    }
  } finally {
    // A pull still waiting may fail once the input is stopped: nobody is left to hear it.
    pulling?.catch(() => undefined);
    await iterator.return?.();
    await Promise.allSettled(running.values());
  }
}
