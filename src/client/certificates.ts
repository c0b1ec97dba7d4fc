/**
 * Finding a certificate and its private key: by SHA-1 thumbprint (as Windows shows it) in a
 * certificate folder of PEM or PFX files — then, on Linux, in .NET's certificate store `My` of
 * CurrentUser, where PowerShell's `X509Store` keeps them —, from a file given directly, or read by
 * the caller (a store the library does not open itself). PFX (PKCS#12) parsing uses node-forge,
 * imported only when a PFX file is actually read.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import { PartnerTokenError, UsageError } from "./errors.ts";
import type { CertificateSource } from "./types.ts";

/** A certificate with its private key, ready to sign client assertions. */
export interface LoadedCertificate {
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** SHA-1 of the DER certificate, upper-case hex (Windows' "Thumbprint"). */
  thumbprint: string;
  /** SHA-256 of the DER certificate, upper-case hex. */
  thumbprintSha256: string;
  /** Where it was read from. */
  file: string;
}

const CERTIFICATE_EXTENSIONS = new Set([".pem", ".crt", ".cer", ".pfx", ".p12"]);
const PFX_EXTENSIONS = new Set([".pfx", ".p12"]);

/**
 * The certificate folder: `$PARTNER_TOKEN_CERTIFICATE_DIR`, else
 * `%APPDATA%\partner-token\certificates` on Windows, else
 * `$XDG_CONFIG_HOME/partner-token/certificates` (`~/.config/partner-token/certificates`).
 *
 * @example
 * ```ts
 * console.log(`Put your PEM or PFX files in ${certificateDirectory()}`);
 * ```
 */
export function certificateDirectory(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string {
  if (env.PARTNER_TOKEN_CERTIFICATE_DIR) return env.PARTNER_TOKEN_CERTIFICATE_DIR;
  if (platform === "win32") {
    return join(
      env.APPDATA ?? join(homedir(), "AppData", "Roaming"),
      "partner-token",
      "certificates",
    );
  }
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "partner-token", "certificates");
}

/**
 * .NET's certificate store `My` of CurrentUser on Linux: the folder where `X509Store("My",
 * "CurrentUser")` — PowerShell's, and every .NET program's — keeps each certificate as
 * `<SHA-1 thumbprint>.pfx`, with its key and no password. `undefined` elsewhere: Windows and
 * macOS keep that store in the system (CryptoAPI, the keychain), out of a file's reach.
 */
export function dotnetCertificateStoreDirectory(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): string | undefined {
  if (platform === "win32" || platform === "darwin") return undefined;
  return join(env.HOME || homedir(), ".dotnet", "corefx", "cryptography", "x509stores", "my");
}

/** Normalises a thumbprint as people paste it (spaces, colons, lower case, invisible marks). */
export function normalizeThumbprint(value: string): string {
  const hex = value.replace(/[\s:\u200e\u200f\ufeff-]/g, "").toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(hex) && !/^[0-9A-F]{64}$/.test(hex)) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      `certificateThumbprint must be the certificate's SHA-1 thumbprint (40 hex digits) or SHA-256 (64); got '${value}'.`,
    );
  }
  return hex;
}

/** A store URI (as `--refresh-token-store` names them): opened by the caller, never here. */
const STORE_URI = /^(?:(?:file|keyring|keyvault):|rediss?(?:\+(?:cluster|sentinel))?:\/\/)/i;
const MAX_READ_CERTIFICATE = 64 * 1024;

/**
 * A certificate the caller reads (`CertificateSource.read`): the base64 of a PFX — what Key Vault
 * holds in a certificate's secret — or PEM text with its key. Read at each use, so a rotated
 * certificate is picked up without a restart.
 */
async function loadCertificateFromReader(
  read: () => Promise<string>,
  label: string,
  password: string | undefined,
): Promise<LoadedCertificate> {
  let value: unknown;
  try {
    value = await read();
  } catch (cause) {
    // The reader's own error (a store's, naming it) says best what is wrong.
    if (cause instanceof PartnerTokenError) throw cause;
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_NOT_FOUND",
      `Cannot read the certificate from ${label}: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
  if (typeof value !== "string")
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      `${label} gave no text: a certificate is read as the base64 of a PFX or PEM text.`,
    );
  if (!value)
    throw new PartnerTokenError("ERR_CERTIFICATE_NOT_FOUND", `${label} holds no certificate.`, {
      hint: "Write the base64 of a PFX (or PEM with its key) there, e.g. with 'partner-token app rotate-certificate'.",
    });
  if (value.length > MAX_READ_CERTIFICATE)
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      `${label} holds ${value.length} characters: too much for a certificate (at most ${MAX_READ_CERTIFICATE}).`,
    );
  const { certificates, keys } = value.includes("-----BEGIN")
    ? readPem(value, password, label)
    : await readPfxBytes(
        Buffer.from(value.replace(/\s+/g, ""), "base64"),
        password,
        `the PFX in ${label}`,
      );
  for (const certificate of certificates) {
    const privateKey = keys.find((key) => certificate.checkPrivateKey(key));
    if (privateKey) {
      const [thumbprint, thumbprintSha256] = thumbprintsOf(certificate);
      return { certificate, privateKey, thumbprint, thumbprintSha256, file: label };
    }
  }
  throw new PartnerTokenError(
    "ERR_CERTIFICATE_INVALID",
    `${label} holds no certificate with its private key.`,
    { hint: "Keep the base64 of a PFX that contains the key (or PEM with the key) there." },
  );
}

/**
 * Loads the certificate and private key a {@link CertificateSource} points to.
 *
 * @example
 * ```ts
 * const cert = await loadCertificate({ thumbprint: "3A2F…9C" });
 * const cert2 = await loadCertificate({ path: "./app.pfx", password: process.env.PFX_PASSWORD });
 * const cert3 = await loadCertificate({ read: async () => pfxBase64FromMyVault(), description: "my vault" });
 * ```
 * @throws {PartnerTokenError} `ERR_CERTIFICATE_NOT_FOUND`, `ERR_CERTIFICATE_INVALID`.
 */
export async function loadCertificate(source: CertificateSource): Promise<LoadedCertificate> {
  if (source.read !== undefined || source.path !== undefined) {
    let loaded: LoadedCertificate;
    if (source.read !== undefined) {
      if (source.path !== undefined)
        throw new UsageError(
          "ERR_INVALID_ARGUMENT",
          "A certificate is read from a file path or by a reader, not both.",
        );
      loaded = await loadCertificateFromReader(
        source.read,
        source.description ?? "the certificate reader",
        source.password,
      );
    } else {
      if (STORE_URI.test(source.path!))
        throw new UsageError(
          "ERR_INVALID_ARGUMENT",
          `The certificate path '${source.path}' names a store, which the token library does not open: give the certificate's 'read' instead (the command line and sessions do this for a store URI).`,
        );
      loaded = await loadCertificateFile(source.path!, source.password);
    }
    if (source.thumbprint !== undefined) {
      const wanted = normalizeThumbprint(source.thumbprint);
      if (wanted !== loaded.thumbprint && wanted !== loaded.thumbprintSha256) {
        throw new PartnerTokenError(
          "ERR_CERTIFICATE_NOT_FOUND",
          `The certificate in '${loaded.file}' has thumbprint ${loaded.thumbprint}, not ${wanted}.`,
        );
      }
    }
    return loaded;
  }
  if (source.thumbprint === undefined) {
    throw new UsageError(
      "ERR_INVALID_ARGUMENT",
      "A certificate needs a thumbprint, a file path or a reader.",
    );
  }
  const wanted = normalizeThumbprint(source.thumbprint);
  if (source.directory !== undefined)
    return findCertificateByThumbprint(wanted, [
      { directory: source.directory, password: source.password },
    ]);
  const store = dotnetCertificateStoreDirectory();
  return findCertificateByThumbprint(wanted, [
    { directory: certificateDirectory(), password: source.password },
    // The store's files have no password: the one given is for the certificate folder's.
    ...(store === undefined ? [] : [{ directory: store, password: undefined }]),
  ]);
}

/**
 * The certificate of thumbprint `wanted` (normalised) among the files of each folder in turn,
 * opened with that folder's password; all of them are named when none has it.
 */
async function findCertificateByThumbprint(
  wanted: string,
  folders: { directory: string; password: string | undefined }[],
): Promise<LoadedCertificate> {
  for (const { directory, password } of folders) {
    let names: string[];
    try {
      names = readdirSync(directory).sort();
    } catch {
      names = [];
    }
    // .NET's store names each file by its SHA-1 thumbprint: look at that one first.
    const named = names.indexOf(`${wanted}.pfx`);
    if (named > 0) names.unshift(...names.splice(named, 1));
    for (const name of names) {
      const file = join(directory, name);
      if (!CERTIFICATE_EXTENSIONS.has(extname(name).toLowerCase())) continue;
      const certs = PFX_EXTENSIONS.has(extname(name).toLowerCase())
        ? null
        : pemCertificates(readText(file));
      // PEM: look at the certificates before loading any key. PFX: must be opened to be read.
      if (certs && !certs.some((cert) => thumbprintsOf(cert).includes(wanted))) continue;
      let loaded: LoadedCertificate;
      try {
        loaded = await loadCertificateFile(file, password, wanted);
      } catch (err) {
        if (certs) throw err; // the right certificate, but its key is missing or unreadable
        continue; // a PFX that is not ours or needs another password
      }
      if (loaded.thumbprint === wanted || loaded.thumbprintSha256 === wanted) return loaded;
    }
  }
  const searched = folders.map((folder) => folder.directory);
  const where =
    searched.length === 1
      ? searched[0]
      : `${searched.slice(0, -1).join(", ")} or ${searched.at(-1)}`;
  const hint =
    `Put the certificate with its private key (PEM, or PFX) in ${searched[0]}, or set PARTNER_TOKEN_CERTIFICATE_DIR, ` +
    (searched.length > 1
      ? "or add it to the certificate store My of CurrentUser (.NET's X509Store, as PowerShell adds it), "
      : "") +
    "or give the file path instead of the thumbprint.";
  throw new PartnerTokenError(
    "ERR_CERTIFICATE_NOT_FOUND",
    `No certificate with thumbprint ${wanted} in ${where}.`,
    { hint },
  );
}

function readText(file: string): string {
  try {
    return readFileSync(file, "latin1");
  } catch (cause) {
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_NOT_FOUND",
      `Cannot read the certificate file '${file}': ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string): { label: string; pem: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1]!, pem: match[0] }));
}

function pemCertificates(text: string): X509Certificate[] {
  return pemBlocks(text)
    .filter((block) => block.label === "CERTIFICATE")
    .map((block) => new X509Certificate(block.pem));
}

function thumbprintsOf(cert: X509Certificate): [string, string] {
  return [
    createHash("sha1").update(cert.raw).digest("hex").toUpperCase(),
    createHash("sha256").update(cert.raw).digest("hex").toUpperCase(),
  ];
}

/**
 * Reads a PEM file (certificate + key; when the key is not in it, another PEM/KEY file of the same
 * folder holding the matching key is used) or a PFX file.
 *
 * @example
 * ```ts
 * const { thumbprint } = await loadCertificateFile("./app.pem");
 * ```
 */
export async function loadCertificateFile(
  file: string,
  password?: string,
  wantedThumbprint?: string,
): Promise<LoadedCertificate> {
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
  } catch (cause) {
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_NOT_FOUND",
      `Certificate file '${file}' not found.`,
      { cause },
    );
  }
  const { certificates, keys } = PFX_EXTENSIONS.has(extname(file).toLowerCase())
    ? await readPfx(file, password)
    : readPem(readText(file), password, file);
  const candidates = wantedThumbprint
    ? certificates.filter((cert) => thumbprintsOf(cert).includes(wantedThumbprint))
    : certificates;
  if (candidates.length === 0) {
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      `'${file}' holds no certificate${wantedThumbprint ? ` with thumbprint ${wantedThumbprint}` : ""}.`,
    );
  }
  const allKeys = keys.length > 0 ? keys : siblingKeys(file, password);
  for (const certificate of candidates) {
    const privateKey = allKeys.find((key) => certificate.checkPrivateKey(key));
    if (privateKey) {
      const [thumbprint, thumbprintSha256] = thumbprintsOf(certificate);
      return { certificate, privateKey, thumbprint, thumbprintSha256, file };
    }
  }
  throw new PartnerTokenError(
    "ERR_CERTIFICATE_INVALID",
    `No private key matching the certificate in '${file}' was found.`,
    {
      hint: "A client assertion is signed with the certificate's private key: put the key in the same PEM file (or in a .key/.pem file beside it), or use a PFX file that contains it.",
    },
  );
}

function readPem(
  text: string,
  password: string | undefined,
  file: string,
): { certificates: X509Certificate[]; keys: KeyObject[] } {
  const keys: KeyObject[] = [];
  for (const block of pemBlocks(text)) {
    if (!block.label.endsWith("PRIVATE KEY")) continue;
    try {
      keys.push(
        createPrivateKey({
          key: block.pem,
          format: "pem",
          ...(password === undefined ? {} : { passphrase: password }),
        }),
      );
    } catch (cause) {
      throw new PartnerTokenError(
        "ERR_CERTIFICATE_INVALID",
        `Cannot read the private key in '${file}'${block.label.includes("ENCRYPTED") ? " (wrong or missing password?)" : ""}.`,
        {
          cause,
        },
      );
    }
  }
  try {
    return { certificates: pemCertificates(text), keys };
  } catch (cause) {
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      `Cannot parse the certificate in '${file}'.`,
      { cause },
    );
  }
}

/** Keys in the other PEM files of a certificate's folder (e.g. `app-cert.pem` + `app-key.pem`). */
function siblingKeys(file: string, password?: string): KeyObject[] {
  const directory = dirname(file);
  const keys: KeyObject[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(directory);
  } catch {
    return keys;
  }
  for (const name of names) {
    if (name === basename(file) || ![".pem", ".key"].includes(extname(name).toLowerCase()))
      continue;
    try {
      keys.push(...readPem(readFileSync(join(directory, name), "latin1"), password, name).keys);
    } catch {
      // not a key we can read: not ours
    }
  }
  return keys;
}

async function readPfx(
  file: string,
  password?: string,
): Promise<{ certificates: X509Certificate[]; keys: KeyObject[] }> {
  return readPfxBytes(readFileSync(file), password, `the PFX file '${file}'`);
}

/** `what`: the PFX as messages name it ("the PFX file '…'", "the PFX in keyvault:…"). */
async function readPfxBytes(
  bytes: Buffer,
  password: string | undefined,
  what: string,
): Promise<{ certificates: X509Certificate[]; keys: KeyObject[] }> {
  const { default: forge } = await import("node-forge");
  let asn1: Asn1;
  try {
    asn1 = forge.asn1.fromDer(bytes.toString("binary"));
  } catch (cause) {
    throw new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      `Cannot read ${what}: it is not a PFX (PKCS#12) file.`,
      {
        cause,
        hint: "Give a PFX (.pfx, .p12) with the certificate and its private key, or PEM text with both.",
      },
    );
  }
  let p12: import("node-forge").pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, password ?? "");
  } catch (cause) {
    const passwordless = !password && withoutPasswordMac(forge, asn1);
    if (!passwordless) throw pfxError(what, password, cause);
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(passwordless, "");
    } catch (again) {
      throw pfxError(what, password, again);
    }
  }
  const certificates: X509Certificate[] = [];
  const keys: KeyObject[] = [];
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag!] ??
    []) {
    if (bag.cert) certificates.push(new X509Certificate(forge.pki.certificateToPem(bag.cert)));
  }
  for (const type of [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!]) {
    for (const bag of p12.getBags({ bagType: type })[type] ?? []) {
      if (bag.key) keys.push(createPrivateKey(forge.pki.privateKeyToPem(bag.key)));
    }
  }
  return { certificates, keys };
}

/** A node of node-forge's ASN.1 tree. */
type Asn1 = import("node-forge").asn1.Asn1;

/** The error for a PFX forge could not open: a wrong or missing password, or a PFX it cannot read. */
function pfxError(what: string, password: string | undefined, cause: unknown): PartnerTokenError {
  const message = (cause as Error)?.message ?? String(cause);
  if (/MAC could not be verified|Invalid password/i.test(message))
    return new PartnerTokenError(
      "ERR_CERTIFICATE_INVALID",
      password
        ? `Cannot open ${what}: the password is wrong.`
        : `Cannot open ${what}: it is protected by a password, and none was given.`,
      {
        cause,
        hint: "Give the PFX password (certificatePassword).",
        option: "certificatePassword",
      },
    );
  return new PartnerTokenError("ERR_CERTIFICATE_INVALID", `Cannot read ${what}: ${message}.`, {
    cause,
    hint: "Export the certificate again as a PFX with its private key (AES-256 or 3DES, SHA-1 or SHA-2 MAC).",
  });
}

/**
 * A PFX exported with no password at all, as .NET does for its certificate store on Linux: its MAC
 * is keyed with an empty password (RFC 7292 B.2: no bytes) where forge, given "", keys it with a
 * BMPString terminator. When the MAC checks out that way, the same PFX without its MAC (now
 * verified) for forge to read with ""; else `undefined`.
 */
function withoutPasswordMac(forge: typeof import("node-forge"), pfx: Asn1): Asn1 | undefined {
  try {
    const [version, authSafe, macData] = pfx.value as Asn1[];
    if (!version || !authSafe || !macData) return undefined;
    const [digestInfo, salt, iterations] = macData.value as Asn1[];
    const [algorithm, digest] = (digestInfo!.value as Asn1[]) ?? [];
    const oid = forge.asn1.derToOid(((algorithm!.value as Asn1[])[0]!.value as string) ?? "");
    const hashes: Record<string, [() => import("node-forge").md.MessageDigest, number]> = {
      [forge.pki.oids.sha1!]: [() => forge.md.sha1.create(), 20],
      [forge.pki.oids.sha256!]: [() => forge.md.sha256.create(), 32],
      [forge.pki.oids.sha384!]: [() => forge.md.sha384.create(), 48],
      [forge.pki.oids.sha512!]: [() => forge.md.sha512.create(), 64],
    };
    const hash = hashes[oid];
    if (!hash) return undefined;
    const md = hash[0]();
    const rounds = iterations ? parseInt(forge.util.bytesToHex(iterations.value as string), 16) : 1;
    if (!(rounds >= 1) || rounds > 10_000_000) return undefined;
    // The authSafe's content: [0] EXPLICIT OCTET STRING (possibly in BER chunks).
    const content = (authSafe.value as Asn1[])[1];
    const octets = (content?.value as Asn1[] | undefined)?.[0];
    if (!octets) return undefined;
    const data = Array.isArray(octets.value)
      ? (octets.value as Asn1[]).map((chunk) => chunk.value).join("")
      : (octets.value as string);
    const key = forge.pkcs12.generateKey(
      null as unknown as string,
      new forge.util.ByteStringBuffer(salt!.value as string),
      3,
      rounds,
      hash[1],
      md,
    );
    const hmac = forge.hmac.create();
    hmac.start(md as unknown as "sha1", key.bytes());
    hmac.update(data);
    if (hmac.digest().bytes() !== (digest!.value as string)) return undefined;
    return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
      version,
      authSafe,
    ]);
  } catch {
    return undefined;
  }
}
