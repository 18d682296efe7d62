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

async function activeAdminCount(db: Pick<Db, "user">, excludingId: string): Promise<number> {
  return db.user.count({ where: { role: "ADMIN", disabledAt: null, id: { not: excludingId } } });
}

// Changes that can remove an admin are serialised on this lock, so the last-admin check
// and the change are one step: two admins demoting each other at once used to both see
// "another admin exists" and leave none.
const ADMIN_GUARD_LOCK = 7_265_301;

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

async function withAdminGuard<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_GUARD_LOCK})`;
    return fn(tx);
  });
}

export async function updateUser(db: Db, id: string, input: UpdateUserInput, actor: Actor) {
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  const { before, user } = await withAdminGuard(db, async (tx) => {
    const before = await tx.user.findUnique({ where: { id }, select: userSelect });
    if (!before) throw notFound("User");
    // A password would be a way around the provider's groups (decision 81).
    if (passwordHash && (await tx.user.findUnique({ where: { id }, select: { oidcSubject: true } }))?.oidcSubject) {
      throw new ApiError("CONFLICT", "This user signs in with single sign-on and has no password here");
    }
    const losesAdmin =
      before.role === "ADMIN" && ((input.role && input.role !== "ADMIN") || input.disabled === true);
    if (losesAdmin && (await activeAdminCount(tx, id)) === 0) {
      throw new ApiError("CONFLICT", "This is the last active admin; make another admin first");
    }
    // Sessions end when what they were granted on changes (issue 12 §5).
    const endsSessions =
      !!passwordHash || (input.role !== undefined && input.role !== before.role) || (input.disabled === true && !before.disabledAt);
    const user = await tx.user.update({
      where: { id },
      data: {
        displayName: input.displayName,
        role: input.role,
        passwordHash,
        disabledAt: input.disabled === undefined ? undefined : input.disabled ? (before.disabledAt ?? new Date()) : null,
        ...(endsSessions ? { sessionVersion: { increment: 1 } } : {}),
      },
      select: userSelect,
    });
    return { before, user };
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
  if (actor.type === "user" && actor.id === id) throw new ApiError("CONFLICT", "You cannot delete yourself");
  const before = await withAdminGuard(db, async (tx) => {
    const before = await tx.user.findUnique({ where: { id }, select: userSelect });
    if (!before) throw notFound("User");
    if (before.role === "ADMIN" && (await activeAdminCount(tx, id)) === 0) {
      throw new ApiError("CONFLICT", "This is the last active admin; make another admin first");
    }
    await tx.user.delete({ where: { id } });
    return before;
  });
  await audit(db, { actor, action: "user.deleted", target: before.email, details: { userId: id } });
}

/** "Sign out everywhere": every session of the user issued until now stops working. */
export async function endAllSessions(db: Db, userId: string, actor: Actor) {
  const user = await db.user.update({ where: { id: userId }, data: { sessionVersion: { increment: 1 } }, select: { email: true } });
  await audit(db, { actor, action: "auth.signed_out_everywhere", target: user.email, details: { userId } });
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
