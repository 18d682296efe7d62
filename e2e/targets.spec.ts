// Targets in the dashboard (DESIGN §8): the overview landing page lists every target with
// today's state, the switcher in the navigation changes what the lists show (in the URL,
// kept from page to page), and a restore confirmation names the database it replaces.
// Two extra targets point at databases on the e2e PostgreSQL server; their history is
// seeded rows, so the states are exact.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";
import { createTarget } from "./target-seed";
import { removeSeeded, seedBackups, seedId } from "./backup-seed";

const P = "e2etgt";
const SHOP_DB = "e2e_ui_shop";
const CRM_DB = "e2e_ui_crm";
const HOUR = 3_600_000;

const ids = { shop: "", crm: "" };
const shopBackups = [seedId(P, 1), seedId(P, 2), seedId(P, 3)];
const crmFailed = seedId(P, 4);
const defaultBackup = seedId(P, 5);

test.describe.serial("targets in the dashboard", () => {
  test.beforeAll(async ({ browser }) => {
    for (const db of [SHOP_DB, CRM_DB]) {
      await sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await sql(`CREATE DATABASE ${db}`);
    }
    const ctx = await browser.newContext({ storageState: E2E.adminState, baseURL: E2E.baseURL });
    ids.shop = await createTarget(ctx.request, "shop-prod", "prod", SHOP_DB);
    ids.crm = await createTarget(ctx.request, "crm-staging", "staging", CRM_DB);
    await ctx.close();

    await removeSeeded(P);
    const now = Date.now();
    await seedBackups([
      // shop-prod: three successful backups growing, the newest half an hour ago (today, UTC,
      // unless the test runs in the first half hour of the day).
      { id: shopBackups[0], targetId: ids.shop, createdAt: new Date(now - 50 * HOUR), sizeBytes: 1_000_000, note: "shop one" },
      { id: shopBackups[1], targetId: ids.shop, createdAt: new Date(now - 26 * HOUR), sizeBytes: 2_000_000, note: "shop two" },
      { id: shopBackups[2], targetId: ids.shop, createdAt: new Date(now - 0.5 * HOUR), sizeBytes: 3_000_000, note: "shop three" },
      // crm-staging: today's backup failed, and it has never succeeded.
      { id: crmFailed, targetId: ids.crm, status: "FAILED", createdAt: new Date(now - 0.25 * HOUR), sizeBytes: null, checksumSha256: null, failureReason: "connection refused" },
      // default: one of its own, which shop-prod's list must not show.
      { id: defaultBackup, createdAt: new Date(now - 0.75 * HOUR), note: "default's own" },
    ]);
  });

  test.afterAll(async ({ browser }) => {
    await removeSeeded(P);
    const ctx = await browser.newContext({ storageState: E2E.adminState, baseURL: E2E.baseURL });
    for (const id of [ids.shop, ids.crm]) if (id) await ctx.request.delete(`/api/targets/${id}?force=true`, { headers: E2E.sameOrigin });
    await ctx.close();
    for (const db of [SHOP_DB, CRM_DB]) await sql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });

  test("the landing page is the overview: every target with its state, last success, next run and size trend", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/overview$/);
    await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();

    const shop = page.locator('[data-testid="target-card"][data-target="shop-prod"]');
    const crm = page.locator('[data-testid="target-card"][data-target="crm-staging"]');
    await expect(page.locator('[data-testid="target-card"][data-target="default"]')).toBeVisible();

    // Today counts from 00:00 UTC: in the first half hour of the day shop-prod's newest is yesterday's.
    const early = new Date().getUTCHours() === 0 && new Date().getUTCMinutes() < 31;
    await expect(shop).toHaveAttribute("data-state", early ? "missing" : "ok");
    if (!early) await expect(shop.getByTestId("target-state")).toHaveText("Today's backup completed");
    await expect(shop).toContainText(`${SHOP_DB} on `);
    await expect(shop.getByTestId("last-success")).toContainText("UTC");
    await expect(shop.getByTestId("next-run")).toHaveText("no schedule");
    await expect(shop.getByTestId("size-trend")).toHaveAttribute("data-count", "3");
    await expect(shop.getByRole("img", { name: /Size of the last 3 successful backups of shop-prod: 2\.9 MiB now, \+200 %/ })).toBeVisible();

    await expect(crm).toHaveAttribute("data-state", "failed");
    await expect(crm.getByTestId("target-state")).toHaveText("Today's backup failed");
    await expect(crm.getByTestId("last-success")).toHaveText("never");
    await expect(crm.getByTestId("size-trend")).toHaveText("No successful backups yet");
    // Worst first: the failed target before the one whose backup is done.
    const order = await page.getByTestId("target-card").evaluateAll((els) => els.map((e) => e.getAttribute("data-target")));
    expect(order.indexOf("crm-staging")).toBeLessThan(order.indexOf("shop-prod"));
    await expect(page.getByTestId("overview-summary")).toContainText(`${order.length} targets`);
    await expect(page.getByTestId("overview-summary")).toContainText("failed today");
    await screenshot(page, "targets-overview");

    // Storage: what the backups take (the seeded 3 MB of shop-prod's newest among them) and,
    // the e2e storage being local, its disk with the next backup drawn on it (decision 159).
    const storage = page.getByTestId("storage-panel");
    await expect(storage.getByTestId("storage-usage")).toContainText(/^\d+ backups stored, [0-9.]+ (KiB|MiB|GiB)\.$/);
    const disk = storage.getByTestId("storage-disk");
    await expect(disk).toHaveAttribute("data-fits", "yes");
    await expect(disk).toContainText(/The next backup \(about [0-9.]+ (KiB|MiB), the largest FULL of the last 8 days\) fits, with 1 GiB left free\./);
    await expect(disk.getByRole("img", { name: /^Disk: .* used, .* for the next backup, .* free of .*$/ })).toBeVisible();
    await storage.scrollIntoViewIfNeeded();
    await screenshot(page, "overview-storage");

    await shop.getByRole("link", { name: "Backups of shop-prod" }).click();
    await expect(page).toHaveURL(/\/backups\?target=shop-prod$/);
    await expect(page.getByRole("combobox", { name: "Target" })).toHaveValue("shop-prod");
  });

  test("switching the target changes the backups list and the URL, and survives moving to Restores", async ({ page }) => {
    await page.goto("/backups");
    const switcher = page.getByRole("combobox", { name: "Target" });
    await expect(switcher).toHaveValue("default");
    await expect(page.locator(`tr[data-backup-id="${defaultBackup}"]`)).toBeVisible();
    await expect(page.locator(`tr[data-backup-id="${shopBackups[2]}"]`)).toHaveCount(0);

    await switcher.selectOption("shop-prod");
    await expect(page).toHaveURL(/\/backups\?target=shop-prod$/);
    await expect(page.getByTestId("target-context")).toContainText("shop-prod");
    for (const id of shopBackups) await expect(page.locator(`tr[data-backup-id="${id}"]`)).toBeVisible();
    await expect(page.locator(`tr[data-backup-id="${defaultBackup}"]`)).toHaveCount(0);
    await expect(page.locator(`tr[data-backup-id="${crmFailed}"]`)).toHaveCount(0);
    // Every row says whose it is.
    const badges = page.locator("tbody tr [data-testid=target-badge]");
    await expect(badges.first()).toBeVisible();
    expect(new Set(await badges.evaluateAll((els) => els.map((e) => e.getAttribute("data-target"))))).toEqual(new Set(["shop-prod"]));
    await screenshot(page, "targets-backups-shop-prod");

    // A filter keeps the target; the navigation's links carry it.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Restores" }).click();
    await expect(page).toHaveURL(/\/restores\?target=shop-prod$/);
    await expect(page.getByRole("combobox", { name: "Target" })).toHaveValue("shop-prod");
    await expect(page.getByText("No restores of shop-prod yet")).toBeVisible();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Backups" }).click();
    await expect(page).toHaveURL(/\/backups\?target=shop-prod$/);
    await expect(page.locator(`tr[data-backup-id="${shopBackups[2]}"]`)).toBeVisible();

    // Deployments of another target: one gate panel (the panels are keyed per target), and
    // Deploy, whose hook deploys the default target's app, is not offered for it.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Deployments" }).click();
    await expect(page).toHaveURL(/\/deployments\?target=shop-prod$/);
    await expect(page.getByTestId("gate-state")).toHaveCount(1);
    await expect(page.getByTestId("other-target-deploy")).toContainText('"target": "shop-prod"');
    await expect(page.getByRole("button", { name: /^Deploy/ })).toBeDisabled();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Backups" }).click();
    await expect(page).toHaveURL(/\/backups\?target=shop-prod$/);

    // Back to default: today's URL, without a param.
    await page.getByRole("combobox", { name: "Target" }).selectOption("default");
    await expect(page).toHaveURL(/\/backups$/);
    await expect(page.locator(`tr[data-backup-id="${defaultBackup}"]`)).toBeVisible();
  });

  test("a restore confirmation names the target it replaces, with its database and host", async ({ page }) => {
    await page.goto("/backups?target=shop-prod");
    await page.locator(`tr[data-backup-id="${shopBackups[2]}"]`).getByRole("button", { name: "Restore" }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${shopBackups[2].slice(0, 8)}` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Type RESTORE to replace shop-prod")).toBeVisible();
    const where = dialog.getByTestId("target-where").first();
    await expect(where).toHaveAttribute("data-target", "shop-prod");
    await expect(where).toContainText(`shop-prod (prod: ${SHOP_DB} on `);
    await expect(dialog).toContainText("safety backup of shop-prod");
    await screenshot(page, "targets-restore-confirmation");
    // The seeded backup has no archive: the preview fails and nothing can be confirmed.
    await dialog.getByLabel("Type RESTORE to replace shop-prod").fill("RESTORE");
    await expect(dialog.getByRole("button", { name: "Restore database" })).toBeDisabled();
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();

    // Deleting names it too.
    await page.locator(`tr[data-backup-id="${shopBackups[0]}"]`).getByRole("button", { name: /More actions/ }).click();
    await page.getByRole("menuitem", { name: "Delete…" }).click();
    const del = page.getByRole("dialog", { name: `Delete backup ${shopBackups[0].slice(0, 8)}?` });
    await expect(del.getByTestId("target-where")).toContainText(`shop-prod (prod: ${SHOP_DB} on `);
    await page.keyboard.press("Escape");
    await expect(del).toBeHidden();
  });
});
