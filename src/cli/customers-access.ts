/**
 * `partner-token customers check` (a diagnosis of the partner's access to each customer: GDAP,
 * group, consent, token, MFA — src/customers/check.ts) and `partner-token customers consent`
 * (Partner Center's application consent where it is missing — src/customers/consent.ts).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CustomerCheck } from "../customers/check.ts";
import type { CustomerConsent } from "../customers/consent.ts";
import type { CustomerRef } from "../customers/customer-tokens.ts";
import type { ResourceGrant } from "../graph/directory.ts";
import { getList, getString, type FlagSpec, type ParsedArgs } from "./args.ts";
import { debugFlag, helpFlag, timeoutFlag, type CommandContext } from "./command.ts";
import { ExitCode } from "./exit-codes.ts";
import type { PartnerSource } from "./partner-center-source.ts";
import { say } from "./redact.ts";
import { profileFlags } from "./session-flags.ts";
import { storeSourceFlags } from "./store-flags.ts";
import { usageError } from "./usage-error.ts";

const common: FlagSpec[] = [...profileFlags, ...storeSourceFlags, timeoutFlag, debugFlag, helpFlag];

const customerFlag: FlagSpec = {
  name: "customer",
  aliases: ["customers", "customer-id"],
  kind: "list",
  valueName: "id",
  help: "only these customers (tenant ids); repeated, or several after the flag (default every customer)",
};

const outFlag: FlagSpec = {
  name: "out",
  kind: "string",
  valueName: "file",
  help: "write the JSON lines to FILE (mode 0600) instead of stdout",
};

const concurrencyFlag: FlagSpec = {
  name: "concurrency",
  kind: "string",
  valueName: "n",
  help: "customers at once (check: default 16, 1 to 1000; consent: default 8, 1 to 50)",
};

/** The flags of `customers check`. */
export const checkFlags: FlagSpec[] = [
  customerFlag,
  {
    name: "scopes",
    aliases: ["scope"],
    kind: "list",
    valueName: "scope",
    help: "scopes of the token tried in each customer (default Graph's .default)",
  },
  {
    name: "grant",
    kind: "list",
    valueName: "resource=scope,…",
    help: "delegated scopes the app must hold in each customer (default: those it holds in the partner tenant)",
  },
  {
    name: "warn-days",
    kind: "string",
    valueName: "days",
    help: "a GDAP relationship ending within this many days without auto-extend is a warning (default 30)",
  },
  concurrencyFlag,
  {
    name: "output",
    short: "o",
    kind: "string",
    valueName: "json|table",
    help: "JSON lines as each customer completes (default), or a table at the end",
  },
  outFlag,
  ...common,
];

/** The flags of `customers consent`. */
export const consentFlags: FlagSpec[] = [
  customerFlag,
  {
    name: "from",
    kind: "string",
    valueName: "file",
    help: "the JSON lines of 'customers tokens' or 'customers check': consent where they failed for consent",
  },
  {
    name: "grant",
    kind: "list",
    valueName: "resource=scope,…",
    help: "what to consent: RESOURCE (an application id, or graph) = comma-separated scopes; repeated (default: the app's consent in the partner tenant, else graph=Directory.Read.All,User.Read)",
  },
  {
    name: "verify-scopes",
    kind: "list",
    valueName: "scope",
    help: "scopes of the token that proves each consent (default Graph's .default)",
  },
  concurrencyFlag,
  outFlag,
  ...common,
];

export const checkHelp = `customers check
  A diagnosis of the partner's access to each customer, one JSON object per customer:
    tenantId, domain, name, status (ok, warning, error), gdap (relationships: status, roles,
    groups, endDateTime, daysLeft, autoExtend), access (is the signed-in user in a group holding
    roles there, which), consent (the app's service principal, granted and missing scopes),
    token (a token attempt for --scopes), mfa (was the session's sign-in multi-factor), and
    problems [{code, severity, message, fix}]. Problem codes (docs/customers.md): not-admin-agent,
    gdap-no-active-relationship, gdap-relationship-expiring, gdap-user-not-in-group,
    gdap-missing-role, consent-missing, consent-scopes-missing, mfa-missing, token-failed,
    graph-failed. Reads Graph in the partner tenant (DelegatedAdminRelationship.Read.All) and
    in each customer's. Exit 0 all ok, 3 only warnings, 1 any error.`;

export const consentHelp = `customers consent
  Partner Center's application consent (POST /v1/customers/{id}/applicationconsents) for the
  session's app in each customer given (--customer), or each that failed for consent in --from
  FILE (AADSTS65001/700016 in 'customers tokens', consent-missing/consent-scopes-missing in
  'customers check'). "Permission entry already exists." counts as done; each customer is then
  proven by a freshly redeemed token there. One JSON line per customer:
    {"tenantId","status":"ok|error","action":"consented|already-consented|failed","verified",…}
  Needs AdminAgents and, through GDAP in the customer, Global Administrator, Privileged Role
  Administrator, Application Administrator or Cloud Application Administrator. Running it again
  changes nothing. Exit 0 all ok, 1 any failed.`;

function wholeNumber(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = getString(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw usageError(`--${name} takes a whole number from ${min} to ${max}, not '${text}'.`);
  return value;
}

function outOf(args: ParsedArgs): string | undefined {
  const out = getString(args, "out");
  if (out !== undefined && out.trim() === "") throw usageError("--out needs a file name.");
  if (out !== undefined && !existsSync(dirname(out)))
    throw usageError(`--out: no folder for '${out}'; create it first.`);
  return out;
}

async function grantsOf(args: ParsedArgs): Promise<ResourceGrant[] | undefined> {
  const given = getList(args, "grant");
  if (given === undefined) return undefined;
  const { parseGrant } = await import("../customers/consent.ts");
  try {
    return given.map(parseGrant);
  } catch (error) {
    throw usageError(`--grant: ${(error as Error).message}`);
  }
}

/** Graph's origin and token resource for the source's environment (the emulator's origin there). */
async function graphOf(partner: PartnerSource, ctx: CommandContext) {
  const { GraphClient } = await import("../graph/client.ts");
  return new GraphClient({
    source: partner.source,
    endpoint: partner.graphEndpoint,
    resource: partner.graphResource,
    ...(partner.caFile ? { caFile: partner.caFile } : {}),
    signal: ctx.signal,
    ...(ctx.clientOptions.debug ? { debug: ctx.clientOptions.debug } : {}),
    ...(ctx.clientOptions.timeoutMs !== undefined
      ? { timeoutMs: ctx.clientOptions.timeoutMs }
      : {}),
  });
}

/** Writes each JSON line to --out (compacted at the end) or stdout. */
async function lineWriter(out: string | undefined) {
  if (out === undefined)
    return {
      write: (line: string) =>
        new Promise<void>((resolve, reject) =>
          process.stdout.write(line + "\n", (e) => (e ? reject(e) : resolve())),
        ),
      close: async () => {},
    };
  const { ResultsFile } = await import("../customers/results-file.ts");
  const file = await ResultsFile.open(out, { resume: false });
  return { write: (line: string) => file.append(line), close: () => file.close() };
}

async function progressBar(label: string) {
  if (!process.stderr.isTTY) return undefined;
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {value} done | errors {errors}`,
      hideCursor: true,
      fps: 10,
    },
    progress.Presets.shades_classic,
  );
  return bar;
}

async function openSource(args: ParsedArgs, ctx: CommandContext): Promise<PartnerSource> {
  const [{ openPartnerSource }, { MemoryTokenCache }, { bulkClientOptions }] = await Promise.all([
    import("./partner-center-source.ts"),
    import("../session/memory-cache.ts"),
    import("../customers/customer-tokens.ts"),
  ]);
  return openPartnerSource(
    args,
    { ...bulkClientOptions, ...ctx.clientOptions },
    () => new MemoryTokenCache(),
  );
}

/** `customers check`. */
export async function check(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  const format = (getString(args, "output") ?? "json").toLowerCase();
  if (format !== "json" && format !== "table")
    throw usageError(`--output of customers check takes json or table, not '${format}'.`);
  const warnDays = wholeNumber(args, "warn-days", 0, 3650);
  const concurrency = wholeNumber(args, "concurrency", 1, 1000);
  const out = outOf(args);
  const given = getList(args, "customer");
  if (given !== undefined && given.length === 0) throw usageError("--customer named no customer.");
  const required = await grantsOf(args);
  const partner = await openSource(args, ctx);
  const lines = await lineWriter(format === "json" ? out : undefined);
  const bar = await progressBar("customers checked");
  try {
    const [{ checkCustomers }, { defaultGrants }, { LocalThrottle }] = await Promise.all([
      import("../customers/check.ts"),
      import("../customers/consent.ts"),
      import("../customers/throttle.ts"),
    ]);
    const graph = await graphOf(partner, ctx);
    if (!partner.applicationId)
      throw usageError("The session names no app; give --application-id.");
    const requiredGrants = required ?? (await defaultGrants(graph, partner.applicationId)).grants;
    let partnerCenter;
    if (!given) {
      const { partnerCenterClient } = await import("./partner-center-source.ts");
      partnerCenter = await partnerCenterClient(partner, {
        signal: ctx.signal,
        ...(ctx.clientOptions.debug ? { debug: ctx.clientOptions.debug } : {}),
        ...(ctx.clientOptions.timeoutMs !== undefined
          ? { timeoutMs: ctx.clientOptions.timeoutMs }
          : {}),
      });
    }
    const scopes = getList(args, "scopes");
    const counts = { ok: 0, warning: 0, error: 0 };
    const rows: CustomerCheck[] = [];
    const problems = new Map<string, { count: number; fix: string }>();
    bar?.start(0, 0, { errors: 0 });
    for await (const c of checkCustomers(partner.source, {
      graph,
      applicationId: partner.applicationId,
      requiredGrants,
      throttle: new LocalThrottle(),
      signal: ctx.signal,
      ...(given ? { customers: given } : { partnerCenter: partnerCenter! }),
      ...(scopes && scopes.length > 0 ? { scopes } : {}),
      ...(warnDays !== undefined ? { warnDays } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    })) {
      counts[c.status]++;
      for (const p of c.problems) {
        const seen = problems.get(p.code) ?? { count: 0, fix: p.fix };
        seen.count++;
        problems.set(p.code, seen);
      }
      if (format === "json") await lines.write(JSON.stringify(c));
      else rows.push(c);
      bar?.setTotal(counts.ok + counts.warning + counts.error);
      bar?.update(counts.ok + counts.warning + counts.error, { errors: counts.error });
    }
    bar?.stop();
    await lines.close();
    if (format === "table") {
      const { writeResult } = await import("./output.ts");
      await writeResult(
        rows.map((c) => ({
          tenantId: c.tenantId,
          domain: c.domain ?? "",
          name: c.name ?? "",
          status: c.status,
          problems: c.problems.map((p) => p.code).join(" "),
        })),
        "table",
        undefined,
      );
    }
    const summary = [
      `partner-token: ${counts.ok + counts.warning + counts.error} customers checked: ${counts.ok} ok, ${counts.warning} with warnings, ${counts.error} with errors.`,
    ];
    for (const [code, p] of problems) summary.push(`  ${p.count} × ${code}`);
    if (problems.size > 0)
      summary.push(
        "Each customer's problems carry their fix; docs/customers.md explains each code.",
      );
    say(summary.join("\n"));
    return counts.error > 0 ? ExitCode.error : counts.warning > 0 ? ExitCode.expiring : ExitCode.ok;
  } finally {
    bar?.stop();
    await lines.close().catch(() => undefined);
    await partner.close();
  }
}

/**
 * The customers of a `customers tokens` / `customers check` JSON lines file that failed for
 * consent: AADSTS65001 / AADSTS700016, or a consent-missing / consent-scopes-missing problem.
 */
export async function consentFailuresIn(path: string): Promise<CustomerRef[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw usageError(`--from: cannot read '${path}': ${(error as Error).message}.`);
  }
  const latest = new Map<string, Record<string, any>>();
  let n = 0;
  for (const line of text.split("\n")) {
    n++;
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw usageError(
        `--from: line ${n} of '${path}' is not JSON; give the JSON lines of 'customers tokens' or 'customers check'.`,
      );
    }
    const o = parsed as Record<string, any>;
    if (!o || typeof o.tenantId !== "string" || o.tenantId.trim() === "")
      throw usageError(`--from: line ${n} of '${path}' has no tenantId.`);
    latest.set(o.tenantId.trim().toLowerCase(), o);
  }
  const out: CustomerRef[] = [];
  for (const o of latest.values()) {
    const code = o.error?.code;
    const fromTokens = o.status === "error" && (code === "AADSTS65001" || code === "AADSTS700016");
    const fromCheck =
      Array.isArray(o.problems) &&
      o.problems.some(
        (p: { code?: unknown }) =>
          p?.code === "consent-missing" || p?.code === "consent-scopes-missing",
      );
    if (fromTokens || fromCheck)
      out.push({
        tenantId: o.tenantId.trim(),
        domain: typeof o.domain === "string" ? o.domain : null,
        name: typeof o.name === "string" ? o.name : null,
      });
  }
  return out;
}

/** `customers consent`. */
export async function consent(ctx: CommandContext): Promise<number> {
  const { args } = ctx;
  const given = getList(args, "customer");
  const from = getString(args, "from");
  if (given !== undefined && from !== undefined)
    throw usageError("Give --customer or --from, not both.");
  if (given === undefined && from === undefined)
    throw usageError(
      "Name the customers: --customer ID… or --from FILE (the JSON lines of 'customers tokens' or 'customers check').",
    );
  if (given !== undefined && given.length === 0) throw usageError("--customer named no customer.");
  const concurrency = wholeNumber(args, "concurrency", 1, 50);
  const out = outOf(args);
  const grants = await grantsOf(args);
  const customers: CustomerRef[] =
    given?.map((tenantId) => ({ tenantId })) ?? (await consentFailuresIn(from!));
  if (customers.length === 0) {
    say(`partner-token: no customer in ${from} failed for consent; nothing to do.`);
    return ExitCode.ok;
  }
  const partner = await openSource(args, ctx);
  const lines = await lineWriter(out);
  const bar = await progressBar("customers consented");
  try {
    if (!partner.applicationId)
      throw usageError("The session names no app; give --application-id.");
    const [{ consentCustomers, defaultGrants }, { partnerCenterClient }] = await Promise.all([
      import("../customers/consent.ts"),
      import("./partner-center-source.ts"),
    ]);
    const options = {
      signal: ctx.signal,
      ...(ctx.clientOptions.debug ? { debug: ctx.clientOptions.debug } : {}),
      ...(ctx.clientOptions.timeoutMs !== undefined
        ? { timeoutMs: ctx.clientOptions.timeoutMs }
        : {}),
    };
    let chosen = grants;
    if (!chosen) {
      const found = await defaultGrants(await graphOf(partner, ctx), partner.applicationId);
      chosen = found.grants;
      say(
        `partner-token: consenting ${chosen.map((g) => `${g.resourceAppId}=${g.scopes.join(",")}`).join(" ")} (${found.from === "partner-tenant" ? "the app's consent in the partner tenant" : "the default; --grant chooses"}).`,
      );
    }
    const verifyScopes = getList(args, "verify-scopes");
    const counts = { ok: 0, failed: 0, consented: 0, already: 0 };
    const failures = new Map<string, { count: number; fix: string }>();
    bar?.start(customers.length, 0, { errors: 0 });
    for await (const r of consentCustomers(partner.source, {
      partnerCenter: await partnerCenterClient(partner, options),
      applicationId: partner.applicationId,
      customers,
      grants: chosen,
      signal: ctx.signal,
      verifyScopes:
        verifyScopes && verifyScopes.length > 0
          ? verifyScopes
          : [`${partner.graphResource}/.default`],
      ...(concurrency !== undefined ? { concurrency } : {}),
    })) {
      await lines.write(JSON.stringify(r satisfies CustomerConsent));
      if (r.status === "ok") counts.ok++;
      else {
        counts.failed++;
        const f = failures.get(r.error!.code) ?? { count: 0, fix: r.error!.fix };
        f.count++;
        failures.set(r.error!.code, f);
      }
      if (r.action === "consented") counts.consented++;
      if (r.action === "already-consented") counts.already++;
      bar?.update(counts.ok + counts.failed, { errors: counts.failed });
    }
    bar?.stop();
    await lines.close();
    const summary = [
      `partner-token: ${customers.length} customers: ${counts.ok} ok (consent given now to ${counts.consented}, ${counts.already} already there), ${counts.failed} failed.`,
    ];
    for (const [code, f] of failures) summary.push(`  ${f.count} × ${code}: ${f.fix}`);
    say(summary.join("\n"));
    return counts.failed > 0 ? ExitCode.error : ExitCode.ok;
  } finally {
    bar?.stop();
    await lines.close().catch(() => undefined);
    await partner.close();
  }
}
