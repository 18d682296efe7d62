// API tokens: `vl_` + 32 random bytes. Only the SHA-256 is stored; the secret is shown once.
import { createHash, randomBytes } from "node:crypto";
import { poolOf, type Db } from "./db";
import type { RoleName } from "./permissions";

export function newTokenSecret(): string {
  return `vl_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export interface TokenPrincipal {
  tokenId: string;
  name: string;
  scopes: string[];
  creator: { id: string; email: string; displayName: string; role: RoleName };
}

interface TokenRow {
  id: string;
  name: string;
  scopes: string[];
  revokedAt: number | null;
  expiresAt: number | null;
  lastUsedAt: number | null;
  uId: string;
  uEmail: string;
  uDisplayName: string;
  uRole: RoleName;
  uDisabled: boolean;
}

/** The live token for a bearer secret, or null (unknown, revoked, expired, creator disabled). */
export async function findToken(db: Db, secret: string, now = new Date()): Promise<TokenPrincipal | null> {
  if (!/^vl_[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  // One statement with the creator joined, straight on the client's pg pool: every API
  // request runs this, and findUnique + include made it two round trips and Prisma's
  // per-statement cost (issue 14 §4, decision 105). Times come as epoch ms: pg would read
  // a `timestamp` column in the process's local zone.
  const text = `SELECT t.id, t.name, t.scopes,
           (extract(epoch FROM t."revokedAt") * 1000)::float8 AS "revokedAt",
           (extract(epoch FROM t."expiresAt") * 1000)::float8 AS "expiresAt",
           (extract(epoch FROM t."lastUsedAt") * 1000)::float8 AS "lastUsedAt",
           u.id AS "uId", u.email AS "uEmail", u."displayName" AS "uDisplayName", u.role::text AS "uRole", (u."disabledAt" IS NOT NULL) AS "uDisabled"
      FROM "ApiToken" t JOIN "User" u ON u.id = t."createdById"
     WHERE t."tokenHash" = $1`;
  const [t] = (await poolOf(db).query<TokenRow>(text, [hashToken(secret)])).rows;
  if (!t || t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= now.getTime()) || t.uDisabled) return null;
  // lastUsedAt at minute resolution: one write per token per minute, not per request.
  if (t.lastUsedAt === null || now.getTime() - t.lastUsedAt > 60_000) {
    await db.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: now }, select: { id: true } });
  }
  return {
    tokenId: t.id,
    name: t.name,
    scopes: t.scopes,
    creator: { id: t.uId, email: t.uEmail, displayName: t.uDisplayName, role: t.uRole },
  };
}
