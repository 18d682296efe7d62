// Users and API tokens: create, change, remove, each audited.
import type { Db } from "./db";
import { ApiError, notFound } from "./errors";
import { audit, type Actor } from "./audit";
import { hashPassword } from "./passwords";
import { hashToken, newTokenSecret } from "./tokens";
import type { CreateTokenInput, CreateUserInput, UpdateUserInput } from "./validation/users";

const userSelect = {
  id: true,
  email: true,
  displayName: true,
  role: true,
  disabledAt: true,
  lastLoginAt: true,
  createdAt: true,
} as const;

export function listUsers(db: Db) {
  return db.user.findMany({ select: userSelect, orderBy: { createdAt: "asc" } });
}

export async function createUser(db: Db, input: CreateUserInput, actor: Actor) {
  if (await db.user.findUnique({ where: { email: input.email } })) {
    throw new ApiError("CONFLICT", `A user with email ${input.email} exists`);
  }
  const user = await db.user.create({
    data: { email: input.email, displayName: input.displayName, role: input.role, passwordHash: await hashPassword(input.password) },
    select: userSelect,
  });
  await audit(db, { actor, action: "user.created", target: user.email, details: { userId: user.id, role: user.role } });
  return user;
}

async function activeAdminCount(db: Db, excludingId: string): Promise<number> {
  return db.user.count({ where: { role: "ADMIN", disabledAt: null, id: { not: excludingId } } });
}

export async function updateUser(db: Db, id: string, input: UpdateUserInput, actor: Actor) {
  const before = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!before) throw notFound("User");
  const losesAdmin =
    before.role === "ADMIN" && ((input.role && input.role !== "ADMIN") || input.disabled === true);
  if (losesAdmin && (await activeAdminCount(db, id)) === 0) {
    throw new ApiError("CONFLICT", "This is the last active admin; make another admin first");
  }
  const user = await db.user.update({
    where: { id },
    data: {
      displayName: input.displayName,
      role: input.role,
      passwordHash: input.password ? await hashPassword(input.password) : undefined,
      disabledAt: input.disabled === undefined ? undefined : input.disabled ? new Date() : null,
    },
    select: userSelect,
  });
  await audit(db, {
    actor,
    action: "user.updated",
    target: user.email,
    details: {
      userId: id,
      changed: Object.keys(input),
      ...(input.role ? { roleBefore: before.role, roleAfter: user.role } : {}),
    },
  });
  return user;
}

export async function deleteUser(db: Db, id: string, actor: Actor) {
  const before = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!before) throw notFound("User");
  if (actor.type === "user" && actor.id === id) throw new ApiError("CONFLICT", "You cannot delete yourself");
  if (before.role === "ADMIN" && (await activeAdminCount(db, id)) === 0) {
    throw new ApiError("CONFLICT", "This is the last active admin; make another admin first");
  }
  await db.user.delete({ where: { id } });
  await audit(db, { actor, action: "user.deleted", target: before.email, details: { userId: id } });
}

const tokenSelect = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
  createdAt: true,
  createdBy: { select: { id: true, email: true, displayName: true } },
} as const;

export function listTokens(db: Db) {
  return db.apiToken.findMany({ where: { revokedAt: null }, select: tokenSelect, orderBy: { createdAt: "desc" } });
}

/** Creates a token; the returned `token` secret exists only in this answer. */
export async function createToken(db: Db, input: CreateTokenInput, creatorId: string, actor: Actor) {
  const secret = newTokenSecret();
  const row = await db.apiToken.create({
    data: {
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expiresAt ?? null,
      tokenHash: hashToken(secret),
      prefix: secret.slice(0, 10),
      createdById: creatorId,
    },
    select: tokenSelect,
  });
  await audit(db, { actor, action: "token.created", target: row.name, details: { tokenId: row.id, scopes: row.scopes } });
  return { ...row, token: secret };
}

export async function revokeToken(db: Db, id: string, actor: Actor) {
  const row = await db.apiToken.findUnique({ where: { id } });
  if (!row || row.revokedAt) throw notFound("Token");
  await db.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  await audit(db, { actor, action: "token.revoked", target: row.name, details: { tokenId: id } });
}
