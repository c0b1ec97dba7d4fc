import type { AuthenticatedClient } from "../client-auth.ts";
import type { Tenant } from "../directory.ts";
import type { Emulator } from "../emulator.ts";
import type { Ctx } from "../http.ts";

export interface GrantContext {
  /** The tenant the path names; null for organizations/common. */
  tenant: Tenant | null;
  tenantKey: string;
  client: AuthenticatedClient;
  /** `scope`, or `{resource}/.default` on the v1 endpoint. */
  scope: string | undefined;
  v1: boolean;
}

/** A grant handler returns (or resolves to) the token response body, or throws an EntraError. */
export type Grant = (
  emu: Emulator,
  ctx: Ctx,
  g: GrantContext,
) => Record<string, unknown> | Promise<Record<string, unknown>>;
