/**
 * `partner-token connect`: Connect-PartnerCenter. Signs in once — browser, device code, a refresh
 * token, a service principal (secret or certificate), or an access token — and saves the session
 * under a profile, encrypted, with its environment, so later commands (`token`, `customers`,
 * `exec`…) need no flags but the profile.
 */
import type { ConnectParams } from "../../session/session.ts";
import { formatFlags, getSetting, getSource, getString, type FlagSpec } from "../args.ts";
import {
  debugFlag,
  timeoutFlag,
  helpFlag,
  type CommandContext,
  type CommandSpec,
} from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { outputFlags, writeResult } from "../output.ts";
import { say } from "../redact.ts";
import { SOURCE_SPELLINGS } from "../secret-source.ts";
import { profileFlags, sessionOptionsOf } from "../session-flags.ts";
import { signInFlags, signInOptionsOf, toParams } from "../sign-in-flags.ts";
import { refreshTokenStoreFlag } from "../store-flags.ts";
import { usageError } from "../usage-error.ts";

export const flags: FlagSpec[] = [
  ...signInFlags([refreshTokenStoreFlag]),
  ...profileFlags,
  ...outputFlags,
  debugFlag,
  timeoutFlag,
  helpFlag,
];

const usage =
  "Usage: partner-token connect [--use-device-authentication | --refresh-token SRC | --service-principal … | --access-token SRC] [--profile P] [options]";

const help =
  (): string => `partner-token connect — sign in once and keep the session (Connect-PartnerCenter)

Examples:
  partner-token connect                                    # browser sign-in, Azure CLI's app
  partner-token connect --use-device-authentication --environment Emulator
  partner-token connect --refresh-token @rt.txt --application-id $APP --credential env:SECRET --tenant $TENANT
  partner-token connect --service-principal --application-id $APP --credential env:SECRET --tenant $TENANT --profile ci
  partner-token connect --service-principal --application-id $APP --certificate-thumbprint $THUMB --tenant $TENANT
  partner-token connect --access-token env:TOKEN
  then: partner-token token --scopes https://graph.microsoft.com/.default --tenant $CUSTOMER

${usage}

Parameter sets (Connect-PartnerCenter's):
  User                         (default) browser on http://localhost:8400…8999, or --use-device-authentication
  RefreshToken                 --refresh-token SRC [--application-id ID] [--credential SRC | --certificate-*] [--tenant T]
  ServicePrincipal             --service-principal --application-id ID --credential SRC --tenant T
  ServicePrincipalCertificate  --service-principal --application-id ID --certificate-thumbprint X --tenant T
  AccessToken                  --access-token SRC (no renewal: the session ends with the token)
Default application id 04b07795-8ddb-461a-bbee-02f9e1bf7b46 (Azure CLI); default scope
{PartnerCenter}/user_impersonation ({PartnerCenter}/.default for a service principal).
The session remembers its environment (--environment, --authority-host, --ca-file).

Options:
${formatFlags(flags)}

Secrets are read from a source, never the command line: ${SOURCE_SPELLINGS}.
A service principal's secret or certificate password is kept in the encrypted session so that
tokens can be renewed. A secret or certificate given as a store (--credential keyvault:…,
--certificate-path keyvault:…) is not: the session keeps where it is and reads it at each
renewal, so a rotated secret is picked up without connecting again.

Exit codes: 0 ok, 1 error, 2 usage, 4 sign-in refused (expired, revoked, MFA), 130 cancelled.
`;

export const spec: CommandSpec = { flags, usage, help };

export async function body({
  args,
  format,
  query,
  clientOptions,
}: CommandContext): Promise<number> {
  const params: ConnectParams = await toParams(args);
  const refreshTokenStore = getString(args, "refresh-token-store");
  if (refreshTokenStore !== undefined) params.refreshTokenStore = refreshTokenStore;
  // A secret or certificate in a store: the session keeps where, and reads it at each renewal.
  const { isCredentialStoreUri } = await import("../../session/store-reader.ts");
  const secretSource = getSource(args, "credential")?.source;
  if (params.credential && isCredentialStoreUri(secretSource))
    params.clientSecretStore = secretSource;
  const certificateUri = getSetting(args, "certificate-path");
  if (params.certificateReader && isCredentialStoreUri(certificateUri)) {
    params.certificateStore = certificateUri;
    delete params.certificateReader;
  }
  if (params.module)
    throw usageError(
      "--module belongs to 'partner-token new'; connect signs in to Partner Center.",
    );
  const options = sessionOptionsOf(args, {
    ...clientOptions,
    ...signInOptionsOf(args),
  });
  const { connectSession } = await import("../../session/session.ts");
  const { session } = await connectSession(params, options);
  const info = session.info;
  say(
    `partner-token: connected profile '${info.profile}'${info.account ? ` as ${info.account}` : ""} ` +
      `(tenant ${info.tenantId ?? info.tenant}, ${info.environment.name}${info.environment.name === "Custom" ? ` ${info.environment.authorityHost}` : ""}).`,
  );
  await writeResult(info, format, query);
  return ExitCode.ok;
}
