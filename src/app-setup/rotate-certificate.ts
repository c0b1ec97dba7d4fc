/**
 * The app's certificate made and rotated: a new self-signed certificate (RSA 2048, made here with
 * node-forge, loaded lazily) goes into the app's `keyCredentials` by PATCH — the existing ones
 * listed with `key: null`, which keeps them — as Graph allows without the proof JWT `addKey`
 * wants. It is proven with a token (from a private copy of its PFX, waiting out Entra's
 * replication), only then is its PFX (an empty password; the file private) written where the jobs
 * read it, and — after a grace period for the jobs that read the old one a moment ago — the old
 * certificate removed (unless `keepOld`). If proving or writing fails, the new certificate is
 * taken off the app, and the jobs' file or store never held it.
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PartnerTokenError } from "../client/errors.ts";
import { writeFileAtomic } from "../session/atomic-file.ts";
import type { RefreshTokenStore } from "../session/types.ts";
import {
  getApplication,
  isCredentialLag,
  waitForReplication,
  type AppGraph,
  type KeyCredential,
} from "./graph-app.ts";
import { applicationToRotate, RotationError } from "./rotate-secret.ts";

const DAY_MS = 86_400_000;

/** A self-signed certificate and its PFX. */
export interface NewCertificate {
  /** The DER certificate, base64 (as `keyCredentials[].key` takes it). */
  certificateBase64: string;
  /** PKCS#12 with the certificate and its private key, an empty password (what Windows and OpenSSL open without asking). */
  pfx: Buffer;
  /** SHA-1 of the DER certificate, upper-case hex. */
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** Makes a self-signed RSA 2048 certificate (`CN=subject`) valid from now for `lifetimeDays`. */
export async function makeSelfSignedCertificate(
  subject: string,
  lifetimeDays: number,
  now: number = Date.now(),
): Promise<NewCertificate> {
  const { default: forge } = await import("node-forge");
  const keys = await new Promise<import("node-forge").pki.rsa.KeyPair>((resolve, reject) =>
    forge.pki.rsa.generateKeyPair({ bits: 2048, workers: -1 }, (e, k) =>
      e ? reject(e) : resolve(k),
    ),
  );
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive serial: 16 random bytes with the top bit cleared.
  const serial = Buffer.from(randomUUID().replace(/-/g, ""), "hex");
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString("hex");
  const notBefore = new Date(now - 5 * 60_000);
  const notAfter = new Date(now + lifetimeDays * DAY_MS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const attrs = [{ name: "commonName", value: subject }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
  const p12 = forge.pkcs12.toPkcs12Asn1(keys.privateKey, [cert], "", { algorithm: "3des" });
  const pfx = Buffer.from(forge.asn1.toDer(p12).getBytes(), "binary");
  return {
    certificateBase64: der.toString("base64"),
    pfx,
    thumbprint: createHash("sha1").update(der).digest("hex").toUpperCase(),
    notBefore,
    notAfter,
  };
}

/**
 * A key credential's thumbprint: Graph gives `customKeyIdentifier` as the base64 of the SHA-1,
 * some tools as hex.
 */
export function keyThumbprint(k: Pick<KeyCredential, "customKeyIdentifier">): string | null {
  const id = k.customKeyIdentifier;
  if (!id) return null;
  if (/^[0-9a-fA-F]{40}$/.test(id)) return id.toUpperCase();
  const bytes = Buffer.from(id, "base64");
  return bytes.length === 20 ? bytes.toString("hex").toUpperCase() : null;
}

/** The certificate in a PFX (no password) or PEM file, by SHA-1 thumbprint; null when unreadable. */
async function thumbprintOfFile(content: Buffer): Promise<string | null> {
  const text = content.toString("utf8");
  try {
    if (text.includes("-----BEGIN CERTIFICATE-----")) {
      const x = new X509Certificate(text);
      return createHash("sha1").update(x.raw).digest("hex").toUpperCase();
    }
    const { default: forge } = await import("node-forge");
    const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(content.toString("binary")), "");
    const bags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
    const c = bags[0]?.cert;
    if (!c) return null;
    const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes(), "binary");
    return createHash("sha1").update(der).digest("hex").toUpperCase();
  } catch {
    return null;
  }
}

/** Runs `use` with `pfx` in a private file (0600 in a folder of its own, 0700), removed after. */
async function withPrivateCopy<T>(pfx: Buffer, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "partner-token-pfx-"));
  try {
    const file = join(dir, "new.pfx");
    await writeFile(file, pfx, { mode: 0o600 });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * After a failed write: does the jobs' file (or store) hold the new certificate? When it does,
 * what it held before is written back ("no" once that worked). "unknown" when it cannot be read.
 */
async function targetHolds(
  target: { read(): Promise<Buffer | null>; write(b: Buffer): Promise<void> },
  thumbprint: string,
  previous: Buffer | null,
): Promise<"yes" | "no" | "unknown"> {
  const holdsNew = async (): Promise<boolean> => {
    const now = await target.read();
    return now !== null && (await thumbprintOfPfx(now)) === thumbprint;
  };
  try {
    if (!(await holdsNew())) return "no";
  } catch {
    return "unknown";
  }
  if (previous === null) return "yes";
  try {
    await target.write(previous);
    return "no";
  } catch {
    try {
      return (await holdsNew()) ? "yes" : "no";
    } catch {
      return "unknown";
    }
  }
}

/** The SHA-1 thumbprint of the certificate in PFX bytes (empty password) or PEM text; null when unreadable. */
export async function thumbprintOfPfx(content: Buffer): Promise<string | null> {
  try {
    return await thumbprintOfFile(content);
  } catch {
    return null;
  }
}

/** The SHA-1 thumbprint of the certificate in a PFX (empty password) or PEM file; null when absent or unreadable. */
export async function thumbprintOfPfxFile(path: string): Promise<string | null> {
  try {
    return await thumbprintOfFile(await readFile(path));
  } catch {
    return null;
  }
}

export interface RotateCertificateOptions {
  graph: AppGraph;
  /** The app's client id. */
  applicationId: string;
  /** The PFX file the jobs read (`--certificate-path`): the new certificate is written there. */
  path: string;
  /**
   * Instead of the file: a store (`--certificate-path keyvault:…`) that is given the PFX's base64,
   * as Key Vault keeps certificates (`path` is then the store's URI).
   */
  store?: RefreshTokenStore;
  /**
   * Gets a token with the new PFX at `path` — a private copy, before the PFX is written where the
   * jobs read it; throws when it is refused.
   */
  prove: (path: string) => Promise<void>;
  /** Keep the old certificate (default: removed once the new one is proven). */
  keepOld?: boolean;
  /** Days until the new certificate expires (default 180). */
  lifetimeDays?: number;
  /**
   * How long jobs may still use the old certificate after the new one is stored (default 60 s):
   * a job that read the old PFX a moment before the write signs in with it a moment after.
   */
  graceMs?: number;
  /** Retries of the proof while Entra replicates the new certificate. */
  replication?: { tries?: number; delayMs?: number };
  log?: (line: string) => void;
  now?: () => number;
}

export interface RotateCertificateResult {
  applicationId: string;
  objectId: string;
  keyId: string;
  thumbprint: string;
  endDateTime: string;
  certificatePath: string;
  /** Key ids of the certificates removed. */
  removed: string[];
  /** Why an old certificate was left in place, when one was. */
  kept?: string;
}

const keep = (k: KeyCredential) => ({
  keyId: k.keyId,
  type: k.type,
  usage: k.usage,
  key: null,
  displayName: k.displayName,
});

/**
 * Adds a new certificate to the app (the first one, or the next), proves it, writes its PFX to
 * `path`, then — after `graceMs` — removes the certificate the file held before unless `keepOld`.
 *
 * @example
 * ```ts
 * await rotateCertificate({ graph, applicationId, path: "/etc/pt/app.pfx", prove: (p) => tokenWith(p) });
 * ```
 */
export async function rotateCertificate(
  o: RotateCertificateOptions,
): Promise<RotateCertificateResult> {
  const now = o.now ?? Date.now;
  const log = o.log ?? (() => {});
  const app = await applicationToRotate(o.graph, o.applicationId);
  const existing = app.keyCredentials ?? [];
  const where = o.store?.description ?? o.path;
  const store = o.store;
  const target = store
    ? {
        read: async () => {
          const held = await store.read();
          return held ? Buffer.from(held.token, "base64") : null;
        },
        write: (b: Buffer) => store.write(b.toString("base64")),
      }
    : {
        read: async () => {
          try {
            return await readFile(o.path);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
            throw e;
          }
        },
        write: (b: Buffer) => writeFileAtomic(o.path, b),
      };
  const previous = await target.read();
  const previousThumbprint = previous ? await thumbprintOfFile(previous) : null;
  const made = await makeSelfSignedCertificate(app.displayName, o.lifetimeDays ?? 180, now());
  const keyId = randomUUID();
  const patchKeys = (keys: object[]) =>
    o.graph.request({
      method: "PATCH",
      path: `/v1.0/applications/${encodeURIComponent(app.id)}`,
      json: { keyCredentials: keys },
    });
  await patchKeys([
    ...existing.map(keep),
    {
      keyId,
      type: "AsymmetricX509Cert",
      usage: "Verify",
      key: made.certificateBase64,
      displayName: `CN=${app.displayName}`,
      endDateTime: made.notAfter.toISOString(),
    },
  ]);
  log(`Added certificate ${made.thumbprint} (key ${keyId}) to ${app.displayName}.`);
  let proven = false;
  try {
    // Proven before it is written: a job that read it where the jobs read it before Entra had
    // replicated it would be refused (AADSTS700027).
    await withPrivateCopy(made.pfx, (file) =>
      waitForReplication(() => o.prove(file), isCredentialLag, {
        ...o.replication,
        log,
        what: "the new certificate",
      }),
    );
    proven = true;
    log("Proved it: a token was issued with the new certificate.");
    await target.write(made.pfx);
    log(`Wrote its PFX to ${where}.`);
  } catch (error) {
    const undone: string[] = [];
    // A write that failed may still have landed: never leave the jobs' PFX without its certificate.
    const landed = proven ? await targetHolds(target, made.thumbprint, previous) : "no";
    if (landed === "no") {
      try {
        await patchKeys(existing.map(keep));
        undone.push("the new certificate was removed from the app");
      } catch (e) {
        undone.push(
          `the new certificate ${keyId} could NOT be removed (${(e as Error).message}); remove it in the portal`,
        );
      }
    } else
      undone.push(
        `the new certificate ${made.thumbprint} was kept in the app, since ${where} ${landed === "yes" ? "holds it" : "may hold it"}; run the rotation again`,
      );
    if (!proven) undone.push(`${where} is as it was`);
    const step = proven ? `writing it to ${where}` : "proving the new certificate";
    throw new RotationError(
      "ERR_ROTATION_FAILED",
      `The certificate was not rotated: ${step} failed: ${(error as Error).message} — ${undone.join("; ")}.`,
      { cause: error },
    );
  }
  const result: RotateCertificateResult = {
    applicationId: app.appId,
    objectId: app.id,
    keyId,
    thumbprint: made.thumbprint,
    endDateTime: made.notAfter.toISOString(),
    certificatePath: where,
    removed: [],
  };
  if (o.keepOld) {
    result.kept = "--keep-old";
    return result;
  }
  if (!previousThumbprint) {
    if (existing.length) {
      result.kept = `${where} held no readable certificate before, so none is known to be old`;
      log(`Left the other certificates in place: ${result.kept}`);
    }
    return result;
  }
  const old = existing.filter((k) => keyThumbprint(k) === previousThumbprint);
  if (old.length === 0) {
    result.kept = "no certificate of the app matches the one the file held (already removed?)";
    log(`Left the other certificates in place: ${result.kept}`);
    return result;
  }
  const grace = o.graceMs ?? 60_000;
  if (grace > 0) {
    log(
      `Waiting ${Math.round(grace / 1000)} s before removing the old certificate (jobs that read it just now)…`,
    );
    await new Promise((r) => setTimeout(r, grace));
  }
  const after = (await getApplication(o.graph, o.applicationId))?.keyCredentials ?? [];
  await patchKeys(after.filter((k) => !old.some((x) => x.keyId === k.keyId)).map(keep));
  for (const k of old) {
    result.removed.push(k.keyId);
    log(`Removed the old certificate ${previousThumbprint} (key ${k.keyId}).`);
  }
  return result;
}
