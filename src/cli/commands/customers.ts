/**
 * `partner-token customers list` (every customer, through every page of Partner Center's
 * `/v1/customers`) and `partner-token customers tokens` (a token in every customer's tenant:
 * concurrent, throttle-aware, resumable; JSON Lines on stdout or in `--out FILE`).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CustomerRef } from "../../customers/customer-tokens.ts";
import type { Throttle } from "../../customers/throttle.ts";
import {
  formatFlags,
  getBoolean,
  getList,
  getSetting,
  getString,
  type FlagSpec,
  type ParsedArgs,
} from "../args.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandGroup,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { say } from "../redact.ts";
import {
  forceRefreshFlag,
  minValidityFlag,
  noCaeFlag,
  profileFlags,
  warnDaysFlag,
} from "../session-flags.ts";
import { scopesFlag, withHelp } from "../sign-in-flags.ts";
import { storeSourceFlags } from "../store-flags.ts";
import { usageError } from "../usage-error.ts";
import * as access from "../customers-access.ts";

const listFlags: FlagSpec[] = [
  ...profileFlags,
  ...storeSourceFlags,
  ...outputFlags,
  {
    name: "stream",
    kind: "boolean",
    help: "one JSON line per customer, written as each page arrives (instead of one JSON array at the end)",
  },
  debugFlag,
  timeoutFlag,
  helpFlag,
];

/** The flags of `customers tokens` (a superset of `customers list`'s but for -o/--query), for completion. */
export const flags: FlagSpec[] = [
  withHelp(
    scopesFlag,
    "scopes of each customer's token, e.g. https://graph.microsoft.com/.default (required)",
  ),
  {
    name: "customer",
    aliases: ["customers", "customer-id"],
    kind: "list",
    valueName: "id|domain",
    help: "only these customers (tenant ids or domains); repeated, or several after the flag",
  },
  {
    name: "customers-file",
    kind: "string",
    valueName: "file",
    help: "only the customers in FILE: one tenant id or domain per line (first column), or the JSON of 'customers list'",
  },
  {
    name: "concurrency",
    kind: "string",
    valueName: "n",
    help: "tenants in flight at once (default 64, 1 to 1000)",
  },
  {
    name: "out",
    kind: "string",
    valueName: "file",
    help: "write the JSON lines to FILE (mode 0600) instead of stdout",
  },
  {
    name: "resume",
    kind: "boolean",
    help: "with --out: skip the tenants already 'ok' in FILE, try the others again",
  },
  minValidityFlag,
  forceRefreshFlag,
  noCaeFlag,
  warnDaysFlag,
  ...profileFlags,
  ...storeSourceFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
];

const usage = `Usage: partner-token customers list [-o json|table|tsv] [--profile P]
       partner-token customers tokens --scopes S… [--customer ID…] [--customers-file FILE]
                                      [--concurrency N] [--out FILE [--resume]] [--profile P]
       partner-token customers check [--customer ID…] [--scopes S] [--warn-days N] [-o json|table] [--out FILE]
       partner-token customers consent [--customer ID… | --from FILE] [--grant RESOURCE=SCOPE,…] [--out FILE]`;

const help =
  (): string => `partner-token customers — the partner's customers, and a token in each one's tenant

Examples:
  partner-token customers list -o table
  partner-token customers tokens --scopes https://graph.microsoft.com/.default --out tokens.jsonl
  partner-token customers tokens --scopes https://graph.microsoft.com/.default --out tokens.jsonl --resume
  partner-token customers tokens --scopes https://outlook.office365.com/.default --customer $TENANT_A $TENANT_B
  partner-token customers check --out check.jsonl
  partner-token customers consent --from check.jsonl

${usage}

customers list
  Every customer, through every page of Partner Center's GET /v1/customers (continuation
  token), as JSON (an array of {tenantId, domain, name, relationship}), a table or TSV.

customers tokens
  A token for --scopes in every customer's tenant (or the ones given), from the session. One JSON
  line per customer, as each completes:
    {"tenantId":"…","status":"ok","accessToken":"…","expiresOn":"…","domain":"…","name":"…"}
    {"tenantId":"…","status":"error","error":{"code":"AADSTS50020","message":"…","hint":"…"},…}
  The hint says what the partner must do: re-establish GDAP access (AADSTS50020), consent the app
  in that tenant (AADSTS65001, AADSTS700016), satisfy the customer's MFA or Conditional Access
  (AADSTS50076, 53003), …
  Tenants are done --concurrency at a time; a 429 from Entra ID slows every worker down (with
  --cache redis://…, every process sharing that Redis), the throttled tenant is retried after
  Retry-After, transient failures (5xx, network) a few times with backoff. A failed tenant is
  recorded and the run goes on; a failure no tenant can get past (the session's refresh token
  expired or revoked, a wrong client secret) stops it.
  --out FILE is written as results arrive and ends with exactly one line per customer; with
  --resume the tenants already "ok" in it are skipped and the others tried again.
  On a terminal, a progress bar on stderr (done/total, rate, ETA, errors); at the end a summary on
  stderr. stdout carries nothing but the JSON lines.

Options of customers tokens:
${formatFlags(flags)}

${access.checkHelp}

Options of customers check:
${formatFlags(access.checkFlags)}

${access.consentHelp}

Options of customers consent:
${formatFlags(access.consentFlags)}

Exit codes: 0 every tenant ok, 1 at least one tenant failed (see the lines with "status":"error";
run again with --resume) or another error, 2 usage, 4 sign-in needed (no session, refresh token
expired or revoked), 130 cancelled (the lines so far are kept in --out FILE).
`;

export const spec: CommandGroup["spec"] = {
  flags: [helpFlag],
  usage,
  help,
  unknown: (name) =>
    `unknown customers command '${name}': use 'customers list', 'tokens', 'check' or 'consent'.`,
  subcommands: {
    list: { spec: { flags: listFlags, usage, help }, body: list },
    tokens: { spec: { flags, usage, help, output: false }, body: tokens },
    check: { spec: { flags: access.checkFlags, usage, help, output: false }, body: access.check },
    consent: {
      spec: { flags: access.consentFlags, usage, help, output: false },
      body: access.consent,
    },
  },
};

async function list({ args, format, query, clientOptions }: CommandContext): Promise<number> {
  const stream = getBoolean(args, "stream");
  if (stream && (query !== undefined || getString(args, "output") !== undefined))
    throw usageError("--stream writes JSON lines: it takes neither --output nor --query.");
  const { withPartnerCenter } = await import("../partner-center-source.ts");
  await withPartnerCenter(args, clientOptions, async (client) => {
    const { listCustomers } = await import("../../partner-center/customers.ts");
    if (stream) {
      for await (const customer of listCustomers(client))
        await writeStdout(JSON.stringify(customer) + "\n");
      return;
    }
    const customers = [];
    for await (const customer of listCustomers(client)) customers.push(customer);
    await writeResult(customers, format, query);
  });
  return ExitCode.ok;
}

function wholeNumber(args: ParsedArgs, name: string, min: number, max: number): number | undefined {
  const text = getString(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max)
    throw usageError(`--${name} takes a whole number from ${min} to ${max}, not '${text}'.`);
  return value;
}

/** `--customers-file`: the JSON of `customers list`, or one id per line (first column; # comments). */
async function customersFromFile(path: string): Promise<CustomerRef[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw usageError(`--customers-file: cannot read '${path}': ${(error as Error).message}.`);
  }
  if (text.trimStart().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw usageError(
        `--customers-file: '${path}' starts like JSON but is not: ${(error as Error).message}.`,
      );
    }
    return (parsed as unknown[]).map((c, i) => {
      const ref = typeof c === "string" ? { tenantId: c } : (c as CustomerRef);
      if (!ref || typeof ref.tenantId !== "string" || ref.tenantId.trim() === "")
        throw usageError(`--customers-file: entry ${i} of '${path}' has no tenantId.`);
      return ref;
    });
  }
  return text
    .split(/\r?\n/)
    .map(
      (line) =>
        line
          .replace(/#.*$/, "")
          .trim()
          .split(/[\s,]+/)[0] ?? "",
    )
    .filter((id) => id !== "" && id.toLowerCase() !== "tenantid")
    .map((tenantId) => ({ tenantId }));
}

async function tokens({ args, signal, clientOptions }: CommandContext): Promise<number> {
  const scopes = getList(args, "scopes");
  if (!scopes || scopes.length === 0)
    throw usageError(
      "--scopes is required: the scopes of each customer's token, e.g. https://graph.microsoft.com/.default.",
    );
  const concurrency = wholeNumber(args, "concurrency", 1, 1000);
  const minValidity = wholeNumber(args, "min-validity", 0, 86_400);
  const out = getString(args, "out");
  const resume = getBoolean(args, "resume");
  if (resume && out === undefined)
    throw usageError("--resume needs --out FILE: the file of the run to resume.");
  if (out !== undefined && out.trim() === "") throw usageError("--out needs a file name.");
  if (out !== undefined && !existsSync(dirname(out)))
    throw usageError(`--out: no folder for '${out}'; create it first.`);
  const given: CustomerRef[] = [
    ...(getList(args, "customer") ?? []).map((tenantId) => ({ tenantId })),
    ...(getString(args, "customers-file") !== undefined
      ? await customersFromFile(getString(args, "customers-file")!)
      : []),
  ];
  if (
    given.length === 0 &&
    (getList(args, "customer") !== undefined || getString(args, "customers-file") !== undefined)
  )
    throw usageError("--customer / --customers-file named no customer.");

  const debugLine = clientOptions.debug;
  const [{ openPartnerSource, partnerCenterClient }, { MemoryTokenCache }, job, { LocalThrottle }] =
    await Promise.all([
      import("../partner-center-source.ts"),
      import("../../session/memory-cache.ts"),
      import("../../customers/customer-tokens.ts"),
      import("../../customers/throttle.ts"),
    ]);
  const partner = await openPartnerSource(
    args,
    { ...job.bulkClientOptions, signal, ...(debugLine ? { debug: debugLine } : {}) },
    () => new MemoryTokenCache(),
  );
  let throttle: Throttle | undefined;
  let file: import("../../customers/results-file.ts").ResultsFile | undefined;
  let bar: import("cli-progress").SingleBar | undefined;
  try {
    let customers: CustomerRef[] = given;
    if (customers.length === 0) {
      const client = await partnerCenterClient(partner, {
        signal,
        ...(debugLine ? { debug: debugLine } : {}),
      });
      const { listCustomers } = await import("../../partner-center/customers.ts");
      for await (const c of listCustomers(client)) customers.push(c);
    }
    // The same customer named twice is asked once, and has one line.
    const unique = new Map<string, CustomerRef>();
    for (const c of customers) unique.set(c.tenantId.trim().toLowerCase(), c);
    customers = [...unique.values()];

    let skipped = 0;
    if (out !== undefined) {
      const results = await import("../../customers/results-file.ts");
      if (resume) {
        const done = results.okTenants(await results.readResults(out));
        const before = customers.length;
        customers = customers.filter((c) => !done.has(c.tenantId.trim().toLowerCase()));
        skipped = before - customers.length;
      }
      file = await results.ResultsFile.open(out, { resume });
    }

    const cacheUri = getSetting(args, "cache");
    if (cacheUri !== undefined) {
      const { RedisThrottle } = await import("../../customers/redis-throttle.ts");
      throttle = await RedisThrottle.open(cacheUri, {
        app: partner.applicationId || "unknown-app",
      });
    } else throttle = new LocalThrottle();

    const total = customers.length;
    const counts = { ok: 0, failed: 0, throttled: 0 };
    const failures = new Map<string, { count: number; hint: string }>();
    const started = performance.now();
    if (process.stderr.isTTY && total > 0) {
      const { default: progress } = await import("cli-progress");
      bar = new progress.SingleBar(
        {
          stream: process.stderr,
          format:
            "customers {bar} {value}/{total} | {rate}/s | ETA {eta_formatted} | errors {errors}",
          hideCursor: true,
          etaBuffer: 100,
          fps: 10,
        },
        progress.Presets.shades_classic,
      );
      bar.start(total, 0, { rate: "0", errors: 0 });
    }
    const write = file
      ? (line: string) => file!.append(line)
      : (line: string) => writeStdout(line + "\n");

    for await (const result of job.customerTokens(partner.source, {
      scopes,
      customers,
      signal,
      throttle,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(minValidity !== undefined ? { minValidity } : {}),
      ...(getBoolean(args, "force-refresh") ? { forceRefresh: true } : {}),
      onThrottled: () => counts.throttled++,
    })) {
      await write(JSON.stringify(result));
      if (result.status === "ok") counts.ok++;
      else {
        counts.failed++;
        const f = failures.get(result.error.code) ?? { count: 0, hint: result.error.hint };
        f.count++;
        failures.set(result.error.code, f);
      }
      const done = counts.ok + counts.failed;
      const seconds = (performance.now() - started) / 1000;
      bar?.update(done, {
        rate: (done / Math.max(seconds, 0.001)).toFixed(0),
        errors: counts.failed,
      });
    }
    bar?.stop();
    bar = undefined;
    await file?.close();
    file = undefined;

    const seconds = (performance.now() - started) / 1000;
    const lines = [
      `partner-token: ${total + skipped} customers: ${counts.ok} ok, ${counts.failed} failed` +
        `${skipped ? `, ${skipped} already ok (skipped)` : ""}; ` +
        `${counts.throttled} throttled answers absorbed; ${seconds.toFixed(1)} s` +
        `${total > 0 ? `, ${((counts.ok + counts.failed) / Math.max(seconds, 0.001)).toFixed(0)} tenants/s` : ""}.`,
    ];
    for (const [code, f] of failures) lines.push(`  ${f.count} × ${code}: ${f.hint}`);
    if (counts.failed > 0)
      lines.push(
        out !== undefined
          ? `The failed tenants are the lines with "status":"error" in ${out}; fix them, then run again with --resume to try only those.`
          : `The failed tenants are the lines with "status":"error"; with --out FILE, --resume tries only those again.`,
      );
    say(lines.join("\n"));
    return counts.failed > 0 ? ExitCode.error : ExitCode.ok;
  } finally {
    bar?.stop();
    // Stopped early (cancelled, a session-wide failure): keep what was done, one line per tenant.
    await file?.close().catch(() => undefined);
    await throttle?.close?.().catch(() => undefined);
    await partner.close();
  }
}

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
