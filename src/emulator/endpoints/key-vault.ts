/**
 * Azure Key Vault's secrets API, as `@azure/keyvault-secrets` speaks it: challenge-based
 * authentication (an anonymous request gets 401 with `WWW-Authenticate: Bearer authorization=…
 * resource=https://vault.azure.net`), then get, set (a new version each time), list, list versions
 * (paged with `nextLink`), delete (soft: kept as a deleted secret), get deleted, recover, purge.
 *
 * Vaults come from the seed (`vaults`). Under `--impersonate` the host `NAME.vault.azure.net`
 * names the vault; on any other host (127.0.0.1) the default vault answers at the emulator's own
 * origin, so the vault URL is the emulator's `url`. A caller needs a token for Key Vault, issued
 * by the vault's tenant, and the permission for the operation in the vault's `access` list;
 * otherwise 401 or 403 in Key Vault's error shape (`{"error":{"code","message"}}`).
 */
import { randomBytes } from "node:crypto";
import type { Emulator } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { decodeJwt, verifyJwtSignature } from "../jwt.ts";
import type { SeedVault, VaultPermission } from "../seed.ts";

const KEY_VAULT_AUDIENCES = [
  "https://vault.azure.net",
  "https://vault.azure.net/",
  "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
];
const NAME = /^[0-9a-zA-Z-]{1,127}$/;
const MAX_VALUE = 25 * 1024;
/** Memory stays bounded whatever a client writes: old versions are dropped, new names refused. */
const MAX_VERSIONS = 200;
const MAX_SECRETS = 1_000;
const PAGE = 25;

class KeyVaultError extends Error {
  readonly status: number;
  readonly code: string;
  readonly inner: string | undefined;
  constructor(status: number, code: string, message: string, inner?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.inner = inner;
  }
}

interface Version {
  id: string;
  value: string;
  contentType: string | undefined;
  tags: Record<string, string> | undefined;
  created: number;
  updated: number;
}

interface Secret {
  versions: Version[];
  deleted?: { deletedDate: number; scheduledPurgeDate: number };
}

type Vault = Map<string, Secret>;

/** Each emulator's vaults, by vault name (state lives beside the emulator, not in it). */
const state = new WeakMap<Emulator, Map<string, Vault>>();

function vaultState(emu: Emulator, name: string): Vault {
  let vaults = state.get(emu);
  if (!vaults) state.set(emu, (vaults = new Map()));
  let vault = vaults.get(name);
  if (!vault) vaults.set(name, (vault = new Map()));
  return vault;
}

/** The vault a request addresses, and the base URL its ids use. */
function vaultOf(emu: Emulator, ctx: Ctx): { seed: SeedVault; base: string } {
  const vaults = emu.directory.seed.vaults;
  const host = (ctx.req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const named = /^([a-z0-9-]+)\.vault\.azure\.net$/.exec(host)?.[1];
  const seed = named
    ? vaults.find((v) => v.name.toLowerCase() === named)
    : (vaults.find((v) => v.name === emu.directory.seed.defaults.vault) ?? vaults[0]);
  if (!seed)
    throw new KeyVaultError(
      404,
      "VaultNotFound",
      named
        ? `No vault named '${named}' in the emulator's seed.`
        : "The emulator's seed has no vault.",
    );
  return { seed, base: named ? `https://${host}` : emu.url };
}

/** 401 with the challenge that starts @azure/keyvault-secrets' authentication. */
function challenge(emu: Emulator, ctx: Ctx, vault: SeedVault, message: string): void {
  const tenant = emu.directory.tenant(vault.tenant)!;
  ctx.note["error"] = "401 Unauthorized";
  sendJson(
    ctx,
    401,
    { error: { code: "Unauthorized", message } },
    {
      "www-authenticate": `Bearer authorization="${emu.url}/${tenant.id}", resource="https://vault.azure.net"`,
    },
  );
}

interface Caller {
  claims: Record<string, unknown>;
  /** What a 403 names: `appid=…;oid=…;iss=…`. */
  label: string;
}

/** The bearer token, checked as Key Vault does; undefined after a 401 has been sent. */
function authenticate(emu: Emulator, ctx: Ctx, vault: SeedVault): Caller | undefined {
  const auth = ctx.req.headers.authorization ?? "";
  if (!/^bearer /i.test(auth)) {
    challenge(emu, ctx, vault, "AKV10000: Request is missing a Bearer or PoP token.");
    return undefined;
  }
  const jwt = decodeJwt(auth.slice(7).trim());
  if (!jwt || jwt.header["kid"] !== emu.key.kid || !verifyJwtSignature(jwt, emu.key.publicKey)) {
    challenge(
      emu,
      ctx,
      vault,
      "AKV10016: Bearer token is not valid: its signature does not verify.",
    );
    return undefined;
  }
  const c = jwt.payload;
  if (typeof c["exp"] !== "number" || c["exp"] < emu.nowSeconds()) {
    challenge(emu, ctx, vault, "AKV10022: Invalid token: the token has expired.");
    return undefined;
  }
  if (!KEY_VAULT_AUDIENCES.includes(String(c["aud"]))) {
    challenge(
      emu,
      ctx,
      vault,
      `AKV10022: Invalid audience. Expected https://vault.azure.net, found: ${String(c["aud"])}.`,
    );
    return undefined;
  }
  const tenant = emu.directory.tenant(vault.tenant)!;
  if (c["tid"] !== tenant.id) {
    challenge(
      emu,
      ctx,
      vault,
      `AKV10032: Invalid issuer. Expected one of ${emu.url}/${tenant.id}/, found: ${String(c["iss"])}.`,
    );
    return undefined;
  }
  const appid = String(c["appid"] ?? c["azp"] ?? "");
  return { claims: c, label: `appid=${appid};oid=${String(c["oid"])};iss=${String(c["iss"])}` };
}

/** The caller's permissions: the user's for a delegated token, the application's for app-only. */
function permitted(caller: Caller, vault: SeedVault, permission: VaultPermission): boolean {
  const c = caller.claims;
  const user = c["idtyp"] === "user" || typeof c["upn"] === "string";
  const names = (
    user ? [c["upn"], c["preferred_username"], c["oid"]] : [c["appid"], c["azp"], c["oid"]]
  )
    .filter((n): n is string => typeof n === "string")
    .map((n) => n.toLowerCase());
  return vault.access.some(
    (a) => names.includes(a.principal.toLowerCase()) && a.permissions.includes(permission),
  );
}

function forbid(caller: Caller, vault: SeedVault, permission: VaultPermission): KeyVaultError {
  return new KeyVaultError(
    403,
    "Forbidden",
    `The user, group or application '${caller.label}' does not have secrets ${permission} permission on key vault '${vault.name};location=emulator'. ` +
      "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
    "AccessDenied",
  );
}

const notFound = (name: string) =>
  new KeyVaultError(
    404,
    "SecretNotFound",
    `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );

function attributes(v: Version) {
  return {
    enabled: true,
    created: v.created,
    updated: v.updated,
    recoveryLevel: "Recoverable+Purgeable",
    recoverableDays: 90,
  };
}

function item(base: string, name: string, v: Version, withVersion: boolean) {
  return {
    id: withVersion ? `${base}/secrets/${name}/${v.id}` : `${base}/secrets/${name}`,
    attributes: attributes(v),
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  };
}

function bundle(base: string, name: string, v: Version) {
  return { value: v.value, ...item(base, name, v, true) };
}

function deletedBundle(base: string, name: string, s: Secret) {
  const latest = s.versions[s.versions.length - 1]!;
  return {
    ...item(base, name, latest, true),
    recoveryId: `${base}/deletedsecrets/${name}`,
    deletedDate: s.deleted!.deletedDate,
    scheduledPurgeDate: s.deleted!.scheduledPurgeDate,
  };
}

/** A page of `items` from `$skiptoken`, with the `nextLink` to the rest. */
function page<T>(ctx: Ctx, base: string, path: string, items: T[]) {
  const max = Math.min(Math.max(Number(ctx.url.searchParams.get("maxresults")) || PAGE, 1), PAGE);
  const skip = Math.max(Number(ctx.url.searchParams.get("$skiptoken")) || 0, 0);
  const value = items.slice(skip, skip + max);
  const more = skip + max < items.length;
  const next = new URL(`${base}${path}`);
  next.searchParams.set("api-version", ctx.url.searchParams.get("api-version")!);
  next.searchParams.set("$skiptoken", String(skip + max));
  next.searchParams.set("maxresults", String(max));
  return { value, nextLink: more ? next.toString() : null };
}

/** Every route under /secrets and /deletedsecrets. */
export function keyVault(emu: Emulator, ctx: Ctx): void {
  let vault: SeedVault | undefined;
  try {
    const found = vaultOf(emu, ctx);
    vault = found.seed;
    const caller = authenticate(emu, ctx, vault);
    if (!caller) return;
    if (
      !/^\d{4}-\d{2}-\d{2}(-preview)?$|^7\.\d+(-preview)?$/.test(
        ctx.url.searchParams.get("api-version") ?? "",
      )
    )
      throw new KeyVaultError(
        400,
        "BadParameter",
        "The 'api-version' query parameter is missing or not valid.",
      );
    route(emu, ctx, vault, found.base, caller);
  } catch (error) {
    if (!(error instanceof KeyVaultError)) throw error;
    ctx.note["error"] = `${error.status} ${error.code}`;
    sendJson(ctx, error.status, {
      error: {
        code: error.code,
        message: error.message,
        ...(error.inner ? { innererror: { code: error.inner } } : {}),
      },
    });
  }
}

function route(emu: Emulator, ctx: Ctx, vault: SeedVault, base: string, caller: Caller): void {
  const secrets = vaultState(emu, vault.name);
  const need = (permission: VaultPermission) => {
    if (!permitted(caller, vault, permission)) throw forbid(caller, vault, permission);
  };
  const parts = ctx.url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [collection, name, third, fourth] = parts;
  if (name !== undefined && !NAME.test(name))
    throw new KeyVaultError(
      400,
      "BadParameter",
      `The secret name '${name}' is not valid: 1 to 127 letters, digits and dashes.`,
    );
  if (name) ctx.note["secret"] = name;
  const now = emu.nowSeconds();
  const live = (n: string): Secret => {
    const s = secrets.get(n);
    if (!s || s.deleted) throw notFound(n);
    return s;
  };
  const m = ctx.method;

  if (collection === "secrets") {
    if (name === undefined && m === "GET") {
      need("list");
      const items = [...secrets.entries()]
        .filter(([, s]) => !s.deleted)
        .map(([n, s]) => item(base, n, s.versions[s.versions.length - 1]!, false));
      return sendJson(ctx, 200, page(ctx, base, "/secrets", items));
    }
    if (name !== undefined && third === undefined && m === "PUT") {
      need("set");
      const body = (ctx.json ?? {}) as Record<string, unknown>;
      if (typeof body["value"] !== "string")
        throw new KeyVaultError(
          400,
          "BadParameter",
          "The request body must have a string 'value'.",
        );
      if (Buffer.byteLength(body["value"]) > MAX_VALUE)
        throw new KeyVaultError(400, "BadParameter", "The secret value is larger than 25 KB.");
      const existing = secrets.get(name);
      if (existing?.deleted)
        throw new KeyVaultError(
          409,
          "Conflict",
          `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          "ObjectIsDeletedButRecoverable",
        );
      const version: Version = {
        id: randomBytes(16).toString("hex"),
        value: body["value"],
        contentType: typeof body["contentType"] === "string" ? body["contentType"] : undefined,
        tags:
          body["tags"] && typeof body["tags"] === "object"
            ? (body["tags"] as Record<string, string>)
            : undefined,
        created: now,
        updated: now,
      };
      if (!existing && secrets.size >= MAX_SECRETS)
        throw new KeyVaultError(
          400,
          "BadParameter",
          `This emulated vault holds at most ${MAX_SECRETS} secrets; delete and purge some first.`,
        );
      if (existing) {
        existing.versions.push(version);
        if (existing.versions.length > MAX_VERSIONS)
          existing.versions.splice(0, existing.versions.length - MAX_VERSIONS);
      } else secrets.set(name, { versions: [version] });
      return sendJson(ctx, 200, bundle(base, name, version));
    }
    if (name !== undefined && third === "versions" && fourth === undefined && m === "GET") {
      need("list");
      const s = live(name);
      return sendJson(
        ctx,
        200,
        page(
          ctx,
          base,
          `/secrets/${name}/versions`,
          s.versions.map((v) => item(base, name, v, true)),
        ),
      );
    }
    if (name !== undefined && fourth === undefined && m === "GET") {
      need("get");
      const s = live(name);
      const v = third ? s.versions.find((x) => x.id === third) : s.versions[s.versions.length - 1];
      if (!v) throw notFound(`${name}/${third}`);
      return sendJson(ctx, 200, bundle(base, name, v));
    }
    if (name !== undefined && third === undefined && m === "DELETE") {
      need("delete");
      const s = live(name);
      s.deleted = { deletedDate: now, scheduledPurgeDate: now + 90 * 86_400 };
      return sendJson(ctx, 200, deletedBundle(base, name, s));
    }
  }
  if (collection === "deletedsecrets" && name !== undefined) {
    const deleted = (): Secret => {
      const s = secrets.get(name);
      if (!s?.deleted)
        throw new KeyVaultError(404, "DeletedSecretNotFound", `Deleted Secret not found: ${name}`);
      return s;
    };
    if (third === undefined && m === "GET") {
      need("list");
      return sendJson(ctx, 200, deletedBundle(base, name, deleted()));
    }
    if (third === undefined && m === "DELETE") {
      need("purge");
      deleted();
      secrets.delete(name);
      ctx.status = 204;
      ctx.res.writeHead(204, { "x-ms-request-id": ctx.requestId });
      ctx.res.end();
      return;
    }
    if (third === "recover" && fourth === undefined && m === "POST") {
      need("recover");
      const s = deleted();
      delete s.deleted;
      return sendJson(ctx, 200, bundle(base, name, s.versions[s.versions.length - 1]!));
    }
  }
  throw new KeyVaultError(
    m === "GET" || m === "PUT" || m === "DELETE" || m === "POST" ? 404 : 405,
    m === "GET" || m === "PUT" || m === "DELETE" || m === "POST" ? "NotFound" : "MethodNotAllowed",
    `No Key Vault operation for ${m} ${ctx.url.pathname}.`,
  );
}
