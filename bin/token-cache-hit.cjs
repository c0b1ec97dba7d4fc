// The cache-hit path of `partner-token token`, synchronous CommonJS: it reads the profile's
// encrypted file and its key file, decrypts once, and prints a cached access token that stays
// valid — without loading the ES-module bundle, which costs more than all of this together.
//
// It owns only the common case and hands everything else to the full CLI (returns false before it
// has written anything): another flag or spelling, `-o table`, a query that is not a bare field
// name, `--cache`/PARTNER_TOKEN_CACHE, a key in the OS keyring, a session of another kind, one
// that needs sign-in or one whose refresh token lives in an external store (the full CLI opens it), any read or decrypt problem, and a token that is not valid for
// --min-validity. What it prints is byte for byte what the full CLI prints for the same case
// (test/session/cache-hit-path.test.ts compares both on the same sessions).
//
// The formats it mirrors: the profile file (src/session/profile-file.ts), the key marker
// (src/session/cache-key.ts), the envelope (src/session/seal.ts), the cache key
// (src/session/broker.ts), the defaults (src/session/paths.ts, src/cli/session-flags.ts) and the
// output (src/cli/output.ts). A change to any of them must change this file too.
"use strict";

const SCHEMA_VERSION = 1;
const DEFAULT_MIN_VALIDITY = 300;
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^\d+(\.\d+)?$/;

// isCaeResource of src/client/claims.ts: Graph and Exchange Online take CAE tokens.
const CAE_RESOURCES = new Set([
  "https://graph.microsoft.com",
  "00000003-0000-0000-c000-000000000000",
  "https://outlook.office365.com",
  "https://outlook.office.com",
  "00000002-0000-0ff1-ce00-000000000000",
]);
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
function isCaeResource(scopes) {
  const scope = scopes.find((s) => !OIDC_SCOPES.has(s.trim().toLowerCase()));
  if (scope === undefined) return false;
  const slash = scope.lastIndexOf("/");
  if (slash < 0) return true;
  return CAE_RESOURCES.has(scope.slice(0, slash).replace(/\/+$/, "").toLowerCase());
}

/** `--name value` / `--name=value` for the few flags this path owns; undefined for anything else. */
function parse(argv) {
  const out = { scopes: [], tenant: undefined, profile: undefined, cacheDir: undefined };
  const once = new Set();
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline;
    if (arg.startsWith("--") && arg.includes("=")) {
      inline = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("-")) return undefined;
      i++;
      return next;
    };
    let name;
    switch (arg) {
      case "--scopes":
      case "--scope": {
        const values = [];
        if (inline !== undefined) values.push(inline);
        else while (i + 1 < argv.length && !argv[i + 1].startsWith("-")) values.push(argv[++i]);
        const split = values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== "");
        if (split.length === 0) return undefined;
        out.scopes.push(...split);
        continue;
      }
      case "--tenant":
      case "--tenant-id":
      case "--domain":
        name = "tenant";
        break;
      case "--profile":
        name = "profile";
        break;
      case "--cache-dir":
        name = "cacheDir";
        break;
      case "--min-validity":
        name = "minValidity";
        break;
      case "-o":
      case "--output":
        name = "output";
        break;
      case "--query":
        name = "query";
        break;
      default:
        return undefined;
    }
    if (once.has(name)) return undefined;
    once.add(name);
    const v = value();
    if (v === undefined) return undefined;
    out[name] = v;
  }
  return out;
}

function defaultCacheDir(env, path, os) {
  if (env.PARTNER_TOKEN_CACHE_DIR) return env.PARTNER_TOKEN_CACHE_DIR;
  if (process.platform === "win32")
    return path.join(
      env.LOCALAPPDATA ?? path.join(os.homedir(), "AppData", "Local"),
      "partner-token",
    );
  if (process.platform === "darwin")
    return path.join(os.homedir(), "Library", "Application Support", "partner-token");
  return path.join(
    env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state"),
    "partner-token",
  );
}

const scalar = (v) =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

function render(value, format) {
  if (format === "none") return "";
  if (format === "json") return JSON.stringify(value ?? null, null, 2);
  // tsv
  if (Array.isArray(value)) return value.map((v) => tsvLine(v)).join("\n");
  return tsvLine(value);
}

function tsvLine(v) {
  if (v !== null && typeof v === "object" && !Array.isArray(v))
    return Object.values(v).map(scalar).join("\t");
  if (Array.isArray(v)) return v.map(scalar).join("\t");
  return scalar(v);
}

/**
 * Prints the cached token and returns true, or returns false having written nothing, so that the
 * full CLI answers.
 */
module.exports = function tokenCacheHit(argv) {
  const env = process.env;
  if (env.PARTNER_TOKEN_CACHE) return false;
  const flags = parse(argv);
  if (!flags) return false;
  const format = (flags.output ?? "json").toLowerCase();
  if (format !== "json" && format !== "tsv" && format !== "none") return false;
  if (flags.query !== undefined && !IDENTIFIER.test(flags.query)) return false;
  if (flags.tenant !== undefined && flags.tenant.trim() === "") return false;
  let minValidity = DEFAULT_MIN_VALIDITY;
  if (flags.minValidity !== undefined) {
    if (!NUMBER.test(flags.minValidity.trim())) return false;
    minValidity = Number(flags.minValidity);
  }
  const profile = flags.profile ?? env.PARTNER_TOKEN_PROFILE ?? "default";
  if (!PROFILE_NAME.test(profile)) return false;

  const fs = require("node:fs");
  const path = require("node:path");
  const os = require("node:os");
  const cacheDir = flags.cacheDir ?? defaultCacheDir(env, path, os);
  let shape;
  let key;
  try {
    const marker = JSON.parse(
      fs.readFileSync(path.join(cacheDir, "profiles", `${profile}.key.json`), "utf8"),
    );
    if (marker.location !== "file" || typeof marker.path !== "string") return false;
    key = Buffer.from(fs.readFileSync(marker.path, "utf8").trim(), "base64");
    if (key.length !== 32) return false;
    shape = JSON.parse(fs.readFileSync(path.join(cacheDir, "profiles", `${profile}.json`), "utf8"));
  } catch {
    return false;
  }
  if (!shape || shape.schema !== SCHEMA_VERSION) return false;
  const sealed = shape.sealed;
  if (
    !sealed ||
    sealed.v !== 1 ||
    sealed.alg !== "A256GCM" ||
    typeof sealed.iv !== "string" ||
    typeof sealed.tag !== "string" ||
    typeof sealed.data !== "string"
  )
    return false;
  let record;
  try {
    const { createDecipheriv } = require("node:crypto");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64url"));
    decipher.setAAD(Buffer.from(`partner-token:profile:${profile}`, "utf8"));
    decipher.setAuthTag(Buffer.from(sealed.tag, "base64url"));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(sealed.data, "base64url")),
      decipher.final(),
    ]);
    record = JSON.parse(plain.toString("utf8"));
  } catch {
    return false;
  }
  if (
    !record ||
    record.schema !== SCHEMA_VERSION ||
    (record.kind !== "user" && record.kind !== "servicePrincipal") ||
    record.signInRequired ||
    record.refreshTokenStore !== undefined ||
    typeof record.clientId !== "string" ||
    !record.environment ||
    typeof record.tokens !== "object" ||
    record.tokens === null
  )
    return false;

  const requested = flags.scopes.length > 0 ? flags.scopes : (record.scopes ?? []);
  const scopes = [...new Set(requested.map((s) => s.trim()).filter((s) => s !== ""))].sort();
  if (scopes.length === 0) return false;
  const tenant = (flags.tenant ?? record.tenantId ?? record.tenant).trim();
  const cacheKey = [
    record.environment.authority ?? record.environment.authorityHost,
    record.clientId.toLowerCase(),
    record.account?.homeAccountId ?? "app",
    tenant.toLowerCase(),
    scopes.join(" "),
    // A user's token for a CAE-capable resource is a CAE token (`--no-cae` goes to the full CLI).
    ...(record.kind === "user" && isCaeResource(scopes) ? ["cae"] : []),
  ].join("|");
  const cached = record.tokens[cacheKey];
  if (!cached || typeof cached.expiresAt !== "number" || !cached.result) return false;
  if (cached.expiresAt - Date.now() < minValidity * 1000) return false;

  let value = cached.result;
  if (flags.query !== undefined)
    value = Object.prototype.hasOwnProperty.call(value, flags.query) ? value[flags.query] : null;
  const text = render(value, format);
  if (text === "") return true;
  const bytes = Buffer.from(text.endsWith("\n") ? text : text + "\n", "utf8");
  let written = 0;
  try {
    written = fs.writeSync(1, bytes);
  } catch (error) {
    if (error.code !== "EAGAIN") throw error;
  }
  if (written < bytes.length) process.stdout.write(bytes.subarray(written));
  return true;
};
