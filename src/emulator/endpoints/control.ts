/** The control API under /_emulator, for tests and demos: clock, faults, revocation, users, log. */
import { z } from "zod";
import type { Emulator, Fault } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";

export const faultSchema = z
  .object({
    path: z.string().startsWith("/"),
    method: z.string().optional(),
    count: z.number().int().min(1).default(1),
    status: z.number().int().min(100).max(599).optional(),
    retryAfter: z.number().min(0).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    drop: z.boolean().optional(),
    malformed: z.boolean().optional(),
  })
  .strict()
  .refine((f) => f.status !== undefined || f.delayMs !== undefined || f.drop || f.malformed, {
    message: "a fault needs at least one of status, delayMs, drop, malformed",
  });
export type FaultInput = z.input<typeof faultSchema>;

export const revokeSchema = z
  .object({
    refreshToken: z.string().optional(),
    username: z.string().optional(),
    all: z.boolean().optional(),
  })
  .strict();
export const userChangeSchema = z
  .object({
    username: z.string(),
    mfaRequired: z.boolean().optional(),
    password: z.string().optional(),
  })
  .strict();
export const approveSchema = z
  .object({ userCode: z.string(), username: z.string().optional(), deny: z.boolean().optional() })
  .strict();

export class ControlError extends Error {}

function parse<T>(schema: z.ZodType<T>, json: unknown): T {
  const r = schema.safeParse(json ?? {});
  if (!r.success)
    throw new ControlError(
      r.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; "),
    );
  return r.data;
}

/** The control operations, shared by the HTTP API and the in-process handle of startEmulator. */
export function controlOps(emu: Emulator) {
  return {
    advanceClock(seconds: number): string {
      return emu.clock.advance(seconds).toISOString();
    },
    injectFault(input: FaultInput): void {
      emu.faults.push(parse(faultSchema, input) as Fault);
    },
    clearFaults(): void {
      emu.faults.length = 0;
    },
    revoke(filter: z.input<typeof revokeSchema>): number {
      return emu.store.revoke(parse(revokeSchema, filter));
    },
    setUser(change: z.input<typeof userChangeSchema>): void {
      const c = parse(userChangeSchema, change);
      const user = emu.directory.user(c.username);
      if (!user) throw new ControlError(`no user '${c.username}'`);
      if (c.mfaRequired !== undefined) user.mfaRequired = c.mfaRequired;
      if (c.password !== undefined) user.password = c.password;
    },
    approveDeviceCode(input: z.input<typeof approveSchema>): void {
      const a = parse(approveSchema, input);
      const record = emu.store.deviceCodesByUserCode.get(a.userCode.toUpperCase());
      if (!record || record.status !== "pending")
        throw new ControlError(`no pending device code '${a.userCode}'`);
      if (a.deny) {
        record.status = "declined";
        return;
      }
      const user = a.username ? emu.directory.user(a.username) : emu.defaultUser();
      if (!user) throw new ControlError(`no user '${a.username ?? "(default)"}'`);
      record.status = "approved";
      record.authentication = emu.authenticate(user);
    },
    requests() {
      return emu.requestLog.list();
    },
    clearRequests(): void {
      emu.requestLog.clear();
    },
  };
}

/** Routes /_emulator/{what}. */
export function control(emu: Emulator, ctx: Ctx, info: () => unknown): void {
  const ops = controlOps(emu);
  const what = `${ctx.method} ${ctx.match[1]}`;
  const body = (ctx.json ?? {}) as Record<string, unknown>;
  try {
    switch (what) {
      case "GET info":
        return sendJson(ctx, 200, info());
      case "POST clock": {
        const seconds = body["advanceSeconds"];
        if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0)
          throw new ControlError("advanceSeconds: expected a number of seconds, 0 or more");
        return sendJson(ctx, 200, { now: ops.advanceClock(seconds) });
      }
      case "POST faults":
        ops.injectFault(body as FaultInput);
        return sendJson(ctx, 200, { faults: emu.faults });
      case "DELETE faults":
        ops.clearFaults();
        return sendJson(ctx, 200, { faults: [] });
      case "POST revoke":
        return sendJson(ctx, 200, { revoked: ops.revoke(body) });
      case "POST users":
        ops.setUser(body as z.input<typeof userChangeSchema>);
        return sendJson(ctx, 200, { ok: true });
      case "POST device-codes/approve":
        ops.approveDeviceCode(body as z.input<typeof approveSchema>);
        return sendJson(ctx, 200, { ok: true });
      case "GET requests":
        return sendJson(ctx, 200, { requests: ops.requests() });
      case "DELETE requests":
        ops.clearRequests();
        return sendJson(ctx, 200, { requests: [] });
      default:
        return sendJson(ctx, 404, {
          error: "not_found",
          message: `no control operation '${what}'`,
        });
    }
  } catch (e) {
    if (e instanceof ControlError)
      return sendJson(ctx, 400, { error: "invalid_request", message: e.message });
    throw e;
  }
}
