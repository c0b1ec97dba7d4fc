/**
 * Rotating the app's client secret with no job ever seeing a refused one: add a new secret, prove
 * it with a token (waiting out Entra's replication), only then write it where the jobs read it —
 * a job given a secret Entra has not replicated yet would be refused — and, after a
 * grace period for the jobs that read the old one a moment ago, remove the old one. If proving or
 * writing fails, the new secret is removed and the store left with the old one: everything as it
 * was.
 */
import { PartnerTokenError } from "../client/errors.ts";
import type { RefreshTokenStore } from "../session/types.ts";
import {
  addPassword,
  getApplication,
  isCredentialLag,
  removePassword,
  waitForReplication,
  type AppGraph,
  type GraphApplication,
  type PasswordCredential,
} from "./graph-app.ts";

const DAY_MS = 86_400_000;

export interface RotateSecretOptions {
  graph: AppGraph;
  /** The app's client id. */
  applicationId: string;
  /** Where the jobs read the secret (`--credential keyvault:…`): the new one is written there. */
  store: RefreshTokenStore;
  /** Gets a token with the secret; throws when it is refused. */
  prove: (secret: string) => Promise<void>;
  /** Keep the old secret (default: remove it once the new one is proven). */
  keepOld?: boolean;
  /** The new secret's lifetime in days (default 180). */
  lifetimeDays?: number;
  /** How long jobs may still use the old secret after the new one is in the store (default 60 s). */
  graceMs?: number;
  /** Retries of the proof while Entra replicates the new secret. */
  replication?: { tries?: number; delayMs?: number };
  log?: (line: string) => void;
  /** Told the new secret's text as soon as it exists, to scrub it from any output (never logged). */
  onSecret?: (secret: string) => void;
  now?: () => number;
}

export interface RotateSecretResult {
  applicationId: string;
  objectId: string;
  /** The new secret's id, hint and expiry (never its text). */
  keyId: string;
  hint: string | null;
  endDateTime: string | null;
  secretStore: string;
  /** Key ids of the secrets removed. */
  removed: string[];
  /** Why an old secret was left in place, when one was. */
  kept?: string;
}

/** The rotation failed; the app and the store are as they were (or `message` says what is not). */
export class RotationError extends PartnerTokenError {}

/** The app registration a rotation changes; `ERR_APP_NOT_FOUND` when the signed-in tenant has none. */
export async function applicationToRotate(
  graph: AppGraph,
  applicationId: string,
): Promise<GraphApplication> {
  const app = await getApplication(graph, applicationId);
  if (!app)
    throw new RotationError(
      "ERR_APP_NOT_FOUND",
      `No application with id ${applicationId} in the signed-in tenant.`,
      {
        hint: "Sign in to the app's home tenant as an Application Administrator (or Global Administrator).",
      },
    );
  return app;
}

/**
 * Rotates the secret.
 *
 * @example
 * ```ts
 * const store = await openRefreshTokenStore("keyvault:https://contoso-kv.vault.azure.net/secrets/app-secret");
 * await rotateSecret({ graph, applicationId, store, prove: (s) => tokenWith(s) });
 * ```
 */
export async function rotateSecret(o: RotateSecretOptions): Promise<RotateSecretResult> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const app = await applicationToRotate(o.graph, o.applicationId);
  const previous = await o.store.read();
  const lifetime = (o.lifetimeDays ?? 180) * DAY_MS;
  const added = await addPassword(o.graph, app.id, {
    displayName: `partner-token ${new Date(now()).toISOString().slice(0, 10)}`,
    endDateTime: new Date(now() + lifetime).toISOString(),
  });
  o.onSecret?.(added.secretText);
  log(`Added secret ${added.keyId} (${added.hint ?? ""}…) to ${app.displayName}.`);
  let proven = false;
  try {
    // Proven before it is stored: a job that read it from the store before Entra had replicated
    // it would be refused (AADSTS7000215).
    await waitForReplication(() => o.prove(added.secretText), isCredentialLag, {
      ...o.replication,
      log,
      what: "the new secret",
    });
    proven = true;
    log("Proved it: a token was issued with the new secret.");
    await o.store.write(added.secretText);
    log(`Wrote it to ${o.store.description}.`);
  } catch (error) {
    const undone: string[] = [];
    // A write that failed may still have landed (a timeout after the vault took it): the store
    // must never be left holding a secret the app no longer has.
    const landed = proven ? await storeHolds(o.store, added.secretText, previous?.token) : "no";
    if (landed === "no") {
      try {
        await removePassword(o.graph, app.id, added.keyId);
        undone.push("the new secret was removed from the app");
      } catch (e) {
        undone.push(
          `the new secret ${added.keyId} could NOT be removed (${(e as Error).message}); remove it in the portal`,
        );
      }
    } else
      undone.push(
        `the new secret ${added.keyId} was kept in the app, since ${o.store.description} ${landed === "yes" ? "holds it" : "may hold it"}; run the rotation again`,
      );
    if (!proven) undone.push(`${o.store.description} still holds the old secret`);
    const step = proven ? `writing it to ${o.store.description}` : "proving the new secret";
    throw new RotationError(
      "ERR_ROTATION_FAILED",
      `The secret was not rotated: ${step} failed: ${(error as Error).message} — ${undone.join("; ")}. The old secret still works.`,
      { cause: error },
    );
  }

  const result: RotateSecretResult = {
    applicationId: app.appId,
    objectId: app.id,
    keyId: added.keyId,
    hint: added.hint,
    endDateTime: added.endDateTime,
    secretStore: o.store.description,
    removed: [],
  };
  if (o.keepOld) {
    result.kept = "--keep-old";
    return result;
  }
  const old = oldCredentials(app.passwordCredentials ?? [], previous?.token, added.keyId);
  if ("why" in old) {
    result.kept = old.why;
    log(`Left the other secrets in place: ${old.why}`);
    return result;
  }
  const grace = o.graceMs ?? 60_000;
  if (grace > 0) {
    log(
      `Waiting ${Math.round(grace / 1000)} s before removing the old secret (jobs that read it just now)…`,
    );
    await new Promise((r) => setTimeout(r, grace));
  }
  for (const c of old.remove) {
    await removePassword(o.graph, app.id, c.keyId);
    result.removed.push(c.keyId);
    log(`Removed the old secret ${c.keyId} (${c.hint ?? ""}…).`);
  }
  return result;
}

/**
 * After a failed write: does the store hold the new secret? When it does, the old one is written
 * back ("no" once that worked). "unknown" when the store cannot be read or put back.
 */
async function storeHolds(
  store: RefreshTokenStore,
  secret: string,
  previous: string | undefined,
): Promise<"yes" | "no" | "unknown"> {
  try {
    if ((await store.read())?.token !== secret) return "no";
  } catch {
    return "unknown";
  }
  if (previous === undefined) return "yes";
  try {
    await store.write(previous);
    return "no";
  } catch {
    // That write may have landed too.
    try {
      return (await store.read())?.token === secret ? "yes" : "no";
    } catch {
      return "unknown";
    }
  }
}

/**
 * The old secret: the credential whose hint (its first three characters) is the stored secret's.
 * None, or more than one with that hint, is left alone (which one is in use cannot be told).
 */
function oldCredentials(
  credentials: PasswordCredential[],
  previous: string | undefined,
  newKeyId: string,
): { remove: PasswordCredential[] } | { why: string } {
  if (!previous) return { why: "the store held no secret before, so none is known to be old" };
  const hint = previous.slice(0, 3);
  const matching = credentials.filter((c) => c.keyId !== newKeyId && c.hint === hint);
  if (matching.length === 0)
    return { why: "no secret of the app matches the one the store held (already removed?)" };
  if (matching.length > 1)
    return {
      why: `${matching.length} secrets of the app start like the one the store held; remove the old one by hand`,
    };
  return { remove: matching };
}
