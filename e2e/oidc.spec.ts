// Issue 17 §4 in the browser: single sign-on against a real OpenID Connect provider
// (oidc-provider, started here on loopback), its login form driven in Chromium. The app
// under test needs OIDC_* in its environment, so this spec starts its own two instances of
// the dashboard (tests/support/app.ts, from the build the Playwright web server just made)
// on a database of the e2e PostgreSQL: one with password sign-in beside single sign-on, one
// with LOCAL_LOGIN=false. The shared web server and the other specs are untouched.
import { test, expect, type Browser, type BrowserContext, type Page } from "@playwright/test";
import path from "node:path";
import { freePort } from "../lib/embedded-postgres";
import { startApp, createUser, createDb, type RunningApp } from "../tests/support/app";
import { startTestIdp, IDP_CLIENT, type TestIdp } from "../tests/support/oidc-idp";
import { sql as sqlAt } from "../tests/support/sql";
import { dbUrl, screenshot, sql } from "./helpers";

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const DB = "vaultline_oidc_e2e";

let idp: TestIdp;
let app: RunningApp;
let ssoOnly: RunningApp;
let appDbUrl: string;

const appSql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => sqlAt<T>(appDbUrl, text, params);

// Several sign-ins through a provider each; generous, for a loaded machine.
test.describe.configure({ mode: "serial", timeout: 240_000 });

test.beforeAll(async () => {
  test.setTimeout(600_000);
  await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await sql(`CREATE DATABASE ${DB}`);
  const u = new URL(dbUrl());
  u.pathname = `/${DB}`;
  appDbUrl = u.toString();
  const idpPort = await freePort();
  const issuer = `http://localhost:${idpPort}`;
  const env = {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: IDP_CLIENT.id,
    OIDC_CLIENT_SECRET: IDP_CLIENT.secret,
    OIDC_NAME: "Corp SSO",
    OIDC_SCOPES: "openid email profile groups",
    OIDC_ADMIN_GROUPS: "vaultline-admins",
    OIDC_OPERATOR_GROUPS: "vaultline-operators",
    OIDC_VIEWER_GROUPS: "engineering",
    OIDC_DEFAULT_ROLE: "none",
  };
  // One after the other: both migrate the same database at start.
  app = await startApp({ appDir: REPO, databaseUrl: appDbUrl, env });
  ssoOnly = await startApp({ appDir: REPO, databaseUrl: appDbUrl, env: { ...env, LOCAL_LOGIN: "false" } });
  idp = await startTestIdp({
    port: idpPort,
    redirectUris: [app, ssoOnly].map((a) => `${a.baseUrl}/api/auth/callback/oidc`),
  });
  idp.accounts.set("alice", { email: "Alice@Corp.test", email_verified: true, name: "Alice Admin", groups: ["engineering", "vaultline-admins"] });
  idp.accounts.set("bob", { email: "bob@corp.test", email_verified: true, name: "Bob Marketing", groups: ["marketing"] });
  idp.accounts.set("olga", { email: "olga@corp.test", email_verified: true, name: "Olga Ops", groups: ["vaultline-operators"] });
  idp.accounts.set("mallory", { email: "local-op@corp.test", email_verified: true, name: "Mallory", groups: ["vaultline-admins"] });
});

test.afterAll(async () => {
  await Promise.all([app?.stop(), ssoOnly?.stop(), idp?.close()]);
  await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => {});
});

async function freshContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
}

/** From the dashboard's login page through the provider's own login form, and back. */
async function ssoSignIn(page: Page, account: string) {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in with Corp SSO" }).click();
  await expect(page).toHaveURL(new RegExp(`^${idp.issuer}/interaction/`));
  await page.getByPlaceholder("Enter any login").fill(account);
  await page.getByPlaceholder("and password").fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

/** The login page's message (Next's route announcer is an empty role=alert outside main). */
const loginAlert = (page: Page) => page.locator("main").getByRole("alert");

async function role(email: string) {
  const rows = await appSql<{ role: string }>(`SELECT role::text AS role FROM "User" WHERE email = $1`, [email]);
  return rows[0]?.role ?? null;
}

test("single sign-on in Chromium creates the user with the role its groups map to, audited", async ({ browser }) => {
  const ctx = await freshContext(browser, app.baseUrl);
  const page = await ctx.newPage();
  await page.goto("/login");
  // Password sign-in still offered beside single sign-on.
  await expect(page.getByLabel("Email")).toBeVisible();
  await screenshot(page, "login-sso-and-password");
  await ssoSignIn(page, "alice");
  await expect(page).toHaveURL(/\/overview$/);
  await expect(page.getByTestId("current-user")).toContainText("Alice Admin");
  // ADMIN from the vaultline-admins group (the highest of her groups): may manage users.
  expect((await page.request.get("/api/users")).status()).toBe(200);

  const [user] = await appSql<{ id: string; role: string; oidcIssuer: string; oidcSubject: string; passwordHash: string | null }>(
    `SELECT id, role::text AS role, "oidcIssuer", "oidcSubject", "passwordHash" FROM "User" WHERE email = 'alice@corp.test'`,
  );
  expect(user).toMatchObject({ role: "ADMIN", oidcIssuer: idp.issuer, oidcSubject: "alice", passwordHash: null });
  const events = await appSql<{ action: string; details: Record<string, unknown> }>(
    `SELECT action, details FROM "AuditEvent" WHERE "actorId" = $1 ORDER BY at`,
    [user.id],
  );
  expect(events.map((e) => e.action)).toEqual(["user.created", "auth.sign_in"]);
  expect(events[0].details).toMatchObject({ via: "oidc", role: "ADMIN", issuer: idp.issuer, subject: "alice", roleSource: "group" });
  expect(events[1].details).toMatchObject({ method: "oidc", issuer: idp.issuer });
  await ctx.close();
});

test("the role is mapped again at every sign-in: a removed group demotes, ends the older session, and is audited", async ({ browser }) => {
  const first = await freshContext(browser, app.baseUrl);
  const p1 = await first.newPage();
  await ssoSignIn(p1, "alice");
  await expect(p1.getByTestId("current-user")).toBeVisible();
  expect((await p1.request.get("/api/users")).status()).toBe(200);

  idp.accounts.set("alice", { ...idp.accounts.get("alice")!, groups: ["engineering", "vaultline-operators"] });
  const second = await freshContext(browser, app.baseUrl);
  const p2 = await second.newPage();
  await ssoSignIn(p2, "alice");
  await expect(p2.getByTestId("current-user")).toBeVisible();
  expect(await role("alice@corp.test")).toBe("OPERATOR");
  expect((await p2.request.get("/api/users")).status()).toBe(403);
  expect((await p2.request.get("/api/backups")).status()).toBe(200);
  // The session issued while she was ADMIN is over (session version), not merely demoted.
  expect((await p1.request.get("/api/backups")).status()).toBe(401);
  const [change] = await appSql<{ details: Record<string, unknown> }>(
    `SELECT details FROM "AuditEvent" WHERE action = 'user.updated' AND target = 'alice@corp.test'`,
  );
  expect(change.details).toMatchObject({ via: "oidc", roleBefore: "ADMIN", roleAfter: "OPERATOR", changed: ["role"] });

  // No group that gives access any more: refused with a clear message, and her sessions end.
  idp.accounts.set("alice", { ...idp.accounts.get("alice")!, groups: ["marketing"] });
  const third = await freshContext(browser, app.baseUrl);
  const p3 = await third.newPage();
  await ssoSignIn(p3, "alice");
  await expect(p3).toHaveURL(/\/login\?error=SsoNoRole/);
  await expect(loginAlert(p3)).toContainText("no Vaultline role");
  expect((await p2.request.get("/api/backups")).status()).toBe(401);
  idp.accounts.set("alice", { ...idp.accounts.get("alice")!, groups: ["vaultline-admins"] });
  for (const c of [first, second, third]) await c.close();
});

test("an unknown user with no mapped group is refused on the login page and not created", async ({ browser }) => {
  const ctx = await freshContext(browser, app.baseUrl);
  const page = await ctx.newPage();
  await ssoSignIn(page, "bob");
  await expect(page).toHaveURL(/\/login\?error=SsoNoRole/);
  await expect(loginAlert(page)).toHaveText(/Sign-in refused: your single sign-on account has no Vaultline role/);
  expect(await role("bob@corp.test")).toBeNull();
  expect((await page.request.get("/api/backups")).status()).toBe(401);
  const [failed] = await appSql<{ details: Record<string, unknown> }>(`SELECT details FROM "AuditEvent" WHERE action = 'auth.sign_in_failed' AND target = 'bob@corp.test'`);
  expect(failed.details).toMatchObject({ method: "oidc", reason: "no role", claimValues: ["marketing"] });
  await ctx.close();
});

test("a token from another issuer is refused with a clear message on the login page", async ({ browser }) => {
  // The configured address now answers as another provider (another realm on the same
  // host): its discovery document, its keys, its ID tokens — all consistent, all signed,
  // but not from OIDC_ISSUER.
  const other = `${idp.issuer}/realms/other`;
  idp.impersonate(other);
  const ctx = await freshContext(browser, app.baseUrl);
  const page = await ctx.newPage();
  try {
    const before = await role("alice@corp.test");
    await ssoSignIn(page, "olga");
    await expect(page).toHaveURL(/\/login\?error=SsoWrongIssuer/);
    await expect(loginAlert(page)).toContainText("an identity provider other than the one this dashboard trusts");
    await screenshot(page, "login-sso-wrong-issuer");
    expect((await page.request.get("/api/backups")).status()).toBe(401);
    expect(await role("olga@corp.test")).toBeNull();
    // An existing user signing in through the other issuer: refused too, nothing changed.
    const ctx2 = await freshContext(browser, app.baseUrl);
    const page2 = await ctx2.newPage();
    await ssoSignIn(page2, "alice");
    await expect(page2).toHaveURL(/\/login\?error=SsoWrongIssuer/);
    await ctx2.close();
    expect(await role("alice@corp.test")).toBe(before);
    const refused = await appSql<{ details: Record<string, unknown> }>(
      `SELECT details FROM "AuditEvent" WHERE action = 'auth.sign_in_failed' AND details->>'reason' = 'unknown issuer' ORDER BY at`,
    );
    expect(refused).toHaveLength(2);
    expect(refused[0].details).toMatchObject({ method: "oidc", issuer: other, expectedIssuer: idp.issuer });
  } finally {
    idp.impersonate(null);
    await ctx.close();
  }
  // The real provider again: olga signs in as OPERATOR.
  const again = await freshContext(browser, app.baseUrl);
  const p = await again.newPage();
  await ssoSignIn(p, "olga");
  await expect(p.getByTestId("current-user")).toContainText("Olga Ops");
  expect(await role("olga@corp.test")).toBe("OPERATOR");
  await again.close();
});

test("local accounts keep working beside single sign-on, and are not taken over by an identity with their email", async ({ browser }) => {
  const db = createDb(appDbUrl);
  try {
    const local = await createUser(db, "OPERATOR", "local-op@corp.test", "local-operator-password-1");
    const ctx = await freshContext(browser, app.baseUrl);
    const page = await ctx.newPage();
    // mallory's provider account carries the local operator's email (and the admin group).
    await ssoSignIn(page, "mallory");
    await expect(page).toHaveURL(/\/login\?error=SsoEmailTaken/);
    await expect(loginAlert(page)).toContainText("not linked to your single sign-on identity");
    const [row] = await appSql<{ role: string; oidcSubject: string | null }>(`SELECT role::text AS role, "oidcSubject" FROM "User" WHERE id = $1`, [local.id]);
    expect(row).toEqual({ role: "OPERATOR", oidcSubject: null });

    // The local operator signs in with a password as before.
    await page.getByLabel("Email").fill(local.email);
    await page.getByLabel("Password").fill(local.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByTestId("current-user")).toBeVisible();
    expect((await page.request.get("/api/backups")).status()).toBe(200);
    await ctx.close();

    // A single sign-on user has no password to try.
    const c2 = await freshContext(browser, app.baseUrl);
    const p2 = await c2.newPage();
    await p2.goto("/login");
    await p2.getByLabel("Email").fill("olga@corp.test");
    await p2.getByLabel("Password").fill("any-password-at-all");
    await p2.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(loginAlert(p2)).toHaveText("Email or password is wrong.");
    await c2.close();
  } finally {
    await db.$disconnect();
  }
});

test("LOCAL_LOGIN=false: no password form, the password endpoint refuses, single sign-on works", async ({ browser }) => {
  const ctx = await freshContext(browser, ssoOnly.baseUrl);
  const page = await ctx.newPage();
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "Sign in with Corp SSO" })).toBeVisible();
  await expect(page.getByLabel("Password")).toHaveCount(0);
  await screenshot(page, "login-sso-only");

  const csrf = (await (await page.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const res = await page.request.post("/api/auth/callback/credentials", {
    form: { csrfToken: csrf.csrfToken, email: "admin@bench.local", password: "admin-password-123", json: "true" },
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).error).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("LOCAL_LOGIN=false") });
  expect((await page.request.get("/api/backups")).status()).toBe(401);

  await ssoSignIn(page, "alice");
  await expect(page.getByTestId("current-user")).toContainText("Alice Admin");
  expect((await page.request.get("/api/users")).status()).toBe(200);
  await ctx.close();
});
