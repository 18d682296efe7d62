// Issue 12 in the browser: security headers on pages and API answers, framing refused,
// cross-site writes with the session cookie refused, and the dashboard working under its CSP.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { signIn, sql } from "./helpers";

test("pages and API answers carry the security headers", async ({ page, request }) => {
  for (const path of ["/login", "/backups", "/api/health", "/api/backups"]) {
    const res = await request.get(path, { maxRedirects: 0 });
    const h = res.headers();
    expect(h["x-frame-options"], path).toBe("DENY");
    expect(h["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(h["content-security-policy"], path).toContain("script-src 'self' 'unsafe-inline'");
    expect(h["referrer-policy"], path).toBe("same-origin");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["strict-transport-security"], `${path}: no HSTS over http`).toBeUndefined();
  }
  // The dashboard renders and runs its scripts under the policy, without CSP violations.
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto("/backups");
  await expect(page.getByTestId("current-user")).toBeVisible();
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/audit/);
  expect(violations).toEqual([]);
});

test("another site cannot frame the dashboard", async ({ page }) => {
  await page.setContent(`<iframe id="f" src="${E2E.baseURL}/login" width="800" height="600"></iframe>`);
  await page.waitForTimeout(1500);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const loaded = frame ? await frame.locator("input[type=password]").count().catch(() => 0) : 0;
  expect(loaded).toBe(0);
});

test("cross-site writes with the session cookie are refused and change nothing", async ({ page }) => {
  const email = "csrf-victim-made@e2e.test";
  const body = JSON.stringify({ email, displayName: "Evil", role: "ADMIN", password: "evil-password-123" });
  const attempts: { headers: Record<string, string>; data: string }[] = [
    { headers: { origin: "https://evil.example", "content-type": "text/plain" }, data: body },
    { headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, data: new URLSearchParams({ email }).toString() },
    { headers: { origin: "https://evil.example", "content-type": "application/json" }, data: body },
    { headers: { "content-type": "application/json" }, data: body },
  ];
  for (const a of attempts) {
    const res = await page.request.post("/api/users", a);
    expect(res.status(), JSON.stringify(a.headers)).toBe(403);
    expect((await res.json()).error.code).toBe("CSRF_REJECTED");
  }
  expect(await sql(`SELECT 1 FROM "User" WHERE email = $1`, [email])).toHaveLength(0);
});

test("sign out everywhere, and a password change, end the other sessions (401)", async ({ page, browser }) => {
  const user = { email: "sessions@e2e.test", password: "sessions-password-1" };
  const created = await page.request.post("/api/users", {
    headers: E2E.sameOrigin,
    data: { email: user.email, displayName: "Sessions User", role: "VIEWER", password: user.password },
  });
  expect([201, 409]).toContain(created.status());
  const id = created.status() === 201 ? (await created.json()).id : (await sql<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [user.email]))[0].id;

  const signedIn = async () => {
    const ctx = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const p = await ctx.newPage();
    await signIn(p, user.email, user.password);
    return { ctx, p };
  };
  const a = await signedIn();
  const b = await signedIn();
  expect((await b.p.request.get("/api/backups")).status()).toBe(200);
  await a.p.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(a.p).toHaveURL(/\/login/);
  expect((await b.p.request.get("/api/backups")).status()).toBe(401);
  await b.p.goto("/backups");
  await expect(b.p).toHaveURL(/\/login/);

  const c = await signedIn();
  expect((await c.p.request.get("/api/backups")).status()).toBe(200);
  const changed = await page.request.patch(`/api/users/${id}`, { headers: E2E.sameOrigin, data: { password: "sessions-password-2" } });
  expect(changed.status()).toBe(200);
  expect((await c.p.request.get("/api/backups")).status()).toBe(401);
  for (const s of [a, b, c]) await s.ctx.close();
});
