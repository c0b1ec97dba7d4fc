/**
 * The problems `customers check` names, each with a stable code, a severity, a sentence and a fix
 * (docs/customers.md lists them). A code never changes meaning; new ones may be added.
 */

/** Every problem code of a customer's diagnosis. */
export type ProblemCode =
  | "not-admin-agent"
  | "gdap-no-active-relationship"
  | "gdap-relationship-expiring"
  | "gdap-user-not-in-group"
  | "gdap-missing-role"
  | "consent-missing"
  | "consent-scopes-missing"
  | "mfa-missing"
  | "token-failed"
  | "graph-failed";

/** One thing wrong with a partner's access to a customer, and what to do about it. */
export interface Problem {
  code: ProblemCode;
  /** `error`: access is broken or cannot be repaired as it stands; `warning`: it will break. */
  severity: "error" | "warning";
  message: string;
  /** The command to run, or the admin-centre step. */
  fix: string;
}

const GDAP_FIX =
  "In Partner Center: Customers → the customer → Admin relationships → Request admin relationship (roles covering the work, e.g. Cloud Application Administrator to consent apps); once the customer approves, assign it to a security group that holds the user.";

export function notAdminAgent(user: string | null): Problem {
  return {
    code: "not-admin-agent",
    severity: "error",
    message: `The signed-in user${user ? ` ${user}` : ""} is not in the partner tenant's AdminAgents group, so Graph shows them no GDAP relationship and Partner Center refuses them admin work.`,
    fix: "Add the user to AdminAgents: Partner Center → Account settings → User management → the user → Admin agent (or Entra admin centre → Groups → AdminAgents → Members), then sign in again (partner-token connect).",
  };
}

export function noActiveRelationship(
  ended: { name: string; status: string; endDateTime: string | null }[],
): Problem {
  const what =
    ended.length === 0
      ? "There is no GDAP relationship with this customer"
      : `No GDAP relationship with this customer is active (${ended
          .map((r) => `'${r.name}' is ${r.status}${r.endDateTime ? ` since ${r.endDateTime}` : ""}`)
          .join("; ")})`;
  return {
    code: "gdap-no-active-relationship",
    severity: "error",
    message: `${what}: the partner's users have no delegated access to its tenant (Entra answers AADSTS50020).`,
    fix: GDAP_FIX,
  };
}

export function relationshipExpiring(name: string, endDateTime: string, daysLeft: number): Problem {
  return {
    code: "gdap-relationship-expiring",
    severity: "warning",
    message: `The GDAP relationship '${name}' ends ${endDateTime} (in ${daysLeft} day${daysLeft === 1 ? "" : "s"}) and does not extend itself.`,
    fix: "Turn on auto-extend (Partner Center → Customers → the customer → Admin relationships → the relationship → Auto extend: 180 days; not possible with Global Administrator among its roles), or request a new relationship before it ends.",
  };
}

export function userNotInGroup(user: string | null, groups: string[]): Problem {
  return {
    code: "gdap-user-not-in-group",
    severity: "error",
    message: `The signed-in user${user ? ` ${user}` : ""} is in none of the security groups the active GDAP relationships give roles to${groups.length ? ` (${groups.join(", ")})` : " (the relationships have no access assignment)"}.`,
    fix:
      groups.length > 0
        ? `Add the user to one of these groups of the partner tenant (Entra admin centre → Groups → the group → Members), or assign a group that holds them to the relationship (Partner Center → Customers → the customer → Admin relationships → Assign roles).`
        : "Assign a security group that holds the user to the relationship, with its roles (Partner Center → Customers → the customer → Admin relationships → Assign roles).",
  };
}

export function missingRole(have: string[], need: string[], forWhat: string): Problem {
  return {
    code: "gdap-missing-role",
    severity: "error",
    message: `Through GDAP the signed-in user holds ${have.length ? have.join(", ") : "no role"} in this customer; ${forWhat} needs one of ${need.join(", ")}.`,
    fix: "Give the user's group one of those roles in the relationship (Partner Center → Customers → the customer → Admin relationships → the relationship's access assignment), or request a relationship that includes it.",
  };
}

export function consentMissing(appId: string, tenantId: string, why: string): Problem {
  return {
    code: "consent-missing",
    severity: "error",
    message: `The app ${appId} is not consented in this customer's tenant: ${why}.`,
    fix: `partner-token customers consent --customer ${tenantId} (Partner Center's application consent; needs AdminAgents and Cloud Application Administrator or higher through GDAP), or the customer's administrator grants admin consent.`,
  };
}

export function consentScopesMissing(appId: string, tenantId: string, missing: string[]): Problem {
  return {
    code: "consent-scopes-missing",
    severity: "error",
    message: `The app ${appId} is consented in this customer's tenant without ${missing.join(", ")}.`,
    fix: `partner-token customers consent --customer ${tenantId} --grant RESOURCE=SCOPE,… with every scope the app needs (Partner Center adds to the grant), or the customer's administrator consents again.`,
  };
}

export function mfaMissing(): Problem {
  return {
    code: "mfa-missing",
    severity: "warning",
    message:
      "The session's sign-in was not multi-factor (its token's amr has no 'mfa'): Partner Center refuses App + User calls without MFA, and customers' Conditional Access may too.",
    fix: "Sign in again interactively with MFA (partner-token connect), then run again.",
  };
}

export function tokenFailed(code: string, message: string, hint: string): Problem {
  return {
    code: "token-failed",
    severity: "error",
    message: `No token in this customer's tenant (${code}): ${message}`,
    fix: hint,
  };
}

export function graphFailed(what: string, message: string, hint: string | undefined): Problem {
  return {
    code: "graph-failed",
    severity: "error",
    message: `Could not read ${what} through Microsoft Graph: ${message}`,
    fix: hint ?? "Run again later; with --debug to see the exchange.",
  };
}
