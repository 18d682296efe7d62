// Single sign-on's effect on the users table, against a real PostgreSQL (lib/oidc-sign-in.ts):
// identity by (issuer, sub), no silent take-over of an account by email, linking only when
// allowed and verified, role re-mapping and session versions, races of a first sign-in.
// The token checks themselves (signature, nonce, PKCE, issuer) run in e2e/oidc.spec.ts
// against a real provider.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { createUser } from "./support/app";
import { ssoSignIn } from "../lib/oidc-sign-in";
import type { OidcSettings } from "../lib/oidc-config";
import { updateUser } from "../lib/users";
import { SYSTEM } from "../lib/audit";

const ISSUER = "https://id.example.com/realms/ops";
const settings: OidcSettings = {
  issuer: ISSUER,
  clientId: "vaultline",
  clientSecret: "secret",
  name: "SSO",
  scopes: "openid email profile",
  roleClaim: "groups",
  adminGroups: ["admins"],
  operatorGroups: ["operators"],
  viewerGroups: [],
  defaultRole: "VIEWER",
  linkByEmail: false,
};
const claims = (sub: string, extra: Record<string, unknown> = {}) => ({ iss: ISSUER, sub, email: `${sub}@corp.test`, email_verified: true, name: sub, ...extra });

let url: string;
let db: Db;
beforeAll(async () => {
  url = await createMigratedDatabase("oidc");
  db = createDb(url);
});
afterAll(async () => {
  await db.$disconnect();
  await dropDatabase(url);
});

const events = (action: string, target: string) => db.auditEvent.findMany({ where: { action, target }, orderBy: { at: "asc" } });

describe("single sign-on users", () => {
  it("finds the user by (issuer, sub): a trailing slash on the issuer is the same identity, another sub is another user", async () => {
    const a = await ssoSignIn(db, claims("ann"), settings, "203.0.113.1");
    const b = await ssoSignIn(db, { ...claims("ann"), iss: `${ISSUER}/` }, settings, null);
    expect(a.ok && b.ok && a.user.id === b.user.id).toBe(true);
    expect(await db.user.count({ where: { oidcSubject: "ann" } })).toBe(1);
    const [created] = await events("user.created", "ann@corp.test");
    expect(created).toMatchObject({ actorType: "user", ip: "203.0.113.1", details: expect.objectContaining({ via: "oidc", role: "VIEWER", roleSource: "default" }) });
    // Same email, another subject (a re-created account at the provider): not silently the same user.
    expect(await ssoSignIn(db, { ...claims("ann2"), email: "ann@corp.test" }, settings, null)).toEqual({ ok: false, code: "SsoEmailTaken" });
  });

  it("refuses a token of another issuer before touching any row", async () => {
    const before = await db.user.count();
    expect(await ssoSignIn(db, { ...claims("eve"), iss: "https://id.example.com/realms/other" }, settings, null)).toEqual({ ok: false, code: "SsoWrongIssuer" });
    expect(await db.user.count()).toBe(before);
    const [e] = await events("auth.sign_in_failed", "eve@corp.test");
    expect(e.details).toMatchObject({ method: "oidc", reason: "unknown issuer", issuer: "https://id.example.com/realms/other", expectedIssuer: ISSUER });
  });

  it("never takes over a local account by email, unless OIDC_LINK_BY_EMAIL=true and the provider verified the email", async () => {
    const local = await createUser(db, "OPERATOR", "lena@corp.test");
    const c = claims("lena-sub", { email: "Lena@corp.test", groups: ["admins"] });
    expect(await ssoSignIn(db, c, settings, null)).toEqual({ ok: false, code: "SsoEmailTaken" });
    expect(await ssoSignIn(db, { ...c, email_verified: false }, { ...settings, linkByEmail: true }, null)).toEqual({ ok: false, code: "SsoEmailTaken" });
    // An email-shaped preferred_username is not a verified email either.
    expect(await ssoSignIn(db, { ...c, email: undefined, preferred_username: "lena@corp.test" }, { ...settings, linkByEmail: true }, null)).toEqual({ ok: false, code: "SsoEmailTaken" });
    let row = await db.user.findUniqueOrThrow({ where: { id: local.id } });
    expect(row).toMatchObject({ role: "OPERATOR", oidcSubject: null });
    const reasons = (await events("auth.sign_in_failed", "lena@corp.test")).map((e) => (e.details as { reason: string }).reason);
    expect(reasons).toEqual(["email belongs to a local account", "email not verified by the provider", "email not verified by the provider"]);

    const linked = await ssoSignIn(db, c, { ...settings, linkByEmail: true }, null);
    expect(linked).toMatchObject({ ok: true, user: { id: local.id, role: "ADMIN" } });
    row = await db.user.findUniqueOrThrow({ where: { id: local.id } });
    expect(row).toMatchObject({ oidcIssuer: ISSUER, oidcSubject: "lena-sub", role: "ADMIN", sessionVersion: 1 });
    expect(await events("auth.sso_linked", "lena@corp.test")).toHaveLength(1);
  });

  it("does not link when that would demote the last active admin", async () => {
    const fresh = await createMigratedDatabase("oidc-admin");
    const d = createDb(fresh);
    try {
      const admin = await createUser(d, "ADMIN", "root@corp.test");
      const r = await ssoSignIn(d, claims("root-sub", { email: "root@corp.test", groups: [] }), { ...settings, linkByEmail: true }, null);
      expect(r).toEqual({ ok: false, code: "SsoNoRole" });
      expect(await d.user.findUniqueOrThrow({ where: { id: admin.id } })).toMatchObject({ role: "ADMIN", oidcSubject: null });
    } finally {
      await d.$disconnect();
      await dropDatabase(fresh);
    }
  });

  it("re-maps the role at every sign-in; only a change ends other sessions and is audited", async () => {
    const first = await ssoSignIn(db, claims("max", { groups: ["operators"] }), settings, null);
    expect(first).toMatchObject({ ok: true, user: { role: "OPERATOR", sessionVersion: 0 } });
    const same = await ssoSignIn(db, claims("max", { groups: ["operators", "unrelated"] }), settings, null);
    expect(same).toMatchObject({ ok: true, user: { role: "OPERATOR", sessionVersion: 0 } });
    const up = await ssoSignIn(db, claims("max", { groups: ["admins"] }), settings, null);
    expect(up).toMatchObject({ ok: true, user: { role: "ADMIN", sessionVersion: 1 } });
    const down = await ssoSignIn(db, claims("max", { groups: [] }), settings, null);
    expect(down).toMatchObject({ ok: true, user: { role: "VIEWER", sessionVersion: 2 } });
    const changes = (await events("user.updated", "max@corp.test")).map((e) => e.details as Record<string, unknown>);
    expect(changes.map((d) => [d.roleBefore, d.roleAfter])).toEqual([
      ["OPERATOR", "ADMIN"],
      ["ADMIN", "VIEWER"],
    ]);
    // No role at all (OIDC_DEFAULT_ROLE=none): refused, and the open sessions end.
    expect(await ssoSignIn(db, claims("max", { groups: [] }), { ...settings, defaultRole: null }, null)).toEqual({ ok: false, code: "SsoNoRole" });
    expect(await db.user.findFirstOrThrow({ where: { oidcSubject: "max" } })).toMatchObject({ role: "VIEWER", sessionVersion: 3 });
  });

  it("refuses a disabled user, and takes the email from preferred_username when there is no email claim", async () => {
    const r = await ssoSignIn(db, { iss: ISSUER, sub: "entra-oid-1", preferred_username: "Nina@Corp.test", name: "Nina" }, settings, null);
    expect(r).toMatchObject({ ok: true, user: { email: "nina@corp.test", displayName: "Nina" } });
    await db.user.update({ where: { email: "nina@corp.test" }, data: { disabledAt: new Date() } });
    expect(await ssoSignIn(db, { iss: ISSUER, sub: "entra-oid-1", preferred_username: "nina@corp.test" }, settings, null)).toEqual({ ok: false, code: "SsoDisabled" });
    expect(await ssoSignIn(db, { iss: ISSUER, sub: "no-mail", preferred_username: "nina" }, settings, null)).toEqual({ ok: false, code: "SsoNoEmail" });
  });

  it("follows an email change at the provider, unless another account has that email", async () => {
    await ssoSignIn(db, claims("omar"), settings, null);
    const moved = await ssoSignIn(db, claims("omar", { email: "omar.new@corp.test" }), settings, null);
    expect(moved).toMatchObject({ ok: true, user: { email: "omar.new@corp.test" } });
    await createUser(db, "VIEWER", "taken@corp.test");
    const kept = await ssoSignIn(db, claims("omar", { email: "taken@corp.test" }), settings, null);
    expect(kept).toMatchObject({ ok: true, user: { email: "omar.new@corp.test" } });
  });

  it("gives a single sign-on user no password through the users API (409), and changes nothing", async () => {
    const r = await ssoSignIn(db, claims("quinn"), settings, null);
    if (!r.ok) throw new Error(r.code);
    await expect(updateUser(db, r.user.id, { password: "a-new-password-1" }, SYSTEM)).rejects.toMatchObject({ code: "CONFLICT" });
    const row = await db.user.findUniqueOrThrow({ where: { id: r.user.id }, omit: { passwordHash: false } });
    expect(row).toMatchObject({ passwordHash: null, sessionVersion: 0 });
    // Disabling one works as for anyone.
    await updateUser(db, r.user.id, { disabled: true }, SYSTEM);
    expect(await ssoSignIn(db, claims("quinn"), settings, null)).toEqual({ ok: false, code: "SsoDisabled" });
  });

  it("creates one user when the same identity signs in twice at once", async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => ssoSignIn(db, claims("pia", { groups: ["admins"] }), settings, null)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await db.user.count({ where: { oidcSubject: "pia" } })).toBe(1);
    expect(await events("user.created", "pia@corp.test")).toHaveLength(1);
  });
});
