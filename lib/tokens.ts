// API tokens: `vl_` + 32 random bytes. Only the SHA-256 is stored; the secret is shown once.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "./db";
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

/** The live token for a bearer secret, or null (unknown, revoked, expired, creator disabled). */
export async function findToken(db: Db, secret: string, now = new Date()): Promise<TokenPrincipal | null> {
  if (!/^vl_[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  // One statement with the creator joined: every API request runs this, and findUnique +
  // include made it two round trips (issue 14 §4).
  const [t] = await db.$queryRaw<
    { id: string; name: string; scopes: string[]; revokedAt: Date | null; expiresAt: Date | null; lastUsedAt: Date | null; uId: string; uEmail: string; uDisplayName: string; uRole: RoleName; uDisabledAt: Date | null }[]
  >`SELECT t.id, t.name, t.scopes, t."revokedAt", t."expiresAt", t."lastUsedAt",
           u.id AS "uId", u.email AS "uEmail", u."displayName" AS "uDisplayName", u.role::text AS "uRole", u."disabledAt" AS "uDisabledAt"
      FROM "ApiToken" t JOIN "User" u ON u.id = t."createdById"
     WHERE t."tokenHash" = ${hashToken(secret)}`;
  if (!t || t.revokedAt || (t.expiresAt && t.expiresAt <= now) || t.uDisabledAt) return null;
  // lastUsedAt at minute resolution: one write per token per minute, not per request.
  if (!t.lastUsedAt || now.getTime() - t.lastUsedAt.getTime() > 60_000) {
    await db.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: now }, select: { id: true } });
  }
  return {
    tokenId: t.id,
    name: t.name,
    scopes: t.scopes,
    creator: { id: t.uId, email: t.uEmail, displayName: t.uDisplayName, role: t.uRole },
  };
}
