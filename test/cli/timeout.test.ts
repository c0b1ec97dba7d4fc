/**
 * `--timeout SECONDS` (or PARTNER_TOKEN_TIMEOUT): the deadline of one operation, all attempts
 * together, against a server that takes the request and never answers. The bound asserted is the
 * configured deadline plus a wide margin for a busy machine, far below the 60 s default.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runCli } from "./helpers.ts";

describe("--timeout", () => {
  let server: Server;
  let url: string;
  let requests = 0;
  before(async () => {
    server = createServer((req) => {
      requests++;
      req.resume(); // takes the request, never answers
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const signIn = (): string[] => [
    "new",
    "--service-principal",
    "--application-id",
    "11111111-1111-1111-1111-111111111111",
    "--credential",
    "env:CLIENT_SECRET",
    "--tenant",
    "contoso.onmicrosoft.com",
    "--authority-host",
    url,
    "--scopes",
    "https://graph.microsoft.com/.default",
  ];

  test("a silent server: ERR_TIMEOUT naming the deadline and the flag, exit 1", async () => {
    const before = requests;
    const started = Date.now();
    const r = await runCli([...signIn(), "--timeout", "2"], {
      env: { CLIENT_SECRET: "timeout-test-secret-0123456789" },
      timeoutMs: 50_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /deadline of 2 s/);
    assert.match(r.stderr, /\[ERR_TIMEOUT\]/);
    assert.match(r.stderr, /--timeout or PARTNER_TOKEN_TIMEOUT/);
    assert.doesNotMatch(r.stderr, /timeout-test-secret/);
    assert.ok(Date.now() - started < 40_000, "ended long before the 60 s default");
    assert.ok(requests > before, "the request reached the server");
  });

  test("PARTNER_TOKEN_TIMEOUT sets it too", async () => {
    const r = await runCli(signIn(), {
      env: { CLIENT_SECRET: "timeout-test-secret-0123456789", PARTNER_TOKEN_TIMEOUT: "1.5" },
      timeoutMs: 50_000,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /deadline of 1\.5 s/);
  });

  test("a value that is not a number of seconds: exit 2 naming the flag or variable", async () => {
    for (const [args, env, name] of [
      [["--timeout", "soon"], {}, "--timeout"],
      [["--timeout", "0"], {}, "--timeout"],
      [[], { PARTNER_TOKEN_TIMEOUT: "-3" }, "PARTNER_TOKEN_TIMEOUT"],
    ] as Array<[string[], Record<string, string>, string]>) {
      const r = await runCli([...signIn(), ...args], {
        env: { CLIENT_SECRET: "timeout-test-secret-0123456789", ...env },
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${name} takes a number of seconds`));
    }
  });
});
