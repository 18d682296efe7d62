import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot } from "./helpers";

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("a dashboard page redirects to the sign-in page", async ({ page }) => {
    await page.goto("/backups");
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await screenshot(page, "login");
  });

  test("a deep link survives sign-in; an off-site callbackUrl is refused", async ({ page }) => {
    await page.goto("/deployments?offset=20");
    await expect(page).toHaveURL(/\/login\?callbackUrl=%2Fdeployments%3Foffset%3D20$/);
    await page.getByLabel("Email").fill(E2E.admin.email);
    await page.getByLabel("Password").fill(E2E.admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/deployments\?offset=20$/);
    await expect(page.getByRole("heading", { name: "Deployments", level: 1 })).toBeVisible();

    await page.context().clearCookies();
    for (const evil of ["https://evil.example/x", "//evil.example/x", "/\\evil.example"]) {
      await page.goto(`/login?callbackUrl=${encodeURIComponent(evil)}`);
      await page.getByLabel("Email").fill(E2E.admin.email);
      await page.getByLabel("Password").fill(E2E.admin.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).toHaveURL(new RegExp(`^${E2E.baseURL}/overview$`));
      await page.context().clearCookies();
    }
  });

  test("a wrong password shows an error and stays signed out", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Email").fill(E2E.admin.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").filter({ hasText: "Email or password is wrong" })).toBeVisible();
    await expect(page).toHaveURL(/\/login/);
  });

  test("health shows an anonymous caller only the state and which checks fail", async ({ request }) => {
    const body = await (await request.get("/api/health")).json();
    expect(body.status).toMatch(/^(ok|degraded)$/);
    expect(Object.values(body.checks).every((v) => v === "ok" || v === "failing")).toBe(true);
  });

  test("an unknown API path answers the contract's JSON 404, not an HTML page", async ({ request }) => {
    for (const res of [await request.get("/api/no-such-thing"), await request.post("/api/backups/x/no-such-action", { data: {} })]) {
      expect(res.status()).toBe(404);
      expect(res.headers()["content-type"]).toContain("application/json");
      expect((await res.json()).error.code).toBe("NOT_FOUND");
    }
  });

  test("the API answers 401 UNAUTHENTICATED", async ({ request }) => {
    const res = await request.get("/api/backups");
    expect(res.status()).toBe(401);
    expect((await res.json()).error.code).toBe("UNAUTHENTICATED");
  });
});

test("the admin sees the shell with every area and their name", async ({ page }) => {
  await page.goto("/backups");
  for (const area of ["Backups", "Restores", "Deployments", "Checks", "Audit log", "Settings", "API"]) {
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: area })).toBeVisible();
  }
  await expect(page.getByTestId("current-user")).toHaveText("Administrator");
});

test("health shows a signed-in caller every check's details", async ({ page }) => {
  const body = await (await page.request.get("/api/health")).json();
  expect(body.checks.database).toEqual({ status: "ok" });
  expect(body.checks.pgDump).toMatchObject({ status: "ok" });
});

test("the admin opens the ADMIN-only users page", async ({ page }) => {
  await page.goto("/settings/users");
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("cell", { name: E2E.viewer.email, exact: true })).toBeVisible();
});

test.describe("as a VIEWER", () => {
  test.use({ storageState: E2E.viewerState });

  test("cannot reach the ADMIN-only users page", async ({ page }) => {
    await page.goto("/settings/users");
    await expect(page.getByRole("alert").filter({ hasText: "You need the ADMIN role" })).toBeVisible();
    await expect(page.getByRole("cell", { name: E2E.admin.email, exact: true })).toHaveCount(0);
    await screenshot(page, "viewer-denied");
  });

  test("gets 403 from an ADMIN-only API", async ({ page }) => {
    const res = await page.request.get("/api/users");
    expect(res.status()).toBe(403);
    expect((await res.json()).error.code).toBe("FORBIDDEN");
  });
});

test("a token with the wrong scope gets 403, the right scope 200", async ({ page, playwright }) => {
  const created = await page.request.post("/api/tokens", { headers: E2E.sameOrigin, data: { name: "deploy-only", scopes: ["deploy"] } });
  expect(created.status()).toBe(201);
  const { token } = await created.json();
  expect(token).toMatch(/^vl_/);
  const api = await playwright.request.newContext({ baseURL: E2E.baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
  const wrong = await api.get("/api/backups");
  expect(wrong.status()).toBe(403);
  expect((await wrong.json()).error.code).toBe("FORBIDDEN");

  const reader = await (await page.request.post("/api/tokens", { headers: E2E.sameOrigin, data: { name: "reader", scopes: ["backups:read"] } })).json();
  const api2 = await playwright.request.newContext({ baseURL: E2E.baseURL, extraHTTPHeaders: { authorization: `Bearer ${reader.token}` } });
  const ok = await api2.get("/api/backups");
  expect(ok.status()).toBe(200);
  expect(await ok.json()).toMatchObject({ backups: expect.any(Array), total: expect.any(Number) });
});
