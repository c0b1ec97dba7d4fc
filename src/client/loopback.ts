/**
 * The loopback redirect listener of interactive sign-in: the first free port of 8400…8999 on
 * 127.0.0.1, redirect URI `http://localhost:{port}/`, exactly one callback accepted, a small
 * HTML page answered, then the listener closes.
 */
import { createServer, type Server } from "node:http";
import { CancelledError, PartnerTokenError } from "./errors.ts";

export const LOOPBACK_FIRST_PORT = 8400;
export const LOOPBACK_LAST_PORT = 8999;

const SUCCESS_PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><title>Authentication complete</title></head><body><p>Authentication complete. You can return to the application. Feel free to close this browser tab.</p></body></html>';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function failurePage(error: string, description: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Authentication failed</title></head><body><p>Authentication failed. You can return to the application. Feel free to close this browser tab.</p><p>Error details: error ${escapeHtml(error)} error_description: ${escapeHtml(description)}</p></body></html>`;
}

/** A listening loopback redirect endpoint. */
export interface LoopbackListener {
  port: number;
  redirectUri: string;
  /**
   * Waits for the one callback. `check` decides whether it is a success (returns undefined) or a
   * failure (returns `[error, description]`), which chooses the page the browser sees.
   */
  waitForCallback(
    check: (params: URLSearchParams) => [string, string] | undefined,
    signal?: AbortSignal,
  ): Promise<URLSearchParams>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE" || err.code === "EACCES") resolve(false);
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(true);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

/**
 * Starts listening on the first free port of the range.
 *
 * @example
 * ```ts
 * const listener = await startLoopbackListener();
 * console.log(listener.redirectUri); // "http://localhost:8400/"
 * ```
 * @throws {PartnerTokenError} `ERR_LOOPBACK_PORTS_BUSY` when every port is taken.
 */
export async function startLoopbackListener(
  first = LOOPBACK_FIRST_PORT,
  last = LOOPBACK_LAST_PORT,
): Promise<LoopbackListener> {
  let onRequest:
    | ((params: URLSearchParams, respond: (status: number, html: string) => void) => void)
    | undefined;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const respond = (status: number, html: string) => {
      res.writeHead(status, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        connection: "close",
      });
      res.end(html);
    };
    // Browsers also ask for /favicon.ico and the like; only the redirect URI's path is the callback.
    if (url.pathname !== "/" || !onRequest || (req.method !== "GET" && req.method !== "POST")) {
      res.writeHead(404, { connection: "close" }).end();
      return;
    }
    const handler = onRequest;
    onRequest = undefined; // exactly one callback
    if (req.method === "POST") {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => handler(new URLSearchParams(body), respond));
    } else handler(url.searchParams, respond);
  });
  let port = first;
  for (; port <= last; port++) {
    if (await listen(server, port)) break;
  }
  if (port > last) {
    throw new PartnerTokenError(
      "ERR_LOOPBACK_PORTS_BUSY",
      `No free port between ${first} and ${last} on 127.0.0.1 for the sign-in redirect.`,
      {
        hint: "Close other sign-ins in progress, or use the device code flow.",
      },
    );
  }
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    port,
    redirectUri: `http://localhost:${port}/`,
    close,
    waitForCallback(check, signal) {
      return new Promise<URLSearchParams>((resolve, reject) => {
        const onAbort = () => {
          onRequest = undefined;
          reject(new CancelledError("The sign-in was cancelled."));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener("abort", onAbort, { once: true });
        onRequest = (params, respond) => {
          signal?.removeEventListener("abort", onAbort);
          const failure = check(params);
          respond(200, failure ? failurePage(failure[0], failure[1]) : SUCCESS_PAGE);
          resolve(params);
        };
      });
    },
  };
}
