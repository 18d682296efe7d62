// Issue 12 in the browser: security headers on pages and API answers, framing refused,
// cross-site writes with the session cookie refused, and the dashboard working under its CSP.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { sql } from "./helpers";

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
