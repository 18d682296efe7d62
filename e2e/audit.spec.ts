// /audit: events newest first, filtered by action and by actor type, through the URL.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot } from "./helpers";

test("filters the audit log by action and actor, newest first", async ({ page }) => {
  // Something known to be in the log: this admin's own sign-in (from the setup project).
  await page.goto("/audit");
  const table = page.getByRole("table", { name: "Audit events" });
  await expect(table.locator("tbody tr").first()).toBeVisible();
  const times = await table.locator("tbody time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime")!));
  expect([...times].sort().reverse()).toEqual(times);

  await page.getByLabel("Action", { exact: true }).selectOption("auth.sign_in");
  await expect(page).toHaveURL(/action=auth.sign_in/);
  const actions = table.locator("tbody tr td:nth-child(3)");
  await expect(actions.first()).toHaveText("auth.sign_in");
  await expect(actions.filter({ hasNotText: /^auth\.sign_in$/ })).toHaveCount(0);
  await expect(table).toContainText(E2E.admin.email);

  await page.getByLabel("Actor", { exact: true }).selectOption("system");
  await expect(page).toHaveURL(/actorType=system/);
  await expect(page.getByText("No events match these filters")).toBeVisible();
  await screenshot(page, "audit-filtered");
});

test.describe("as a VIEWER", () => {
  test.use({ storageState: E2E.viewerState });
  test("can read the audit log", async ({ page }) => {
    await page.goto("/audit");
    await expect(page.getByRole("table", { name: "Audit events" }).locator("tbody tr").first()).toBeVisible();
  });
});
