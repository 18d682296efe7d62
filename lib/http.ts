// Route-handler plumbing (STYLE.md §1–3): authenticate (session or bearer token), check
// the action's role/scope, parse with zod, map every error to DESIGN §6's shape.
import { NextResponse, type NextRequest } from "next/server";
import { randomUUID } from "node:crypto";
import { z, ZodError } from "zod";
import { ApiError, ERROR_STATUS, errorBody, type ErrorCode } from "./errors";
import { getSessionUser, clientIp, type SessionUser } from "./auth";
import { db } from "./db";
import { findToken, type TokenPrincipal } from "./tokens";
import { PERMISSIONS, roleCan, tokenCan, type Action, type RoleName } from "./permissions";
import { componentLogger } from "./log";
import { config } from "./config";
import { csrfProblem, dashboardOrigin } from "./csrf";
import type { Actor } from "./audit";
import { NUL_MESSAGE, nulPath } from "./nul-text";

export type Principal = { kind: "user"; user: SessionUser } | { kind: "token"; token: TokenPrincipal };

export interface HandlerContext<P> {
  principal: Principal;
  actor: Actor;
  params: P;
  requestId: string;
  ip: string;
}

const log = componentLogger("http");

export function actorOf(p: Principal): Actor {
  return p.kind === "user"
    ? { type: "user", id: p.user.id, label: p.user.email }
    : { type: "token", id: p.token.tokenId, label: `${p.token.name} (${p.token.creator.email})` };
}

/** The role a principal acts with: the signed-in user's, or the token creator's. */
export function roleOf(p: Principal): RoleName {
  return p.kind === "user" ? p.user.role : p.token.creator.role;
}

/** The user a principal acts for: the signed-in user, or the token's creator. */
export function userIdOf(p: Principal): string {
  return p.kind === "user" ? p.user.id : p.token.creator.id;
}

/** JSON with BigInt as numbers and Dates as ISO-8601 UTC. */
export function json(body: unknown, init?: number | ResponseInit): NextResponse {
  const text = JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  const responseInit = typeof init === "number" ? { status: init } : init;
  return new NextResponse(text, {
    ...responseInit,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...responseInit?.headers },
  });
}

/** An error answer: the contract's body with the status of the code's row in the table. */
export function errorJson(code: ErrorCode, message: string, opts: { details?: unknown; headers?: HeadersInit } = {}): NextResponse {
  return json(errorBody(code, message, opts.details), { status: ERROR_STATUS[code], headers: opts.headers });
}

export function errorResponse(e: unknown, requestId: string): NextResponse {
  if (e instanceof ApiError) return errorJson(e.code, e.message, { details: e.details });
  if (e instanceof ZodError) {
    return errorJson("VALIDATION_FAILED", "The request is not valid", {
      details: { fields: e.issues.map((i) => ({ path: i.path.join("."), message: i.message })) },
    });
  }
  // lib/backup/targets.ts: a `target` that names no target (by id or name).
  if (e instanceof Error && e.name === "UnknownTargetError") return errorJson("NOT_FOUND", e.message);
  if (isSchemaMissing(e)) return errorJson("BACKUPS_NOT_READY", "The database schema is not migrated; run `npm run migrate`");
  if (e instanceof Error && e.name === "StorageUnavailableError") {
    // Our own wording (which store, which errno), written for the operator; the cause stays in the log.
    log.warn({ requestId, err: e.message }, "storage unavailable");
    return errorJson("STORAGE_UNAVAILABLE", e.message);
  }
  log.error({ requestId, err: e instanceof Error ? { message: e.message, stack: e.stack } : String(e) }, "unexpected error");
  return errorJson("INTERNAL", `Unexpected error (request ${requestId})`);
}

/** Prisma P2021/P2022 or PostgreSQL 42P01/42703: a table or column the code needs is absent. */
export function isSchemaMissing(e: unknown): boolean {
  const seen = new Set<unknown>();
  let cur: unknown = e;
  while (cur && typeof cur === "object" && !seen.has(cur)) {
    seen.add(cur);
    const c = cur as { code?: unknown; message?: unknown; cause?: unknown; originalCode?: unknown };
    if (c.code === "P2021" || c.code === "P2022" || c.code === "42P01" || c.code === "42703" || c.originalCode === "42P01") return true;
    if (typeof c.message === "string" && /relation "[^"]+" does not exist|table `[^`]+` does not exist/i.test(c.message)) return true;
    cur = c.cause;
  }
  return false;
}

/** The caller's session or bearer token, or null (for routes open to anyone). */
export async function authenticate(req: NextRequest): Promise<Principal | null> {
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const token = m ? await findToken(db(), m[1]) : null;
    return token ? { kind: "token", token } : null;
  }
  const user = await getSessionUser();
  return user ? { kind: "user", user } : null;
}

export function can(p: Principal, action: Action): boolean {
  return p.kind === "user" ? roleCan(p.user.role, action) : tokenCan(p.token.scopes, roleOf(p), action);
}

/** The dashboard's origin, from NEXTAUTH_URL (scripts/start.ts defaults it to localhost:PORT). */
function publicOrigin(): string {
  const cfg = config();
  return dashboardOrigin(cfg.NEXTAUTH_URL ?? `http://localhost:${cfg.PORT}`);
}

type RouteContext = { params: Promise<unknown> };

/**
 * Wraps a route handler: 401 without valid credentials, 403 when the role or token scope
 * does not allow `action`, and every thrown error mapped to the contract's error body.
 */
export function withAuth<P = Record<string, string>>(
  action: Action | null,
  handler: (req: NextRequest, ctx: HandlerContext<P>) => Promise<Response>,
) {
  return async (req: NextRequest, route: RouteContext): Promise<Response> => {
    const requestId = randomUUID();
    try {
      const principal = await authenticate(req);
      if (!principal) throw new ApiError("UNAUTHENTICATED", "Sign in or send a valid API token");
      if (principal.kind === "user") {
        const problem = csrfProblem(req.method, req.headers, publicOrigin());
        if (problem) throw new ApiError("CSRF_REJECTED", problem);
      }
      if (action && !can(principal, action)) {
        const need = PERMISSIONS[action];
        throw new ApiError(
          "FORBIDDEN",
          principal.kind === "token"
            ? need.scope
              ? `This token needs the "${need.scope}" scope (and a creator with role ${need.role} or higher)`
              : "API tokens cannot do this; sign in"
            : `This needs role ${need.role} or higher`,
        );
      }
      const params = ((await route?.params) ?? {}) as P;
      return await handler(req, { principal, actor: actorOf(principal), params, requestId, ip: clientIp(req.headers) });
    } catch (e) {
      return errorResponse(e, requestId);
    }
  };
}

/** For routes open to anyone (health): same error mapping, no authentication. */
export function withErrors(handler: (req: NextRequest) => Promise<Response>) {
  return async (req: NextRequest): Promise<Response> => {
    const requestId = randomUUID();
    try {
      return await handler(req);
    } catch (e) {
      return errorResponse(e, requestId);
    }
  };
}

export const MAX_BODY = 64 * 1024;

/**
 * The body as text, refused with 413 as soon as it passes `max` bytes: a declared length
 * is checked first, and a chunked body is read only up to the limit, never whole.
 */
export async function readBodyText(req: Request, max = MAX_BODY): Promise<string> {
  const tooLarge = () => new ApiError("PAYLOAD_TOO_LARGE", `Body over ${max} bytes`);
  if (Number(req.headers.get("content-length") ?? 0) > max) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads and validates a JSON body (≤ 64 KiB); a NUL in any string or key is refused first (lib/nul-text.ts). */
export async function parseBody<T extends z.ZodType>(req: NextRequest, schema: T): Promise<z.infer<T>> {
  const text = await readBodyText(req);
  let raw: unknown = {};
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ApiError("VALIDATION_FAILED", "The body is not valid JSON");
    }
  }
  const nul = nulPath(raw);
  if (nul !== null) {
    throw new ApiError("VALIDATION_FAILED", `The body's ${nul ? `"${nul}"` : "value"} ${NUL_MESSAGE}`, { fields: [{ path: nul, message: NUL_MESSAGE }] });
  }
  return schema.parse(raw);
}

export function parseQuery<T extends z.ZodType>(req: NextRequest, schema: T): z.infer<T> {
  return schema.parse(Object.fromEntries(req.nextUrl.searchParams));
}

/** Path ids are cuids; anything else is a 404 without touching the database. */
export function parseId(id: unknown): string {
  if (typeof id !== "string" || !/^[a-z0-9]{20,40}$/i.test(id)) throw new ApiError("NOT_FOUND", "Not found");
  return id;
}

export const paginationSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
