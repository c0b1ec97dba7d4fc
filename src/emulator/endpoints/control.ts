/** The control API under /_emulator, for tests and demos: clock, faults, revocation, users, log. */
import { z } from "zod";
import type { Emulator, Fault } from "../emulator.ts";
import { sendJson, type Ctx } from "../http.ts";
import { revokeSessions } from "../cae.ts";
import { directoryControlOps, DirectoryControlError } from "./control-directory.ts";

export const faultSchema = z
  .object({
    path: z.string().startsWith("/").max(2048),
    method: z
      .string()
      .regex(/^[A-Za-z]{1,16}$/, { message: "must be an HTTP method such as POST" })
      .optional(),
    count: z.number().int().min(1).max(1_000_000).default(1),
    // An error status: a fault stands for a failing server (and 1xx, 204 or 304 carry no body).
    status: z
      .number()
      .int()
      .min(400, { message: "must be an error status from 400 to 599" })
      .max(599, { message: "must be an error status from 400 to 599" })
      .optional(),
    retryAfter: z.number().int().min(0).max(86_400).optional(),
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
    /** A new password: as a reset in Entra, revokes the user's refresh tokens and sessions. */
    password: z.string().min(1).optional(),
    /** false: the user cannot sign in (AADSTS50057) and their CAE tokens are refused. */
    accountEnabled: z.boolean().optional(),
  })
  .strict();
export const approveSchema = z
  .object({ userCode: z.string(), username: z.string().optional(), deny: z.boolean().optional() })
  .strict();

export class ControlError extends Error {}

/** Faults waiting at once; more is a mistake in the caller, answered with 400. */
const MAX_FAULTS = 1000;
/** The latest instant the clock may show: JWT times and ISO dates stay four-digit years. */
const MAX_CLOCK_MS = Date.UTC(9999, 11, 31);

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
    ...directoryControlOps(emu),
    advanceClock(seconds: number): string {
      if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0)
        throw new ControlError("advanceSeconds: expected a number of seconds, 0 or more");
      if (emu.nowMs() + seconds * 1000 > MAX_CLOCK_MS)
        throw new ControlError(
          `advanceSeconds: ${seconds} would move the clock past 9999-12-31; use a smaller number`,
        );
      return emu.clock.advance(seconds).toISOString();
    },
    injectFault(input: FaultInput): void {
      const fault = parse(faultSchema, input) as Fault;
      if (emu.faults.length >= MAX_FAULTS)
        throw new ControlError(
          `faults: ${MAX_FAULTS} faults are already waiting; clear them with DELETE /_emulator/faults`,
        );
      emu.faults.push(fault);
    },
    clearFaults(): void {
      emu.faults.length = 0;
    },
    /** Revokes refresh tokens and (by user, or all) sign-in sessions: CAE tokens meet a challenge. */
    revoke(filter: z.input<typeof revokeSchema>): number {
      const f = parse(revokeSchema, filter);
      const now = emu.nowSeconds();
      if (f.all) for (const user of emu.directory.users.values()) revokeSessions(user, now);
      else if (f.username !== undefined) {
        const user = emu.directory.user(f.username);
        if (user) revokeSessions(user, now);
      }
      return emu.store.revoke(f);
    },
    setUser(change: z.input<typeof userChangeSchema>): void {
      const c = parse(userChangeSchema, change);
      const user = emu.directory.user(c.username);
      if (!user) throw new ControlError(`no user '${c.username}'`);
      if (c.mfaRequired !== undefined) user.mfaRequired = c.mfaRequired;
      if (c.password !== undefined && c.password !== user.password) {
        user.password = c.password;
        revokeSessions(user, emu.nowSeconds());
        emu.store.revoke({ username: user.username });
      }
      if (c.accountEnabled !== undefined) user.accountEnabled = c.accountEnabled;
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
    requestPage(after = 0, limit = 10_000) {
      return emu.requestLog.page(after, limit);
    },
    clearRequests(): void {
      emu.requestLog.clear();
    },
    /** What the emulator holds in memory: for tests that check it stays bounded. */
    stats() {
      const s = emu.store;
      const memory = process.memoryUsage();
      return {
        heapUsedBytes: memory.heapUsed,
        rssBytes: memory.rss,
        store: {
          codes: s.codes.size,
          refreshTokens: s.refreshTokens.size,
          deviceCodes: s.deviceCodes.size,
          flows: s.flows.size,
          sessions: s.sessions.size,
        },
        requestLog: { entries: emu.requestLog.length, bytes: emu.requestLog.bytes },
        faults: emu.faults.length,
      };
    },
  };
}

/** A whole-number query parameter within [min, max]; undefined when absent. */
function whole(text: string | null, name: string, min: number, max: number): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new ControlError(`${name}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** Routes /_emulator/{what}. */
export function control(emu: Emulator, ctx: Ctx, info: () => unknown): void {
  const ops = controlOps(emu);
  const what = `${ctx.method} ${ctx.match[1]}`;
  const body = (
    ctx.json !== null && typeof ctx.json === "object" && !Array.isArray(ctx.json) ? ctx.json : {}
  ) as Record<string, unknown>;
  try {
    switch (what) {
      case "GET info":
        return sendJson(ctx, 200, info());
      case "GET stats":
        return sendJson(ctx, 200, ops.stats());
      case "POST clock":
        return sendJson(ctx, 200, { now: ops.advanceClock(body["advanceSeconds"] as number) });
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
      case "GET requests": {
        const after = whole(ctx.url.searchParams.get("after"), "after", 0, Number.MAX_SAFE_INTEGER);
        const limit = whole(ctx.url.searchParams.get("limit"), "limit", 1, 10_000);
        return sendJson(ctx, 200, ops.requestPage(after ?? 0, limit ?? 10_000));
      }
      case "POST groups/members":
        return sendJson(ctx, 200, ops.setGroupMember(body as never));
      case "POST relationships":
        return sendJson(ctx, 200, ops.setRelationship(body as never));
      case "POST partner-center":
        return sendJson(ctx, 200, ops.setPartnerCenter(body as never));
      case "GET customers":
        return sendJson(ctx, 200, { customers: ops.customers() });
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
    if (e instanceof ControlError || e instanceof DirectoryControlError)
      return sendJson(ctx, 400, { error: "invalid_request", message: e.message });
    throw e;
  }
}
