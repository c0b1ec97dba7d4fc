/**
 * `Retry-After` (RFC 9110 §10.2.3): how long a throttling server asked us to wait, and the words
 * that say so in an error's hint. Shared by the HTTP layer, the token errors and Partner Center's.
 */

/** `Retry-After` in seconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/** A wait for people: "45 seconds", "12 minutes", "3 hours", "11 days". */
export function describeWait(seconds: number): string {
  const unit = (n: number, name: string) => `${n} ${name}${n === 1 ? "" : "s"}`;
  if (seconds < 90) return unit(Math.max(1, Math.ceil(seconds)), "second");
  if (seconds < 90 * 60) return unit(Math.round(seconds / 60), "minute");
  if (seconds < 36 * 3600) return unit(Math.round(seconds / 3600), "hour");
  return unit(Math.round(seconds / 86400), "day");
}

/**
 * The hint for a throttled answer (429, or 503 with `Retry-After`) that names the wait the server
 * asked for; undefined when the answer is not throttling or names no wait.
 */
export function retryAfterHint(response: Response | undefined): string | undefined {
  if (!response || (response.status !== 429 && response.status !== 503)) return undefined;
  const seconds = retryAfterSeconds(response.headers);
  if (seconds === undefined) return undefined;
  return `The server is throttling and asked to wait ${describeWait(seconds)} before trying again (Retry-After: ${response.headers.get("retry-after")?.trim()}). Try again after that time.`;
}
