// What a single sign-on (OIDC) sign-in does to the users table, once next-auth and
// openid-client have verified the ID token (signature, audience, nonce, PKCE, state):
// - the token's issuer must be OIDC_ISSUER: a token from any other issuer is refused, even
//   one the discovery document vouched for;
// - the user is found by (issuer, sub), never by email: a new identity whose email belongs
//   to an existing account is refused, unless OIDC_LINK_BY_EMAIL=true and the provider says
//   the email is verified (then the account is linked, audited);
// - the role is mapped from the claims on every sign-in (lib/oidc-roles.ts); a change ends
//   the user's other sessions (session version) and is audited; no role = refused;
// - first sign-in creates the user (no password), audited.
import type { Db } from "./db";
import { audit, type Actor } from "./audit";
import { mapRole, type RoleMapping } from "./oidc-roles";
import { sameIssuer, type OidcSettings } from "./oidc-config";
import type { RoleName } from "./permissions";

/** Why a sign-in was refused; the login page shows a message for each (components/login-messages.ts). */
export const SSO_REFUSALS = ["SsoWrongIssuer", "SsoNoSubject", "SsoNoEmail", "SsoEmailTaken", "SsoNoRole", "SsoDisabled"] as const;
export type SsoRefusal = (typeof SSO_REFUSALS)[number];

export interface SsoUser {
  id: string;
  email: string;
  displayName: string;
  role: RoleName;
  sessionVersion: number;
}

export type SsoResult = { ok: true; user: SsoUser } | { ok: false; code: SsoRefusal };

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v.trim() : undefined);
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** The email: the `email` claim, else an email-shaped preferred_username/upn (Entra). */
function emailOf(claims: Record<string, unknown>): { email: string; fromEmailClaim: boolean } | null {
  const email = str(claims.email);
  if (email && EMAIL.test(email)) return { email: email.toLowerCase(), fromEmailClaim: true };
  for (const k of ["preferred_username", "upn"]) {
    const v = str(claims[k]);
    if (v && EMAIL.test(v)) return { email: v.toLowerCase(), fromEmailClaim: false };
  }
  return null;
}

const userSelect = { id: true, email: true, displayName: true, role: true, sessionVersion: true, disabledAt: true, oidcSubject: true } as const;

export async function ssoSignIn(db: Db, claims: Record<string, unknown>, s: OidcSettings, ip: string | null): Promise<SsoResult> {
  const iss = str(claims.iss) ?? "";
  const sub = str(claims.sub);
  const found = emailOf(claims);
  const label = found?.email ?? (sub ? `${sub} (${iss})` : iss);
  const refuse = async (code: SsoRefusal, reason: string, actor: Actor = { type: "user", id: null, label }, details: Record<string, unknown> = {}) => {
    await audit(db, { actor, action: "auth.sign_in_failed", target: label, details: { method: "oidc", reason, issuer: iss, ...details }, ip });
    return { ok: false as const, code };
  };

  if (!sameIssuer(iss, s.issuer)) return refuse("SsoWrongIssuer", "unknown issuer", undefined, { expectedIssuer: s.issuer });
  if (!sub) return refuse("SsoNoSubject", "no subject");
  if (!found) return refuse("SsoNoEmail", "no email claim");
  const mapping = mapRole(claims, s);
  const displayName = (str(claims.name) ?? str(claims.preferred_username) ?? found.email).slice(0, 200);
  // One identity per issuer: the configured spelling, so a trailing slash does not make a second user.
  const identity = { oidcIssuer: s.issuer, oidcSubject: sub };

  let user = await db.user.findUnique({ where: { oidcIssuer_oidcSubject: identity }, select: userSelect });
  if (!user) {
    const byEmail = await db.user.findUnique({ where: { email: found.email }, select: userSelect });
    if (byEmail) {
      const verified = found.fromEmailClaim && claims.email_verified === true;
      if (byEmail.oidcSubject || !s.linkByEmail || !verified) {
        return refuse("SsoEmailTaken", byEmail.oidcSubject ? "email belongs to another sign-on identity" : s.linkByEmail ? "email not verified by the provider" : "email belongs to a local account", undefined, {
          userId: byEmail.id,
        });
      }
      if (!mapping.role) return refuse("SsoNoRole", "no role", undefined, roleDetails(mapping));
      if (byEmail.role === "ADMIN" && mapping.role !== "ADMIN" && !byEmail.disabledAt && (await otherActiveAdmins(db, byEmail.id)) === 0) {
        return refuse("SsoNoRole", "linking would demote the last active admin", undefined, roleDetails(mapping));
      }
      user = await db.user.update({ where: { id: byEmail.id }, data: identity, select: userSelect });
      await audit(db, { actor: { type: "user", id: user.id, label: user.email }, action: "auth.sso_linked", target: user.email, details: { userId: user.id, issuer: s.issuer, subject: sub }, ip });
    }
  }

  if (!user) {
    if (!mapping.role) return refuse("SsoNoRole", "no role", undefined, roleDetails(mapping));
    const { row, created } = await createOnce(db, { ...identity, email: found.email, displayName, role: mapping.role });
    if (!row) return refuse("SsoEmailTaken", "email belongs to another account");
    if (created) {
      await audit(db, {
        actor: { type: "user", id: row.id, label: row.email },
        action: "user.created",
        target: row.email,
        details: { userId: row.id, role: row.role, via: "oidc", issuer: s.issuer, subject: sub, ...roleDetails(mapping) },
        ip,
      });
    }
    user = row;
  }

  const actor: Actor = { type: "user", id: user.id, label: user.email };
  if (user.disabledAt) return refuse("SsoDisabled", "disabled", actor, { userId: user.id });
  if (!mapping.role) {
    // Access taken away at the provider: the sessions still open end too.
    await db.user.update({ where: { id: user.id }, data: { sessionVersion: { increment: 1 } } });
    return refuse("SsoNoRole", "no role", actor, { userId: user.id, ...roleDetails(mapping) });
  }
  const roleChanged = mapping.role !== user.role;
  const emailFree = found.email === user.email || !(await db.user.findUnique({ where: { email: found.email }, select: { id: true } }));
  const updated = await db.user.update({
    where: { id: user.id },
    data: {
      role: mapping.role,
      displayName,
      ...(emailFree ? { email: found.email } : {}),
      lastLoginAt: new Date(),
      // A role change ends the sessions issued under the old role (as lib/users.ts does).
      ...(roleChanged ? { sessionVersion: { increment: 1 } } : {}),
    },
    select: userSelect,
  });
  if (roleChanged) {
    await audit(db, {
      actor,
      action: "user.updated",
      target: updated.email,
      details: { userId: user.id, changed: ["role"], roleBefore: user.role, roleAfter: updated.role, via: "oidc", ...roleDetails(mapping) },
      ip,
    });
  }
  await audit(db, { actor, action: "auth.sign_in", target: updated.email, details: { method: "oidc", issuer: s.issuer }, ip });
  return { ok: true, user: { id: updated.id, email: updated.email, displayName: updated.displayName, role: updated.role, sessionVersion: updated.sessionVersion } };
}

function roleDetails(m: RoleMapping): Record<string, unknown> {
  return { roleSource: m.source, claimValues: m.values.slice(0, 50) };
}

function otherActiveAdmins(db: Db, id: string): Promise<number> {
  return db.user.count({ where: { role: "ADMIN", disabledAt: null, id: { not: id } } });
}

/**
 * Creates the user. When the same identity signing in twice at once created it first, that
 * row (created: false, so it is audited once); null when another account took the email.
 */
async function createOnce(
  db: Db,
  data: { oidcIssuer: string; oidcSubject: string; email: string; displayName: string; role: RoleName },
) {
  try {
    return { row: await db.user.create({ data: { ...data, passwordHash: null }, select: userSelect }), created: true };
  } catch (e) {
    if ((e as { code?: string }).code !== "P2002") throw e;
    const row = await db.user.findUnique({ where: { oidcIssuer_oidcSubject: { oidcIssuer: data.oidcIssuer, oidcSubject: data.oidcSubject } }, select: userSelect });
    return { row, created: false };
  }
}
