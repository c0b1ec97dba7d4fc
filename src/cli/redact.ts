/**
 * The CLI's last line of defence: everything it writes to stderr passes through {@link say},
 * which applies the library's redactor (secret names, JWT shapes) plus every secret value the
 * CLI itself has read (client secret, refresh token, …), so that even a crash or a stack trace
 * from an unexpected place cannot show one.
 */
import { redact as redactKnownNames } from "../client/redact.ts";

const known = new Set<string>();

/** Remember a secret value so that it never reaches stderr. */
export function addSecret(value: string): void {
  known.add(value);
}

/** Masks secrets in text meant for a person. */
export function redact(text: string): string {
  return redactKnownNames(text, [...known]);
}

/** Writes a line for a person on stderr, redacted. */
export function say(text: string): void {
  process.stderr.write(redact(text.endsWith("\n") ? text : text + "\n"));
}

const JWT_SHAPE = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/**
 * Writes the library's progress (the sign-in address, the device code message), which it has
 * already redacted: masks only secret values and JWT shapes, so that the address stays usable
 * when it has to be copied into a browser by hand (name-based masking would turn its
 * `client_info=1` into `client_info=[REDACTED]`).
 */
export function progress(text: string): void {
  let out = text.endsWith("\n") ? text : text + "\n";
  for (const secret of known) out = out.split(secret).join("[REDACTED]");
  process.stderr.write(out.replace(JWT_SHAPE, "[REDACTED]"));
}
