/**
 * `partner-token app create|rotate-secret`: the partner's Secure Application Model app made (or
 * brought in line) through Graph by a signed-in partner admin, its secret kept in a store and
 * rotated with no job seeing a refused secret. The work is `src/app-setup/`'s.
 */
import type { CredentialHolder } from "../../app-setup/credentials.ts";
import type { AppGraph } from "../../app-setup/graph-app.ts";
import type { ClientOptions } from "../../client/types.ts";
import type { RefreshTokenStore } from "../../session/types.ts";
import {
  formatFlags,
  getBoolean,
  getList,
  getString,
  type FlagSpec,
  type ParsedArgs,
} from "../args.ts";
import {
  debugFlag,
  helpFlag,
  timeoutFlag,
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
} from "../command.ts";
import { isCredentialStoreUri } from "../../session/store-reader.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { addSecret, progress } from "../redact.ts";
import { profileFlags, sessionOptionsOf } from "../session-flags.ts";
import {
  authorityHostFlag,
  caFileFlag,
  environmentFlag,
  signInPlaceOf,
  signInOptionsOf,
  tenantFlag,
  withHelp,
} from "../sign-in-flags.ts";
import { usageError } from "../usage-error.ts";

const common: FlagSpec[] = [
  ...profileFlags,
  withHelp(
    caFileFlag,
    "extra certificate authority to trust for a keyvault: store [env PARTNER_TOKEN_CA_FILE]",
  ),
  ...outputFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
];

const secretStoreFlag: FlagSpec = {
  name: "secret-store",
  kind: "string",
  valueName: "uri",
  help: "where the client secret is written: file:PATH, keyring:NAME, keyvault:https://VAULT.vault.azure.net/secrets/NAME or redis://HOST:PORT#KEY (with PARTNER_TOKEN_ENCRYPTION_KEY)",
};
const lifetimeFlag: FlagSpec = {
  name: "secret-lifetime",
  kind: "string",
  valueName: "days",
  help: "days until the new secret expires (default 180)",
};

export const createFlags: FlagSpec[] = [
  {
    name: "name",
    kind: "string",
    valueName: "display-name",
    help: "the app's display name (found by it, else made)",
  },
  {
    name: "permission",
    kind: "list",
    valueName: "resource=name,…",
    help: "more delegated permissions: RESOURCE=Name,Name, RESOURCE an application id, graph or partnercenter (repeatable)",
  },
  secretStoreFlag,
  lifetimeFlag,
  {
    name: "certificate",
    kind: "boolean",
    help: "a self-signed certificate instead of a secret (its PFX in --certificate-path, or its base64 in --secret-store or a store URI), added by PATCH keyCredentials",
  },
  {
    name: "certificate-path",
    kind: "string",
    valueName: "file.pfx",
    help: "with --certificate: where its PFX is written (0600, empty password); kept when it holds one of the app's certificates",
  },
  {
    name: "refresh-token-store",
    kind: "string",
    valueName: "uri",
    help: "after the app is made, sign in with it (App + User) and write the refresh token here",
  },
  {
    name: "use-device-authentication",
    aliases: ["device-code", "UseDeviceAuthentication"],
    kind: "boolean",
    help: "sign in with a device code instead of the browser (the admin's sign-in, when the profile has none, and the App + User one)",
  },
  {
    name: "no-browser",
    kind: "boolean",
    help: "print the sign-in address instead of opening a browser",
  },
  withHelp(
    environmentFlag,
    "with no session in the profile: the cloud the partner admin signs in to (AzureCloud by default, …, Emulator)",
  ),
  withHelp(
    authorityHostFlag,
    "with no session in the profile: a custom login host, e.g. the emulator's URL [env AZURE_AUTHORITY_HOST]",
  ),
  withHelp(
    tenantFlag,
    "with no session in the profile: the partner tenant the admin signs in to (default organizations)",
  ),
  ...common,
];

/** `--grace-seconds` of both rotations: how long the old credential outlives the new one's write. */
function graceFlag(what: string): FlagSpec {
  return {
    name: "grace-seconds",
    kind: "string",
    valueName: "s",
    help: `how long jobs may still use the old ${what} after the new one is stored (default 60)`,
  };
}

export const rotateFlags: FlagSpec[] = [
  { name: "application-id", kind: "string", valueName: "id", help: "the app's client id" },
  secretStoreFlag,
  lifetimeFlag,
  {
    name: "keep-old",
    kind: "boolean",
    help: "keep the old secret (default: removed once the new one is proven)",
  },
  graceFlag("secret"),
  ...common,
];

export const rotateCertificateFlags: FlagSpec[] = [
  { name: "application-id", kind: "string", valueName: "id", help: "the app's client id" },
  {
    name: "certificate-path",
    kind: "string",
    valueName: "file.pfx",
    help: "the PFX file the jobs read (--certificate-path): the new certificate is written there (0600, empty password); or a store URI, given the PFX's base64",
  },
  {
    name: "certificate-lifetime",
    kind: "string",
    valueName: "days",
    help: "days until the new certificate expires (default 180)",
  },
  {
    name: "keep-old",
    kind: "boolean",
    help: "keep the old certificate (default: removed once the new one is proven)",
  },
  graceFlag("certificate"),
  ...common,
];

export const credentialsFlags: FlagSpec[] = [
  {
    name: "application-id",
    kind: "string",
    valueName: "id",
    help: "the app's client id (default: the session's own app, its secret or certificate the one in use)",
  },
  {
    name: "secret-store",
    kind: "string",
    valueName: "uri",
    help: "the store the jobs read the secret from: tells which secret is in use (never printed)",
  },
  {
    name: "warn-days",
    kind: "string",
    valueName: "days",
    help: "exit 3 when the credential in use (or, when none is known to be, any) expires within this many days (default 30)",
  },
  ...common,
];

const usage =
  "Usage: partner-token app create|rotate-secret|rotate-certificate|credentials [options]";

const help = (): string => `partner-token app — the partner's Secure Application Model app

Examples:
  # signs the partner admin in first when the profile has no session (kept for the next run)
  partner-token app create --name "Contoso partner-token" \\
      --secret-store keyvault:https://contoso-kv.vault.azure.net/secrets/sam-secret \\
      --refresh-token-store keyvault:https://contoso-kv.vault.azure.net/secrets/sam-rt
  partner-token app rotate-secret --application-id APP_ID \\
      --secret-store keyvault:https://contoso-kv.vault.azure.net/secrets/sam-secret
  partner-token app rotate-certificate --application-id APP_ID --certificate-path /etc/pt/app.pfx
  partner-token app credentials --application-id APP_ID --warn-days 30 -o table

${usage}

app create   makes (or, when an app of that --name exists, brings in line) a multi-tenant app
             with the redirect URI http://localhost (every loopback port), the delegated
             permissions partner-token needs (Partner Center user_impersonation; Graph
             Directory.Read.All, DelegatedAdminRelationship.Read.All, Application.ReadWrite.All,
             DelegatedPermissionGrant.ReadWrite.All) plus --permission, its service principal,
             and admin consent in the partner tenant. With --secret-store, a client secret
             (unless the store already holds one of the app's secrets), proven with a token.
             With --certificate, a self-signed certificate instead (added by PATCH, its PFX in
             --certificate-path, or its base64 in --secret-store or a store URI given as
             --certificate-path; kept when it holds one of the app's certificates).
             With --refresh-token-store, the App + User sign-in with the app (unless the store
             holds a refresh token already). Run twice, the second run changes nothing.
             Prints applicationId, objectId, servicePrincipalId, redirectUris, permissions,
             secretStore, refreshTokenStore and changed — never the secret.
app rotate-secret
             adds a secret, proves it with a token (waiting out Entra's replication), writes it
             to --secret-store, then (after --grace-seconds) removes the secret the store held
             before, unless --keep-old. If proving or writing fails, the new secret is removed
             and the store keeps the old one: exit 1 with the reason, the old secret working.
app rotate-certificate
             makes a self-signed certificate (RSA 2048, --certificate-lifetime days), adds it to
             the app's keyCredentials (the others kept), proves it with a token, writes its PFX
             to --certificate-path (empty password, 0600; the first certificate too when the file
             does not exist), then (after --grace-seconds) removes the certificate the file held
             before, unless --keep-old. If proving or writing fails, the new certificate is
             removed and the file left as it was: exit 1 with the reason.
app credentials
             the app's secrets and certificates with their expiry (days left), through Graph;
             the one in use marked when --secret-store says which, or, for the session's own app
             (the default without --application-id), the one the session renews with. Exit 3
             when it (or, when none is known to be in use, any) expires within --warn-days
             (default 30).

The signed-in session (--profile) must be a partner admin's (Global Administrator, Application
Administrator or Cloud Application Administrator) with Graph's Application.ReadWrite.All and
DelegatedPermissionGrant.ReadWrite.All (the default app, Azure CLI's, has them). When the profile
has no session, app create makes it first, as 'partner-token connect' would: the admin signs in
with Azure CLI's app in the browser (or with --use-device-authentication, a device code), in
--environment / --authority-host / --tenant; the other subcommands ask for 'connect'.

Options of app create:
${formatFlags(createFlags)}

Options of app rotate-secret:
${formatFlags(rotateFlags)}

Options of app rotate-certificate:
${formatFlags(rotateCertificateFlags)}

Options of app credentials:
${formatFlags(credentialsFlags)}

Exit codes: 0 ok, 1 error (Graph refused, the store refused, the rotation undone), 2 usage,
3 a credential expires within --warn-days (app credentials), 4 sign-in needed, 130 cancelled.
`;

/** Every flag of the subcommands, once (the completion model reads it). */
export const flags: FlagSpec[] = [
  ...createFlags,
  ...[...rotateFlags, ...rotateCertificateFlags, ...credentialsFlags].filter(
    (f, i, all) =>
      !createFlags.some((c) => c.name === f.name) && all.findIndex((x) => x.name === f.name) === i,
  ),
];

/** Each subcommand's flags, as `partner-token completion` offers them. */
export const subcommands = {
  create: createFlags,
  "rotate-secret": rotateFlags,
  "rotate-certificate": rotateCertificateFlags,
  credentials: credentialsFlags,
};

function positiveDays(args: ParsedArgs, name: string, fallback: number): number {
  const text = getString(args, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > 3650)
    throw usageError(`--${name}: a number of days from 1 to 3650, not '${text}'.`);
  return n;
}

/**
 * The admin's Graph client over the profile's session, and the session's environment. With
 * `signIn` (app create), a profile with no session first gets one: the partner admin signs in
 * with the default app (Azure CLI's) in the browser or with a device code, and the session is
 * kept for the next run, as `connect` would.
 */
async function adminGraph(args: ParsedArgs, clientOptions: ClientOptions, signIn = false) {
  const { openPartnerSource } = await import("../partner-center-source.ts");
  // --refresh-token-store is where the new app's refresh token goes, not the admin's source.
  const sessionArgs: ParsedArgs = { ...args, values: new Map(args.values) };
  sessionArgs.values.delete("refresh-token-store");
  // --certificate-path is where the app's new certificate goes, not how the admin signs in.
  sessionArgs.values.delete("certificate-path");
  const open = () => openPartnerSource(sessionArgs, clientOptions);
  const partner = await open().catch(async (error: unknown) => {
    if (!signIn || (error as { code?: string }).code !== "ERR_NO_SESSION") throw error;
    await signInAdmin(args, clientOptions);
    return open();
  });
  const { GraphClient } = await import("../../graph/client.ts");
  const graph = new GraphClient({
    source: partner.source,
    endpoint: partner.graphEndpoint,
    resource: partner.graphResource,
    ...(partner.caFile ? { caFile: partner.caFile } : {}),
    ...(clientOptions.signal ? { signal: clientOptions.signal } : {}),
    ...(clientOptions.debug ? { debug: clientOptions.debug } : {}),
  });
  const info = (partner.source as { info?: { environment?: Environment; tenantId?: string } }).info;
  if (!info?.environment)
    throw usageError("app needs a partner admin's session: run 'partner-token connect' first.");
  return { graph, partner, environment: info.environment, tenant: info.tenantId };
}

/** The partner admin's sign-in into the profile, when it has no session: `connect` with the default app. */
async function signInAdmin(args: ParsedArgs, clientOptions: ClientOptions): Promise<void> {
  const device = getBoolean(args, "use-device-authentication");
  const tenant = getString(args, "tenant");
  const options = sessionOptionsOf(args, { ...clientOptions, ...signInOptionsOf(args) });
  progress(
    `No session in profile '${options.profile ?? "default"}': sign in as a partner admin (Global Administrator or Application Administrator)${device ? " with the device code below" : " in the browser"}. The session is kept for the next run.`,
  );
  const { connectSession } = await import("../../session/session.ts");
  const { session } = await connectSession(
    {
      ...signInPlaceOf(args),
      ...(tenant ? { tenant } : {}),
      ...(device ? { useDeviceAuthentication: true } : {}),
    },
    options,
  );
  const info = session.info;
  progress(
    `Signed in as ${info.account ?? "the partner admin"} (tenant ${info.tenantId ?? info.tenant}, ${info.environment.name}).`,
  );
}

interface Environment {
  name: string;
  authorityHost: string;
  partnerCenterEndpoint: string;
  caFile: string | null;
}

/** Where a flow signs in: the session's environment. */
function flowBase(env: Environment) {
  return env.name === "Custom" || env.name === "Emulator"
    ? { authorityHost: env.authorityHost, ...(env.caFile ? { caFile: env.caFile } : {}) }
    : { environment: env.name, ...(env.caFile ? { caFile: env.caFile } : {}) };
}

/** A token with the secret (client credentials, Graph, the app's home tenant): proof that it works. */
function proveWith(
  env: Environment,
  tenant: string,
  appId: string,
  graphResource: string,
  options: ClientOptions,
) {
  return async (secret: string) => {
    const { acquireTokenByClientCredentials } = await import("../../client/client-credentials.ts");
    await acquireTokenByClientCredentials(
      {
        ...flowBase(env),
        clientId: appId,
        clientSecret: secret,
        tenant,
        scopes: [`${graphResource}/.default`],
      },
      options,
    );
  };
}

async function homeTenantOf(graph: AppGraph): Promise<string> {
  const org = await graph.request<{ value?: { id?: string }[] }>({
    path: "/v1.0/organization?$select=id",
  });
  const id = org?.value?.[0]?.id;
  if (typeof id !== "string") throw usageError("Graph did not say which tenant the session is in.");
  return id;
}

const RESOURCE_ALIASES: Record<string, string> = {
  graph: "00000003-0000-0000-c000-000000000000",
  partnercenter: "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
};

/**
 * `--permission` values, split at commas by the parser: `RESOURCE=Name` starts a resource (an
 * application id, or `graph`/`partnercenter`), a bare `Name` adds to the one before.
 */
export function parsePermissions(items: string[]): { resourceAppId: string; scopes: string[] }[] {
  const out: { resourceAppId: string; scopes: string[] }[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) {
      const last = out[out.length - 1];
      if (!last)
        throw usageError(
          `--permission: write RESOURCE=Name,Name (RESOURCE an application id, graph or partnercenter), not '${item}'.`,
        );
      last.scopes.push(item);
      continue;
    }
    const resource = item.slice(0, eq).trim();
    const id = RESOURCE_ALIASES[resource.toLowerCase()] ?? resource;
    if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id))
      throw usageError(
        `--permission: '${resource}' is not an application id (a GUID), graph or partnercenter.`,
      );
    const name = item.slice(eq + 1).trim();
    if (name === "") throw usageError(`--permission: no permission name after '${resource}='.`);
    out.push({ resourceAppId: id.toLowerCase(), scopes: [name] });
  }
  return out;
}

async function create(
  args: ParsedArgs,
  clientOptions: ClientOptions,
): Promise<Record<string, unknown>> {
  const name = getString(args, "name");
  if (!name || name.trim() === "")
    throw usageError("app create needs --name: the app's display name.");
  const lifetimeDays = positiveDays(args, "secret-lifetime", 180);
  const secretUri = getString(args, "secret-store");
  const rtUri = getString(args, "refresh-token-store");
  const { parseStoreUri } = await import("../../stores/index.ts");
  if (secretUri) parseStoreUri(secretUri, "--secret-store");
  if (rtUri) parseStoreUri(rtUri, "--refresh-token-store");
  const certificate = getBoolean(args, "certificate");
  const certPath = getString(args, "certificate-path");
  // With --certificate, the PFX goes to --certificate-path (a file or a store URI) or, as the
  // secret would, to --secret-store (its base64, as Key Vault keeps certificates).
  const certStoreUri = certificate
    ? (secretUri ?? (isCredentialStoreUri(certPath) ? certPath : undefined))
    : undefined;
  if (certificate && secretUri && certPath)
    throw usageError(
      "--certificate writes its PFX to --certificate-path or to --secret-store: give one of them.",
    );
  if (certStoreUri && certStoreUri === certPath) parseStoreUri(certStoreUri, "--certificate-path");
  if (certificate && !certStoreUri && (!certPath || !/\.(pfx|p12)$/i.test(certPath)))
    throw usageError(
      "--certificate needs --certificate-path FILE.pfx (or a store URI, or --secret-store URI): where its PFX is written.",
    );
  if (certPath && !certificate)
    throw usageError("--certificate-path goes with --certificate in app create.");
  if (rtUri && !secretUri && !certificate)
    throw usageError(
      "--refresh-token-store needs --secret-store (or --certificate): the App + User sign-in uses the app's secret.",
    );
  const setup = await import("../../app-setup/index.ts");
  const extra = parsePermissions(getList(args, "permission") ?? []);
  const permissions = [...setup.DEFAULT_PERMISSIONS];
  for (const e of extra) {
    const same = permissions.findIndex(
      (p) => p.resourceAppId.toLowerCase() === e.resourceAppId.toLowerCase(),
    );
    if (same >= 0)
      permissions[same] = {
        ...permissions[same]!,
        scopes: [...new Set([...permissions[same]!.scopes, ...e.scopes])],
      };
    else permissions.push(e);
  }
  const { graph, partner, environment } = await adminGraph(args, clientOptions, true);
  const opened: RefreshTokenStore[] = [];
  try {
    const made = await setup.ensureApp({ graph, displayName: name, permissions, log: progress });
    const changes = [...made.changes];
    const tenant = await homeTenantOf(graph);
    let secret: string | undefined;
    if (secretUri && !certificate) {
      const store = await openStore(args, secretUri, opened);
      const held = await store.read();
      const known = (made.application.passwordCredentials ?? []).some(
        (c) => held && c.hint === held.token.slice(0, 3),
      );
      if (held && known) {
        secret = held.token;
        addSecret(secret);
      } else {
        const added = await setup.addPassword(graph, made.objectId, {
          displayName: `partner-token ${new Date().toISOString().slice(0, 10)}`,
          endDateTime: new Date(Date.now() + lifetimeDays * 86_400_000).toISOString(),
        });
        addSecret(added.secretText);
        try {
          // Proven before it is stored: a job reading the store must never get a secret Entra
          // has not replicated yet.
          await setup.waitForReplication(
            () =>
              proveWith(
                environment,
                tenant,
                made.applicationId,
                partner.graphResource,
                clientOptions,
              )(added.secretText),
            setup.isCredentialLag,
            { log: progress, what: "the new secret" },
          );
          await store.write(added.secretText);
        } catch (error) {
          // A write that failed may have landed: the store must not keep a secret the app lost.
          const landed = await store.read().then(
            (held) => held?.token === added.secretText,
            () => true,
          );
          if (!landed)
            await setup.removePassword(graph, made.objectId, added.keyId).catch(() => {});
          throw error;
        }
        secret = added.secretText;
        changes.push(`client secret ${added.keyId} in ${store.description}`);
      }
    }
    let pfxPath: string | undefined;
    let pfxStore: RefreshTokenStore | undefined;
    if (certificate) {
      const rc = await import("../../app-setup/rotate-certificate.ts");
      let held: string | null;
      if (certStoreUri) {
        pfxStore = await openStore(args, certStoreUri, opened);
        const stored = await pfxStore.read();
        held = stored ? await rc.thumbprintOfPfx(Buffer.from(stored.token, "base64")) : null;
      } else {
        const { resolve } = await import("node:path");
        pfxPath = resolve(certPath!);
        held = await rc.thumbprintOfPfxFile(pfxPath);
      }
      const known =
        held !== null &&
        (made.application.keyCredentials ?? []).some((k) => rc.keyThumbprint(k) === held);
      if (!known) {
        const added = await rc.rotateCertificate({
          graph,
          applicationId: made.applicationId,
          path: pfxStore?.description ?? pfxPath!,
          ...(pfxStore ? { store: pfxStore } : {}),
          prove: async (file) => {
            const { acquireTokenByClientCredentials } =
              await import("../../client/client-credentials.ts");
            await acquireTokenByClientCredentials(
              {
                ...flowBase(environment),
                clientId: made.applicationId,
                certificate: { path: file },
                tenant,
                scopes: [`${partner.graphResource}/.default`],
              },
              clientOptions,
            );
          },
          keepOld: true,
          lifetimeDays,
          log: progress,
        });
        changes.push(`certificate ${added.thumbprint} in ${pfxStore?.description ?? pfxPath}`);
      }
    }
    if (rtUri && (secret || certificate)) {
      const store = await openStore(args, rtUri, opened);
      if (!(await store.read())) {
        const { partnerCenterResource } = await import("../../session/broker.ts");
        const device = getBoolean(args, "use-device-authentication");
        const request = {
          ...flowBase(environment),
          clientId: made.applicationId,
          ...(secret
            ? { clientSecret: secret }
            : pfxStore
              ? {
                  certificate: {
                    read: async () => (await pfxStore!.read())?.token ?? "",
                    description: pfxStore.description,
                  },
                }
              : { certificate: { path: pfxPath! } }),
          scopes: [`${partnerCenterResource(environment)}/user_impersonation`, "offline_access"],
          tenant,
        };
        const options = { ...clientOptions, log: progress };
        const result = await setup.waitForReplication(
          async () =>
            device
              ? (await import("../../client/device-code.ts")).acquireTokenByDeviceCode(
                  request,
                  options,
                )
              : (
                  await import("../../client/authorization-code.ts")
                ).acquireTokenByAuthorizationCode(request, options),
          setup.isCredentialLag,
          { log: progress, what: "the new app" },
        );
        if (!result.refreshToken) throw usageError("the sign-in gave no refresh token.");
        await store.write(result.refreshToken);
        changes.push(`refresh token in ${store.description}`);
      }
    }
    for (const c of changes) progress(`Changed: ${c}`);
    if (changes.length === 0) progress("Nothing to change: the app is as it should be.");
    return {
      applicationId: made.applicationId,
      objectId: made.objectId,
      servicePrincipalId: made.servicePrincipalId,
      tenantId: tenant,
      redirectUris: made.redirectUris,
      permissions: made.permissions,
      secretStore: secretUri ?? null,
      ...(pfxPath ? { certificatePath: pfxPath } : {}),
      ...(pfxStore ? { certificateStore: pfxStore.description } : {}),
      refreshTokenStore: rtUri ?? null,
      changed: changes.length > 0,
      changes,
    };
  } finally {
    await closeStores(opened);
    await partner.close();
  }
}

/**
 * Opens the store `uri` and adds it to `opened`, which the subcommand's `finally` hands to
 * {@link closeStores}: a store left open (a Redis connection) would keep the process running.
 */
async function openStore(
  args: ParsedArgs,
  uri: string,
  opened: RefreshTokenStore[],
): Promise<RefreshTokenStore> {
  const { openStoreFromArgs } = await import("../store-flags.ts");
  const store = await openStoreFromArgs(args, uri);
  opened.push(store);
  return store;
}

/** Closes what {@link openStore} opened; a store that fails to close does not hide the result. */
async function closeStores(opened: RefreshTokenStore[]): Promise<void> {
  await Promise.all(opened.map((store) => store.close?.().catch(() => undefined)));
}

/** `--grace-seconds`: whole seconds from 0 to 3600, default 60. */
function graceSeconds(args: ParsedArgs): number {
  const text = getString(args, "grace-seconds");
  const grace = text === undefined ? 60 : Number(text);
  if (text !== undefined && (!/^\d+$/.test(text) || grace > 3600))
    throw usageError(`--grace-seconds: whole seconds from 0 to 3600, not '${text}'.`);
  return grace;
}

async function rotate(
  args: ParsedArgs,
  clientOptions: ClientOptions,
): Promise<Record<string, unknown>> {
  const applicationId = getString(args, "application-id");
  if (!applicationId || !/^[0-9a-fA-F-]{36}$/.test(applicationId))
    throw usageError("app rotate-secret needs --application-id: the app's client id (a GUID).");
  const secretUri = getString(args, "secret-store");
  if (!secretUri)
    throw usageError("app rotate-secret needs --secret-store: where the jobs read the secret.");
  const { parseStoreUri } = await import("../../stores/index.ts");
  parseStoreUri(secretUri, "--secret-store");
  const lifetimeDays = positiveDays(args, "secret-lifetime", 180);
  const grace = graceSeconds(args);
  const { graph, partner, environment } = await adminGraph(args, clientOptions);
  const opened: RefreshTokenStore[] = [];
  try {
    const store = await openStore(args, secretUri, opened);
    const tenant = await homeTenantOf(graph);
    const { rotateSecret } = await import("../../app-setup/rotate-secret.ts");
    const result = await rotateSecret({
      graph,
      applicationId,
      store,
      prove: proveWith(environment, tenant, applicationId, partner.graphResource, clientOptions),
      keepOld: getBoolean(args, "keep-old"),
      lifetimeDays,
      graceMs: grace * 1000,
      log: progress,
      onSecret: addSecret,
    });
    return { ...result };
  } finally {
    await closeStores(opened);
    await partner.close();
  }
}

async function rotateCert(
  args: ParsedArgs,
  clientOptions: ClientOptions,
): Promise<Record<string, unknown>> {
  const applicationId = getString(args, "application-id");
  if (!applicationId || !/^[0-9a-fA-F-]{36}$/.test(applicationId))
    throw usageError(
      "app rotate-certificate needs --application-id: the app's client id (a GUID).",
    );
  const path = getString(args, "certificate-path");
  const inStore = isCredentialStoreUri(path);
  if (!path || (!inStore && !/\.(pfx|p12)$/i.test(path)))
    throw usageError(
      "app rotate-certificate needs --certificate-path FILE.pfx (or a store URI): where the jobs read the certificate.",
    );
  const lifetimeDays = positiveDays(args, "certificate-lifetime", 180);
  const grace = graceSeconds(args);
  const { resolve } = await import("node:path");
  const file = inStore ? path : resolve(path);
  if (inStore) (await import("../../stores/index.ts")).parseStoreUri(path, "--certificate-path");
  const { graph, partner, environment } = await adminGraph(args, clientOptions);
  const opened: RefreshTokenStore[] = [];
  try {
    const store = inStore ? await openStore(args, path, opened) : undefined;
    const tenant = await homeTenantOf(graph);
    const { rotateCertificate } = await import("../../app-setup/rotate-certificate.ts");
    const result = await rotateCertificate({
      graph,
      applicationId,
      path: file,
      ...(store ? { store } : {}),
      prove: async (pfx) => {
        const { acquireTokenByClientCredentials } =
          await import("../../client/client-credentials.ts");
        await acquireTokenByClientCredentials(
          {
            ...flowBase(environment),
            clientId: applicationId,
            // The new certificate's private copy: it is proven before it reaches the store.
            certificate: { path: pfx },
            tenant,
            scopes: [`${partner.graphResource}/.default`],
          },
          clientOptions,
        );
      },
      keepOld: getBoolean(args, "keep-old"),
      lifetimeDays,
      graceMs: grace * 1000,
      log: progress,
    });
    return { ...result };
  } finally {
    await closeStores(opened);
    await partner.close();
  }
}

async function credentials(
  args: ParsedArgs,
  clientOptions: ClientOptions,
): Promise<{ result: Record<string, unknown>; expiring: boolean }> {
  const given = getString(args, "application-id");
  if (given !== undefined && !/^[0-9a-fA-F-]{36}$/.test(given))
    throw usageError("--application-id: the app's client id (a GUID).");
  const warnText = getString(args, "warn-days");
  const warnDays = warnText === undefined ? 30 : Number(warnText);
  if (warnText !== undefined && (!/^\d+$/.test(warnText) || warnDays > 3650))
    throw usageError(`--warn-days: whole days from 0 to 3650, not '${warnText}'.`);
  const secretUri = getString(args, "secret-store");
  const { graph, partner } = await adminGraph(args, clientOptions);
  const opened: RefreshTokenStore[] = [];
  try {
    const applicationId = given ?? partner.applicationId;
    let secret: string | undefined;
    let thumbprint: string | undefined;
    if (secretUri) {
      const store = await openStore(args, secretUri, opened);
      secret = (await store.read())?.token;
      if (secret === undefined)
        throw usageError(`--secret-store: ${store.description} holds no secret.`);
    } else if (applicationId.toLowerCase() === partner.applicationId.toLowerCase()) {
      // The session's own app: the credential in use is the one the session renews with.
      const own = await (partner.source as Partial<CredentialHolder>).appCredential?.();
      if (own?.clientSecret) secret = own.clientSecret;
      else if (own?.certificate) {
        const { loadCertificate } = await import("../../client/certificates.ts");
        thumbprint = (await loadCertificate(own.certificate)).thumbprint;
      } else if (given === undefined)
        throw usageError(
          `app credentials needs --application-id: the session's own app (${applicationId}) signs in with no secret or certificate.`,
        );
    }
    const { appCredentials } = await import("../../app-setup/credentials.ts");
    const c = await appCredentials(graph, applicationId, {
      warnDays,
      ...(secret !== undefined ? { secret } : {}),
      ...(thumbprint !== undefined ? { thumbprint } : {}),
    });
    const known = secret !== undefined || thumbprint !== undefined;
    for (const x of c.credentials)
      if (x.expiring && (x.inUse || !known)) {
        const rotation = x.kind === "certificate" ? "rotate-certificate" : "rotate-secret";
        progress(
          `The ${x.kind} ${x.keyId} (${x.hint ?? ""}) expires in ${x.daysLeft} days: run 'partner-token app ${rotation}'.`,
        );
      }
    return { result: { ...c }, expiring: c.expiring };
  } finally {
    await closeStores(opened);
    await partner.close();
  }
}

const createSpec: CommandSpec = { flags: createFlags, usage, help };
const rotateSpec: CommandSpec = { flags: rotateFlags, usage, help };
const rotateCertificateSpec: CommandSpec = { flags: rotateCertificateFlags, usage, help };
const credentialsSpec: CommandSpec = { flags: credentialsFlags, usage, help };

export const spec: CommandGroup["spec"] = {
  flags: [helpFlag],
  usage,
  help,
  unknown: (name) =>
    `unknown app command '${name}': the commands are 'app create', 'app rotate-secret', 'app rotate-certificate' and 'app credentials'.`,
  subcommands: {
    create: {
      spec: createSpec,
      body: async ({ args, format, query, clientOptions }: CommandContext) => {
        await writeResult(await create(args, clientOptions), format, query);
        return ExitCode.ok;
      },
    },
    "rotate-secret": {
      spec: rotateSpec,
      body: async ({ args, format, query, clientOptions }: CommandContext) => {
        await writeResult(await rotate(args, clientOptions), format, query);
        return ExitCode.ok;
      },
    },
    "rotate-certificate": {
      spec: rotateCertificateSpec,
      body: async ({ args, format, query, clientOptions }: CommandContext) => {
        await writeResult(await rotateCert(args, clientOptions), format, query);
        return ExitCode.ok;
      },
    },
    credentials: {
      spec: credentialsSpec,
      body: async ({ args, format, query, clientOptions }: CommandContext) => {
        const { result, expiring } = await credentials(args, clientOptions);
        await writeResult(result, format, query);
        return expiring ? ExitCode.expiring : ExitCode.ok;
      },
    },
  },
};
