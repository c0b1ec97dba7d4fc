/**
 * `partner-token customers list|tokens` and `partner-token partner-center token` as separate
 * processes, over a session made with `connect`: the proof of the issue end to end (200
 * customers, 20 without access or consent, a throttled token endpoint), `--resume` asking
 * nothing again for the tenants already ok, stdout carrying only JSON lines, the progress bar
 * only on a terminal (run under a pseudo-terminal), usage errors.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunningEmulator } from "../../src/emulator/index.ts";
import { MAIN, runCli, tempDir } from "../cli/helpers.ts";
import { connectDevice, sessionEnv, type SessionEnv } from "../session/helpers.ts";
import { startRedis } from "../stores/helpers.ts";
import {
  AZURE_CLI_APP,
  GRAPH,
  PARTNER,
  partnerRefreshToken,
  startScaleEmulator,
  tidOf,
} from "./helpers.ts";

let emu: RunningEmulator;
let env: SessionEnv;
let customers: string[];

before(async () => {
  emu = await startScaleEmulator({
    count: 200,
    withoutAccess: 10,
    withoutConsent: 10,
    // Low enough that even a busy machine goes faster than this: the throttle must be met.
    tokenRequestsPerSecond: 15,
    relationships: [],
    autoApprove: true,
  });
  env = await sessionEnv();
  await connectDevice(emu, env);
  customers = emu.info.customers.map((c) => c.id);
});
after(() => emu.close());

const lines = (text: string) => text.split("\n").filter((l) => l !== "");
const tokenGrantsAt = (tenants: Iterable<string>) => {
  const wanted = new Set(tenants);
  return emu
    .requests()
    .filter((e) => e.note["grant_type"] === "refresh_token" && wanted.has(e.path.split("/")[1]!));
};

test("customers list: every customer through every page, as JSON and TSV", async () => {
  const json = await runCli(["customers", "list"], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.json.length, 200);
  assert.deepEqual(
    new Set(json.json.map((c: { tenantId: string }) => c.tenantId)),
    new Set(customers),
  );
  assert.ok(json.json.every((c: Record<string, unknown>) => c.domain && c.name));
  const tsv = await runCli(["customers", "list", "-o", "tsv"], { env });
  assert.equal(lines(tsv.stdout).length, 200);
  assert.match(
    lines(tsv.stdout)[0]!,
    /^[0-9a-f-]{36}\tcustomer\d{5}\.onmicrosoft\.com\tCustomer \d+\treseller$/,
  );
  // --stream: the same customers, one JSON line each (what the PowerShell module reads as pages arrive).
  const stream = await runCli(["customers", "list", "--stream"], { env });
  assert.equal(stream.code, 0, stream.stderr);
  assert.deepEqual(
    lines(stream.stdout).map((l) => JSON.parse(l)),
    json.json,
  );
  const both = await runCli(["customers", "list", "--stream", "-o", "json"], { env });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--stream writes JSON lines/);
});

test("customers tokens --out: one line per customer, 180 tokens, 20 explained errors, exit 1; --resume asks nothing again for the 180", async () => {
  const out = join(await tempDir("pt-out-"), "tokens.jsonl");
  const first = await runCli(["customers", "tokens", "--scopes", GRAPH, "--out", out], {
    env,
    timeoutMs: 110_000,
  });
  assert.equal(first.code, 1, first.stderr);
  assert.equal(first.stdout, "", "nothing on stdout with --out");
  assert.match(first.stderr, /200 customers: 180 ok, 20 failed; \d+ throttled answers absorbed/);
  assert.match(first.stderr, /10 × AADSTS50020: .*Re-establish GDAP access/);
  assert.match(first.stderr, /10 × AADSTS65001: .*not consented/);
  assert.doesNotMatch(first.stderr, /ETA/, "no progress bar when stderr is not a terminal");
  assert.equal((await stat(out)).mode & 0o777, 0o600);

  const read = async () => lines(await readFile(out, "utf8")).map((l) => JSON.parse(l));
  const results = await read();
  assert.equal(results.length, 200);
  assert.deepEqual(new Set(results.map((r) => r.tenantId)), new Set(customers));
  const ok = results.filter((r) => r.status === "ok");
  assert.equal(ok.length, 180);
  for (const r of ok) assert.equal(tidOf(r.accessToken), r.tenantId);
  const failed = results.filter((r) => r.status === "error");
  assert.deepEqual(failed.map((r) => r.error.code).sort(), [
    ...Array(10).fill("AADSTS50020"),
    ...Array(10).fill("AADSTS65001"),
  ]);
  assert.ok(failed.every((r) => typeof r.error.message === "string" && r.error.hint.length > 40));
  assert.ok(
    emu.requests().some((e) => e.status === 429),
    "the throttle was met on the way",
  );

  emu.clearRequests();
  const second = await runCli(
    ["customers", "tokens", "--scopes", GRAPH, "--out", out, "--resume"],
    { env, timeoutMs: 110_000 },
  );
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, /200 customers: 0 ok, 20 failed, 180 already ok \(skipped\)/);
  assert.equal(
    tokenGrantsAt(ok.map((r) => r.tenantId)).length,
    0,
    "nothing asked again for the 180",
  );
  assert.ok(tokenGrantsAt(failed.map((r) => r.tenantId)).length >= 20, "the 20 were tried again");
  const after = await read();
  assert.equal(after.length, 200, "still exactly one line per customer");
  assert.deepEqual(
    after
      .filter((r) => r.status === "ok")
      .map((r) => r.accessToken)
      .sort(),
    ok.map((r) => r.accessToken).sort(),
  );
});

test("customers tokens to stdout: only JSON lines, a customer named twice asked once", async () => {
  const [a, b] = customers.filter((id, i) => i < 40).slice(0, 2) as [string, string];
  const r = await runCli(["customers", "tokens", "--scopes", GRAPH, "--customer", a, b, a], {
    env,
  });
  const out = lines(r.stdout).map((l) => JSON.parse(l));
  assert.equal(out.length, 2);
  assert.deepEqual(new Set(out.map((o) => o.tenantId)), new Set([a, b]));
  assert.equal(r.code, out.every((o) => o.status === "ok") ? 0 : 1);
});

test("customers tokens | head -1: a reader that goes away ends the job quietly (exit 141, no crash)", async () => {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_)/.test(k)) childEnv[k] = v;
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, [MAIN, "customers", "tokens", "--scopes", GRAPH], {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  let first = "";
  await new Promise<void>((resolve) =>
    child.stdout.setEncoding("utf8").on("data", function onData(d: string) {
      first += d;
      if (!first.includes("\n")) return;
      child.stdout.off("data", onData);
      child.stdout.destroy(); // as `head -1` does after its line
      resolve();
    }),
  );
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.ok(JSON.parse(first.split("\n")[0]!).tenantId, "a JSON line came first");
  assert.equal(code, 141, stderr);
  assert.doesNotMatch(stderr, /unexpected error|EPIPE|at .*\.ts:/);
});

/**
 * Runs the CLI with stderr on a pseudo-terminal (python3's pty module) and stdout on a pipe.
 */
function runOnTerminal(args: string[]): Promise<{ code: number; stdout: string; tty: string }> {
  const script = `
import json, os, pty, subprocess, sys, threading
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
os.close(slave)
chunks = []
def read():
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
reader = threading.Thread(target=read)
reader.start()
out = p.stdout.read()
p.wait()
reader.join(10)
print(json.dumps({"code": p.returncode, "stdout": out.decode(), "tty": b"".join(chunks).decode("utf-8", "replace")}))
`;
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_)/.test(k)) childEnv[k] = v;
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-c", script, process.execPath, MAIN, ...args], {
      env: childEnv,
    });
    let text = "";
    let errors = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (text += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (errors += d));
    child.on("error", reject);
    child.on("close", () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error(`the pty runner failed: ${errors}`));
      }
    });
  });
}

test("on a terminal: a progress bar on stderr (done/total, rate, ETA, errors); stdout still only JSON lines", async () => {
  const file = join(await tempDir("pt-list-"), "customers.txt");
  await writeFile(file, `# twenty customers\n${customers.slice(0, 20).join("\n")}\n`);
  const r = await runOnTerminal([
    "customers",
    "tokens",
    "--scopes",
    GRAPH,
    "--customers-file",
    file,
  ]);
  assert.ok([0, 1].includes(r.code), r.tty);
  const out = lines(r.stdout);
  assert.equal(out.length, 20);
  assert.ok(
    out.every((l) => JSON.parse(l).tenantId),
    "every stdout line is a result",
  );
  assert.match(r.tty, /customers .* 20\/20 \| \d+\/s \| ETA \S+ \| errors \d+/);
  assert.match(r.tty, /20 customers: \d+ ok/);
  assert.doesNotMatch(r.tty, /"accessToken"/, "no token on the terminal");
});

test("partner-center token: the Partner Center token as JSON; a refusal shows code, description and correlation id", async () => {
  const r = await runCli(["partner-center", "token"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(tidOf(r.json.accessToken), PARTNER);
  assert.ok(Date.parse(r.json.expiresOn) > Date.now());
  assert.match(r.json.correlationId, /^[0-9a-f-]{36}$/);

  emu.injectFault({ path: "/generatetoken", status: 403, count: 1 });
  const refused = await runCli(["partner-center", "token"], { env });
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.stderr, /Partner Center refused \/generatetoken \(HTTP 403, code 900403\)/);
  assert.match(refused.stderr, /correlation id: [0-9a-f-]{36}/);
  assert.match(refused.stderr, /Admin agent/);
});

test("--cache redis://…: two processes at once share the throttle state through Redis, and each finishes its customers", async () => {
  const redis = await startRedis();
  try {
    const dir = await tempDir("pt-halves-");
    const halves = [customers.slice(0, 30), customers.slice(30, 60)];
    const files = await Promise.all(
      halves.map(async (half, i) => {
        const file = join(dir, `half-${i}.txt`);
        await writeFile(file, half.join("\n"));
        return file;
      }),
    );
    emu.clearRequests();
    // Every worker of a fleet gives the same key (the access tokens in Redis are sealed with it).
    const key = randomBytes(32).toString("base64");
    const runs = await Promise.all(
      files.map((file) =>
        runCli(
          [
            "customers",
            "tokens",
            "--scopes",
            GRAPH,
            "--customers-file",
            file,
            "--cache",
            redis.url,
            "--force-refresh",
          ],
          {
            env: { ...env, PARTNER_TOKEN_ENCRYPTION_KEY: key },
            timeoutMs: 110_000,
          },
        ),
      ),
    );
    const results = runs.flatMap((r) => lines(r.stdout).map((l) => JSON.parse(l)));
    assert.equal(results.length, 60, runs.map((r) => r.stderr).join("\n"));
    assert.deepEqual(new Set(results.map((r) => r.tenantId)), new Set(customers.slice(0, 60)));
    for (const r of results)
      if (r.status === "ok") assert.equal(tidOf(r.accessToken), r.tenantId);
      else assert.match(r.error.code, /^AADSTS(50020|65001)$/);
    const state = await redis.client.hgetall(`partner-token:throttle:{${AZURE_CLI_APP}}:state`);
    const throttled = emu.requests().filter((e) => e.status === 429).length;
    if (throttled > 0) {
      assert.ok(Number(state.limit) >= 1 && Number(state.limit) <= 20, JSON.stringify(state));
    }
    assert.equal(
      await redis.client.exists(`partner-token:throttle:{${AZURE_CLI_APP}}:accepted`),
      1,
      "the accepted requests are kept in Redis",
    );
  } finally {
    await redis.close();
  }
});

test("Ctrl-C: exit 130, and --out FILE keeps the tenants done so far, one line each", async () => {
  const out = join(await tempDir("pt-cancel-"), "tokens.jsonl");
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AZURE_|PARTNER_TOKEN_)/.test(k)) childEnv[k] = v;
  Object.assign(childEnv, env);
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "customers",
      "tokens",
      "--scopes",
      GRAPH,
      "--out",
      out,
      "--force-refresh",
      "--concurrency",
      "4",
    ],
    { env: childEnv, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // Interrupt once some tenants are done (the file has lines), long before all 200 are.
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const text = await readFile(out, "utf8").catch(() => "");
    if (lines(text).length >= 5) break;
  }
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("close", r));
  assert.equal(code, 130, stderr);
  const kept = lines(await readFile(out, "utf8")).map((l) => JSON.parse(l));
  assert.ok(kept.length >= 5 && kept.length < 200, `${kept.length} lines`);
  assert.equal(new Set(kept.map((r) => r.tenantId)).size, kept.length, "one line per tenant");
  assert.equal((await stat(out)).mode & 0o777, 0o600);
});

test("without a session: --refresh-token-store with the app and the environment's flags", async () => {
  const store = join(await tempDir("pt-store-"), "refresh-token");
  await writeFile(store, (await partnerRefreshToken(emu)) + "\n", { mode: 0o600 });
  const flags = [
    "--refresh-token-store",
    `file:${store}`,
    "--application-id",
    AZURE_CLI_APP,
    "--authority-host",
    emu.url,
    "--ca-file",
    emu.caFile!,
  ];
  const noSession = await sessionEnv();
  const pc = await runCli(["partner-center", "token", ...flags], { env: noSession });
  assert.equal(pc.code, 0, pc.stderr);
  assert.equal(tidOf(pc.json.accessToken), PARTNER);
  const r = await runCli(
    ["customers", "tokens", "--scopes", GRAPH, "--customer", customers[0]!, ...flags],
    { env: noSession },
  );
  const [line] = lines(r.stdout).map((l) => JSON.parse(l));
  assert.equal(line.tenantId, customers[0]);
  assert.ok(
    line.status === "ok"
      ? tidOf(line.accessToken) === customers[0]
      : /^AADSTS/.test(line.error.code),
  );
});

test("usage errors: exit 2 with what is wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["customers", "tokens", "--scopes", GRAPH, "--resume"], /--resume needs --out FILE/],
    [["customers", "tokens"], /--scopes is required/],
    [
      ["customers", "tokens", "--scopes", GRAPH, "--concurrency", "0"],
      /--concurrency takes a whole number from 1 to 1000/,
    ],
    [["customers", "frobnicate"], /unknown customers command 'frobnicate'/],
    [
      ["customers", "tokens", "--scopes", GRAPH, "--out", "/nonexistent-folder/tokens.jsonl"],
      /--out: no folder for '\/nonexistent-folder\/tokens.jsonl'/,
    ],
    [["partner-center", "exchange"], /the command is 'partner-center token'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
