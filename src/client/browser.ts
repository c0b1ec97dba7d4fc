/**
 * Opening the system browser at the sign-in URL. `$BROWSER` wins, as Unix tools honour it (a
 * colon-separated list of commands; `%s` stands for the URL); otherwise the platform's opener.
 * The URL is always given to `log` too, so a person can copy it when no browser opens.
 */
import { spawn } from "node:child_process";

function launch(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { stdio: "ignore", detached: true, windowsHide: true });
      child.once("error", () => resolve(false));
      // A browser may keep running; an opener exits at once. Do not wait for either.
      child.once("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

/** Splits a `$BROWSER` entry into a command and its arguments (simple quoting). */
function splitCommand(entry: string, url: string): [string, string[]] | undefined {
  const words = [...entry.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? "",
  );
  if (words.length === 0) return undefined;
  const hasPlaceholder = words.some((word) => word.includes("%s"));
  const args = words.slice(1).map((word) => word.replaceAll("%s", url));
  if (!hasPlaceholder) args.push(url);
  return [words[0]!.replaceAll("%s", url), args];
}

/**
 * Opens `url` in a browser; resolves `true` if a browser (or opener) could be started.
 *
 * @example
 * ```ts
 * if (!(await openSystemBrowser(url))) console.error(`Open ${url} in a browser.`);
 * ```
 */
export async function openSystemBrowser(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  if (env.BROWSER) {
    for (const entry of env.BROWSER.split(process.platform === "win32" ? ";" : ":")) {
      const command = splitCommand(entry, url);
      if (command && (await launch(command[0], command[1]))) return true;
    }
    return false;
  }
  if (process.platform === "darwin") return launch("open", [url]);
  if (process.platform === "win32") return launch("rundll32", ["url.dll,FileProtocolHandler", url]);
  return launch("xdg-open", [url]);
}
