/**
 * `--save-refresh-token FILE`: writes the rotated refresh token back, so the next run starts from
 * it (a refresh token unused for 90 days expires; every use returns a new one to keep). It is the
 * older spelling of `--refresh-token-store file:FILE`, and writes through the same file store
 * (`src/stores/file-store.ts`): atomically, mode 0600, through a symbolic link to its target, only
 * after a successful sign-in, and only with a value that looks like a refresh token.
 */
import { writeRefreshTokenFile } from "../stores/file-store.ts";

export { expandHome } from "../stores/file-store.ts";

export type SaveOutcome = "saved" | "none-issued";

/**
 * Saves `token` to `path` (mode 0600). Resolves "none-issued", writing nothing, when the server
 * issued no refresh token; throws, writing nothing, on a value that is not a plausible token.
 */
export async function saveRefreshToken(path: string, token: string | null): Promise<SaveOutcome> {
  if (token === null || token === "") return "none-issued";
  await writeRefreshTokenFile(path, token);
  return "saved";
}

/**
 * "could not save the refresh token to T: why. T was left as it was; the new one is on stdout",
 * saying each thing once: a store's own message often already says that nothing was written.
 */
export function saveFailureMessage(target: string, error: unknown): string {
  const reason = (error instanceof Error ? error.message : String(error)).trim();
  const said = /(left as it was|nothing was written)\.?$/i.test(reason);
  return (
    `could not save the refresh token to ${target}: ${reason.replace(/\.+$/, "")}` +
    `${said ? "" : `. ${target} was left as it was`}; the new refresh token is in the result on stdout.`
  );
}
