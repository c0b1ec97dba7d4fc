/**
 * Trusting one more certificate authority (the emulator's, a corporate proxy's) for our requests
 * only, in addition to the usual roots.
 *
 * Why a small `fetch` over `node:https` rather than the alternatives:
 * - `tls.setDefaultCACertificates()` exists only on newer Node (not 22.12), and changes trust for
 *   the whole process — a library must not do that to its host.
 * - `undici`'s `Agent({ connect: { ca } })` would need a second copy of undici (Node does not
 *   expose the one behind its global `fetch`), a runtime dependency that costs start-up time in
 *   the CLI, and mixing two undici versions through `dispatcher` is a known source of breakage.
 * - `node:https` takes `ca` per agent, is built in, and a token request needs only the simple
 *   part of fetch (no redirects: oauth4webapi asks for `redirect: "manual"`; small bodies).
 * Certificate checks stay fully on: we only add a root, never disable verification.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Agent } from "node:https";
import type * as Tls from "node:tls";
import { PartnerTokenError } from "./errors.ts";

// Node's tls, https, http and stream are taken when a request needs them, not when this module
// loads: the CLI loads it with every command (scripts/build.ts puts the common flows in one
// chunk), and most commands make no request, or none with an extra CA. Loading tls also starts
// Node's reading of its root certificates on another thread.
const tlsModule = (): typeof Tls => process.getBuiltinModule("node:tls");
const webStream = (res: IncomingMessage) =>
  process.getBuiltinModule("node:stream").Readable.toWeb(res);

export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** The roots Node would use by default (bundled, plus NODE_EXTRA_CA_CERTS and the system store where enabled). */
function defaultRoots(): string[] {
  const tls = tlsModule();
  const withDefaults = tls as unknown as { getCACertificates?: (type: "default") => string[] };
  return withDefaults.getCACertificates?.("default") ?? [...tls.rootCertificates];
}

interface NativeSecureContext {
  addCACert?: (pem: string) => void;
}

/**
 * TLS options trusting Node's default roots plus `pem`.
 *
 * Passing `ca: [...defaultRoots(), pem]` is the documented way, but it turns every root into PEM
 * and parses it again: 15–20 ms of a command's start-up. A default secure context with one CA
 * added does the same without that, the way Node applies `ca` itself (the native context copies
 * its shared root store before adding), so it is used when Node has it.
 */
function trustOptions(pem: string): { ca: string[] } | { secureContext: Tls.SecureContext } {
  const secureContext = tlsModule().createSecureContext();
  const native = (secureContext as unknown as { context?: NativeSecureContext }).context;
  if (typeof native?.addCACert !== "function") return { ca: [...defaultRoots(), pem] };
  native.addCACert(pem);
  return { secureContext };
}

const agents = new Map<string, Agent>();

function agentFor(caFile: string): Agent {
  let agent = agents.get(caFile);
  if (!agent) {
    let pem: string;
    try {
      pem = readFileSync(caFile, "utf8");
    } catch (cause) {
      throw new PartnerTokenError(
        "ERR_CA_FILE",
        `Cannot read the CA file '${caFile}': ${(cause as Error).message}`,
        {
          cause,
          hint:
            "Give the PEM file of the certificate authority to trust (caFile); the emulator's ready line names it. " +
            "For --environment Emulator: start `partner-token emulator` first (it creates ca.pem in its data folder), " +
            "or set PARTNER_TOKEN_EMULATOR_DIR to the emulator's --data-dir.",
          option: "caFile",
        },
      );
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      throw new PartnerTokenError(
        "ERR_CA_FILE",
        `The CA file '${caFile}' holds no PEM certificate.`,
      );
    }
    // keepAlive: a flow makes several requests to the same host; idle sockets are unref'd by Node.
    const { Agent } = process.getBuiltinModule("node:https");
    agent = new Agent({ ...trustOptions(pem), keepAlive: true, timeout: 30_000 });
    agents.set(caFile, agent);
  }
  return agent;
}

function bodyOf(body: RequestInit["body"]): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError("unsupported request body type");
}

/**
 * A `fetch` that trusts the PEM certificate authority in `caFile` in addition to the default
 * roots. Plain `http:` URLs go out unchanged (loopback only; checked where the URL enters).
 *
 * @example
 * ```ts
 * const fetchTrusting = fetchTrustingCa("/home/me/.local/share/partner-token/emulator/ca.pem");
 * const res = await fetchTrusting("https://127.0.0.1:9443/organizations/v2.0/.well-known/openid-configuration", {});
 * ```
 */
export function fetchTrustingCa(caFile: string): FetchFunction {
  const agent = agentFor(caFile);
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const body = bodyOf(init.body);
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const options = { method: init.method ?? "GET", headers, signal: init.signal ?? undefined };
      // The body is handed on as a stream, never buffered here: the HTTP layer (http.ts) reads it
      // with its size limit, idle limit and deadline, as it does global fetch's.
      const onResponse = (res: IncomingMessage) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [value])
            responseHeaders.append(name, one);
        }
        const status = res.statusCode ?? 0;
        const noBody = status === 204 || status === 304 || init.method === "HEAD";
        if (noBody) res.resume();
        try {
          resolve(
            new Response(noBody ? null : (webStream(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? "",
              headers: responseHeaders,
            }),
          );
        } catch (cause) {
          res.destroy();
          reject(cause);
        }
      };
      const req =
        url.protocol === "https:"
          ? process.getBuiltinModule("node:https").request(url, { ...options, agent }, onResponse)
          : process.getBuiltinModule("node:http").request(url, options, onResponse);
      req.on("error", reject);
      req.end(body);
    });
}
