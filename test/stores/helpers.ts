/**
 * Shared by the store tests: a real Debian `redis-server` on a free port with its own folder
 * (nothing persisted), stopped after the tests; an emulator over HTTPS; the emulator's vault.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import {
  emuFlags,
  GRAPH,
  PARTNER_CENTER,
  runCli,
  verifyEmulatorToken,
  writeFetchBrowser,
  type CliResult,
  type Emulator,
} from "../cli/helpers.ts";

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningRedis {
  port: number;
  url: string;
  /** A client for the test's own checks. */
  client: Redis;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  restart(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start:\n${out}`)),
      10_000,
    );
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners("exit");
  return child;
}

/** Starts `redis-server` on a free port. */
export async function startRedis(): Promise<RunningRedis> {
  const dir = await mkdtemp(join(tmpdir(), "pt-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, dir);
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  await client.connect();
  const stopChild = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    child = undefined;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    stop: stopChild,
    async restart() {
      child = await launch(port, dir);
    },
    async close() {
      client.disconnect();
      await stopChild();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A random 32-byte key, base64, as `openssl rand -base64 32` makes. */
export const newKey = (): string => randomBytes(32).toString("base64");

/** Every key and value in Redis, as stored (hashes flattened), for "nothing in clear" checks. */
export async function dumpRedis(client: Redis): Promise<string[]> {
  const out: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      out.push(key);
      const type = await client.type(key);
      if (type === "string") out.push((await client.get(key)) ?? "");
      else if (type === "hash") out.push(...Object.entries(await client.hgetall(key)).flat());
      else out.push(`<${type}>`);
    }
  } while (cursor !== "0");
  return out;
}

/** A call to the emulator's control API (`/_emulator/…`), trusting its CA. */
export function control(
  emu: Emulator,
  path: string,
  body?: unknown,
  method = body === undefined ? "GET" : "POST",
): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${emu.info.url}/_emulator/${path}`,
      {
        method,
        ca: emu.info.caFile ? readFileSync(emu.info.caFile, "utf8") : undefined,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 300)
            return reject(new Error(`control ${path}: ${res.statusCode} ${text}`));
          resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Refresh-token grants the emulator has answered (its request log). */
export async function refreshRequests(emu: Emulator): Promise<number> {
  const log = await control(emu, "requests");
  const entries: Array<{ note?: Record<string, string> }> = Array.isArray(log)
    ? log
    : (log.requests ?? []);
  return entries.filter((e) => e.note?.["grant_type"] === "refresh_token").length;
}

/** The environment of a CLI child: its own cache folder and key folder, no keyring probing. */
export async function cliEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), "pt-store-cli-"));
  return {
    PARTNER_TOKEN_CACHE_DIR: join(dir, "cache"),
    PARTNER_TOKEN_KEY_DIR: join(dir, "keys"),
    PARTNER_TOKEN_KEYRING: "off",
    APP_SECRET: "",
    ...extra,
  };
}

/**
 * Puts a live refresh token in the store `uri`: an App + User sign-in of the emulator's
 * confidential app through the command line (`new --service-principal --use-authorization-code
 * --refresh-token-store URI`, the browser a script that follows the sign-in). Resolves to the
 * command's result; `extra` adds flags (an encryption key), `env` variables (to `cliEnv`'s).
 */
export async function seedStore(
  emu: Emulator,
  uri: string,
  options: { scopes?: string; extra?: string[]; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const { clientId, clientSecret } = emu.info.apps.confidential;
  return runCli(
    [
      "new",
      "--service-principal",
      "--use-authorization-code",
      "--application-id",
      clientId,
      "--credential",
      "env:APP_SECRET",
      "--tenant",
      emu.info.partnerTenant.id,
      "--scopes",
      options.scopes ?? PARTNER_CENTER,
      "--refresh-token-store",
      uri,
      ...(options.extra ?? []),
      ...emuFlags(emu),
    ],
    {
      env: {
        ...(await cliEnv({ APP_SECRET: clientSecret })),
        ...options.env,
        BROWSER: await writeFetchBrowser(emu.info.caFile),
      },
    },
  );
}

/**
 * The proof every store gives, through the real command line:
 * 1. an App + User sign-in (`new --use-authorization-code --refresh-token-store URI`) writes the
 *    refresh token it returns;
 * 2. `token --refresh-token-store URI` in a customer tenant, with no session, rotates it: the stored
 *    value changes;
 * 3. once the refresh token is revoked, `token` exits 4 and the store holds what it held.
 *
 * `read` reads the store from outside (the test's own client); `extra` adds flags (an encryption
 * key), `env` variables (Key Vault's credential).
 */
export async function proveStore(
  emu: Emulator,
  uri: string,
  read: () => Promise<string | null>,
  options: { extra?: string[]; env?: Record<string, string> } = {},
): Promise<void> {
  const { clientId, clientSecret } = emu.info.apps.confidential;
  const env = await cliEnv({ ...options.env, APP_SECRET: clientSecret });
  const extra = options.extra ?? [];

  const signIn = await seedStore(emu, uri, {
    extra,
    ...(options.env ? { env: options.env } : {}),
  });
  assert.equal(signIn.code, 0, signIn.stderr);
  const first = signIn.json.refreshToken as string;
  assert.ok(first, "the sign-in returned a refresh token");
  assert.equal(await read(), first, "the sign-in wrote its refresh token to the store");

  const customer = emu.info.customers[0]!;
  const tokenArgs = [
    "token",
    "--refresh-token-store",
    uri,
    "--application-id",
    clientId,
    "--credential",
    "env:APP_SECRET",
    "--tenant",
    customer.domain,
    "--scopes",
    GRAPH,
    ...extra,
    ...emuFlags(emu),
  ];
  const rotated = await runCli(tokenArgs, { env });
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.equal(rotated.json.refreshToken, null, "token never prints the refresh token");
  await verifyEmulatorToken(emu, rotated.json.accessToken, {
    audience: "https://graph.microsoft.com",
    tenantId: customer.id,
  });
  const second = await read();
  assert.ok(second && second !== first, "the rotated refresh token replaced the first one");

  await control(emu, "revoke", { all: true });
  const refused = await runCli([...tokenArgs, "--force-refresh"], { env });
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(refused.stderr, /invalid_grant|AADSTS50173/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
  assert.equal(await read(), second, "a refused refresh leaves the store untouched");
}
