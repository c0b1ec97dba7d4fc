/**
 * The emulator's keys and certificates, created once in its data folder so a user can trust the
 * certificate authority once (NODE_EXTRA_CA_CERTS) and tokens survive a restart:
 *   ca.pem / ca-key.pem          certificate authority (10 years)
 *   server.pem / server-key.pem  TLS certificate for localhost and 127.0.0.1, signed by the CA
 *   server-impersonate.pem       with --impersonate: the same key, certified for Microsoft's
 *                                host names as well (login.microsoftonline.com, *.vault.azure.net…)
 *   signing-key.pem              RS256 token-signing key
 *   app-cert.pem / app-key.pem   the demo application certificate (seed `{ "generated": "demo" }`)
 * Private keys are written atomically with mode 0600 in a 0700 folder.
 */
import {
  constants,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  randomBytes,
  X509Certificate,
} from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import forge from "node-forge";

export interface Pki {
  caFile: string;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  signingKeyPem: string;
  appCertificateFile: string;
  appKeyFile: string;
  appCertificatePem: string;
}

function writePrivate(path: string, content: string): void {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function newKeyPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

interface CertOptions {
  subject: string;
  issuer?: { cert: forge.pki.Certificate; keyPem: string };
  keyPem: string;
  years: number;
  ca?: boolean;
  server?: boolean;
  /** DNS names beyond localhost on a server certificate. */
  dnsNames?: string[];
}

function makeCert(o: CertOptions): string {
  const cert = forge.pki.createCertificate();
  const publicPem = createPublicKey(o.keyPem).export({ type: "spki", format: "pem" }) as string;
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = "01" + randomBytes(15).toString("hex");
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(now + o.years * 365 * 24 * 3600 * 1000);
  const subject = [
    { name: "commonName", value: o.subject },
    { name: "organizationName", value: "partner-token emulator" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : subject);
  const extensions: object[] = [{ name: "subjectKeyIdentifier" }];
  if (o.ca) {
    extensions.push({ name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true });
    extensions.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push({ name: "basicConstraints", cA: false });
    extensions.push({
      name: "keyUsage",
      digitalSignature: true,
      keyEncipherment: true,
      critical: true,
    });
  }
  if (o.server) {
    extensions.push({ name: "extKeyUsage", serverAuth: true });
    extensions.push({
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        ...(o.dnsNames ?? []).map((value) => ({ type: 2, value })),
        { type: 7, ip: "127.0.0.1" },
        { type: 7, ip: "::1" },
      ],
    });
  }
  if (o.issuer)
    extensions.push({
      name: "authorityKeyIdentifier",
      keyIdentifier: o.issuer.cert.generateSubjectKeyIdentifier().getBytes(),
    });
  cert.setExtensions(extensions);
  cert.sign(nodeSigner(o.issuer?.keyPem ?? o.keyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** DER of DigestInfo's head for SHA-256 (RFC 8017 §9.2): the 32-byte digest follows. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/**
 * The signer forge's `cert.sign` calls with the SHA-256 of the TBSCertificate: RSASSA-PKCS1-v1_5
 * (the same, deterministic, signature forge's own RSA would give) made by node:crypto, since
 * forge's RSA in JavaScript took most of an emulator's first start.
 */
function nodeSigner(keyPem: string): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey(keyPem);
  const sign = (md: forge.md.MessageDigest): string => {
    if (md.algorithm !== "sha256") throw new Error(`pki: no DigestInfo for ${md.algorithm}`);
    const digest = Buffer.from(md.digest().getBytes(), "binary");
    return privateEncrypt(
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    ).toString("binary");
  };
  return { sign } as unknown as forge.pki.rsa.PrivateKey;
}

/**
 * Loads the PKI from `dataDir`, creating whatever is missing (or expired). With `impersonate`,
 * the server certificate names these hosts too (server-impersonate.pem).
 */
export function ensurePki(dataDir: string, impersonate?: string[]): Pki {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch {
    // Windows, or a folder we do not own: the files themselves are still 0600.
  }
  const file = (name: string) => join(dataDir, name);
  const valid = (name: string) => {
    if (!existsSync(file(name))) return false;
    try {
      return (
        new Date(new X509Certificate(readFileSync(file(name))).validTo).getTime() >
        Date.now() + 86400_000
      );
    } catch {
      return false;
    }
  };
  const keyAt = (name: string) => {
    if (!existsSync(file(name))) writePrivate(file(name), newKeyPem());
    return readFileSync(file(name), "utf8");
  };

  let caFresh = false;
  const caKeyPem = keyAt("ca-key.pem");
  if (!valid("ca.pem")) {
    writePrivate(
      file("ca.pem"),
      makeCert({ subject: "partner-token emulator CA", keyPem: caKeyPem, years: 10, ca: true }),
    );
    caFresh = true;
  }
  const caPem = readFileSync(file("ca.pem"), "utf8");

  const serverKeyPem = keyAt("server-key.pem");
  const issuedByCa = (name: string) => {
    try {
      return new X509Certificate(readFileSync(file(name))).checkIssued(new X509Certificate(caPem));
    } catch {
      return false;
    }
  };
  if (caFresh || !valid("server.pem") || !issuedByCa("server.pem")) {
    const issuer = { cert: forge.pki.certificateFromPem(caPem), keyPem: caKeyPem };
    writePrivate(
      file("server.pem"),
      makeCert({ subject: "localhost", issuer, keyPem: serverKeyPem, years: 1, server: true }),
    );
  }
  let serverFile = "server.pem";
  if (impersonate) {
    serverFile = "server-impersonate.pem";
    const namesAll = () => {
      try {
        const cert = new X509Certificate(readFileSync(file(serverFile)));
        return impersonate.every((n) => (cert.subjectAltName ?? "").includes(`DNS:${n}`));
      } catch {
        return false;
      }
    };
    if (caFresh || !valid(serverFile) || !issuedByCa(serverFile) || !namesAll()) {
      const issuer = { cert: forge.pki.certificateFromPem(caPem), keyPem: caKeyPem };
      writePrivate(
        file(serverFile),
        makeCert({
          subject: impersonate[0] ?? "localhost",
          issuer,
          keyPem: serverKeyPem,
          years: 1,
          server: true,
          dnsNames: impersonate,
        }),
      );
    }
  }

  const signingKeyPem = keyAt("signing-key.pem");
  const appKeyPem = keyAt("app-key.pem");
  if (!valid("app-cert.pem"))
    writePrivate(
      file("app-cert.pem"),
      makeCert({ subject: "partner-token emulator demo app", keyPem: appKeyPem, years: 2 }),
    );

  return {
    caFile: file("ca.pem"),
    caPem,
    serverCertPem: readFileSync(file(serverFile), "utf8"),
    serverKeyPem,
    signingKeyPem,
    appCertificateFile: file("app-cert.pem"),
    appKeyFile: file("app-key.pem"),
    appCertificatePem: readFileSync(file("app-cert.pem"), "utf8"),
  };
}

/** SHA-1 and SHA-256 thumbprints of a PEM certificate, as hex (upper case, as Windows shows them). */
export function thumbprints(pem: string): { sha1: string; sha256: string } {
  const der = new X509Certificate(pem).raw;
  return {
    sha1: createHash("sha1").update(der).digest("hex").toUpperCase(),
    sha256: createHash("sha256").update(der).digest("hex").toUpperCase(),
  };
}
