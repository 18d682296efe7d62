// The API page and the document behind it, in the running app: a VIEWER reaches it from
// the navigation and reads the gate's operation and its schemas; the document itself goes
// to a session or a token of any scope, never to an anonymous caller; the page loads
// nothing the Content-Security-Policy refuses.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";

test.describe("as a VIEWER", () => {
  test.use({ storageState: E2E.viewerState });

  test("the API page shows the gate's operation, who may call it, and its schemas", async ({ page }) => {
    const refused: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") refused.push(m.text());
    });
    await page.goto("/backups");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API", exact: true }).click();
    await expect(page).toHaveURL(/\/api-docs$/);
    await expect(page.getByRole("heading", { name: "API", exact: true })).toBeVisible();
    const gate = page.locator("#postDeployGate");
    await expect(gate.getByRole("heading", { level: 3 })).toContainText("POST/api/deploy/gate");
    await expect(gate).toContainText("an API token with the deploy scope");
    await expect(gate).toContainText("commitSha");
    await gate.getByRole("link", { name: "GateBlocked" }).click();
    await expect(page.locator("#schema-GateBlocked")).toBeInViewport();
    await expect(page.locator("#schema-GateBlocked")).toContainText("BACKUP_REQUIRED");
    expect(refused.filter((t) => /Content Security Policy|Refused to/.test(t))).toEqual([]);
  });

  test("the page's link answers the document to the session", async ({ page }) => {
    const res = await page.request.get("/api/openapi.json");
    expect(res.status()).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/deploy/gate"].post.security).toEqual([{ sessionCookie: ["OPERATOR"] }, { bearerToken: ["deploy"] }]);
  });
});

test("a token of any scope gets the document; no credentials, a 401", async ({ page, playwright }) => {
  const created = await page.request.post("/api/tokens", { headers: E2E.sameOrigin, data: { name: "openapi-reader", scopes: ["metrics"] } });
  const { token } = await created.json();
  const api = await playwright.request.newContext({ baseURL: E2E.baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
  const res = await api.get("/api/openapi.json");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("application/json");
  expect(Object.keys((await res.json()).paths)).toContain("/api/openapi.json");
  // No cookies: a context made in a test starts from the project's (signed-in) storage state otherwise.
  const anon = await playwright.request.newContext({ baseURL: E2E.baseURL, storageState: { cookies: [], origins: [] } });
  const refused = await anon.get("/api/openapi.json");
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe("UNAUTHENTICATED");
});
