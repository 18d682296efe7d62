// The audit log by target (decision 110): the switcher's target carried to /audit shows
// that target's events only, each row names its target, and "All targets" (what /audit
// shows with no target chosen) brings back every event, those of no target included.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";
import { createTarget } from "./target-seed";

const SHOP_DB = "e2e_audit_shop";
const CRM_DB = "e2e_audit_crm";
const ACTION = "e2e.audit_target";

const ids = { shop: "", crm: "" };

test.describe.serial("the audit log by target", () => {
  test.beforeAll(async ({ browser }) => {
    for (const db of [SHOP_DB, CRM_DB]) {
      await sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await sql(`CREATE DATABASE ${db}`);
    }
    const ctx = await browser.newContext({ storageState: E2E.adminState, baseURL: E2E.baseURL });
    ids.shop = await createTarget(ctx.request, "audit-shop", "prod", SHOP_DB);
    ids.crm = await createTarget(ctx.request, "audit-crm", "staging", CRM_DB);
    await ctx.close();
    // One event of each target and one of none, under an action of their own.
    await sql(`DELETE FROM "AuditEvent" WHERE action = $1`, [ACTION]);
    for (const [id, targetId, subject] of [
      ["e2eauditshop000000000001", ids.shop, "shop-subject"],
      ["e2eauditcrm0000000000001", ids.crm, "crm-subject"],
      ["e2eauditnone000000000001", null, "no-target-subject"],
    ]) {
      await sql(`INSERT INTO "AuditEvent" (id, "actorType", "actorLabel", action, target, "targetId", details) VALUES ($1, 'system', 'e2e', $2, $3, $4, '{}')`, [id, ACTION, subject, targetId]);
    }
  });

  test.afterAll(async ({ browser }) => {
    await sql(`DELETE FROM "AuditEvent" WHERE action = $1`, [ACTION]);
    const ctx = await browser.newContext({ storageState: E2E.adminState, baseURL: E2E.baseURL });
    for (const id of [ids.shop, ids.crm]) if (id) await ctx.request.delete(`/api/targets/${id}?force=true`, { headers: E2E.sameOrigin });
    await ctx.close();
    for (const db of [SHOP_DB, CRM_DB]) await sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  test("switching target, then Audit log: only that target's events, each row naming it; All targets brings back every event", async ({ page }) => {
    await page.goto("/backups");
    const switcher = page.getByRole("combobox", { name: "Target" });
    await switcher.selectOption("audit-shop");
    await expect(page).toHaveURL(/\/backups\?target=audit-shop$/);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await expect(page).toHaveURL(/\/audit\?target=audit-shop$/);
    await expect(switcher).toHaveValue("audit-shop");

    const scope = page.getByTestId("audit-scope");
    await expect(scope).toHaveAttribute("data-scope", "audit-shop");
    await expect(scope).toContainText("events of no target (sign-ins, users, tokens, settings) are not shown");
    const table = page.getByRole("table", { name: "Audit events" });
    const rows = table.locator("tbody tr");
    // Every row is audit-shop's (its target.created included), none is another's or of none.
    await expect(rows.first()).toBeVisible();
    const count = await rows.count();
    await expect(rows.locator('[data-testid="target-badge"][data-target="audit-shop"]')).toHaveCount(count);
    await expect(table).toContainText("target.created");
    await expect(table).not.toContainText("crm-subject");
    await expect(table).not.toContainText("no-target-subject");

    await page.getByLabel("Action", { exact: true }).selectOption(ACTION);
    await expect(page).toHaveURL(new RegExp(`action=${ACTION.replace(".", "\\.")}.*target=audit-shop|target=audit-shop.*action=${ACTION.replace(".", "\\.")}`));
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText("shop-subject");
    await screenshot(page, "audit-one-target");

    // Every target: the switcher offers it here, and the page says so.
    await switcher.selectOption({ label: "All targets" });
    await expect(page).toHaveURL(new RegExp(`/audit\\?action=${ACTION.replace(".", "\\.")}$`));
    await expect(scope).toHaveAttribute("data-scope", "all");
    await expect(rows).toHaveCount(3);
    await expect(rows.filter({ hasText: "crm-subject" }).locator('[data-testid="target-badge"]')).toHaveAttribute("data-target", "audit-crm");
    await expect(rows.filter({ hasText: "no-target-subject" }).locator('[data-testid="target-badge"]')).toHaveCount(0);

    // `default` is one target among others here: named in the URL, and none of these is its.
    await switcher.selectOption("default");
    await expect(page).toHaveURL(/target=default/);
    await expect(page.getByText("No events match these filters")).toBeVisible();
    await screenshot(page, "audit-all-targets");
  });

  test.describe("on a phone", () => {
    test.use({ viewport: { width: 390, height: 844 } });
    test("one target's audit log, with its scope line and Target column, does not scroll sideways", async ({ page }) => {
      await page.goto("/audit?target=audit-shop");
      await expect(page.getByRole("table", { name: "Audit events" }).locator('tbody [data-testid="target-badge"]').first()).toBeVisible();
      await expect(page.getByRole("link", { name: "Show all targets" })).toBeVisible();
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      await screenshot(page, "audit-one-target-390");
    });
  });
});
