// The database is gone (decision 165): its backup's restore dialog says the restore will create
// it, and the restore does — a target on the e2e server whose database was dropped after its
// backup.
import { test, expect } from "@playwright/test";
import { screenshot, sql, takeBackup } from "./helpers";
import { asAdmin, createTarget, removeTargetAndDatabase, urlOf } from "./target-seed";
import { sql as sqlAt } from "../tests/support/sql";

const DB = "e2e_gone_db";

test.describe.serial("a restore into a database that is gone", () => {
  let targetId = "";

  test.beforeAll(async ({ browser }) => {
    await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await sql(`CREATE DATABASE ${DB}`);
    await sqlAt(urlOf(DB), "CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders SELECT g, g * 7 FROM generate_series(1, 500) g");
    await sql(`COMMENT ON DATABASE ${DB} IS 'the orders'`);
    targetId = await asAdmin(browser, (req) => createTarget(req, "gone-db", "prod", DB));
  });

  test.afterAll(async ({ browser }) => {
    await removeTargetAndDatabase(browser, targetId, DB);
  });

  test("the dialog says the database will be created, and the restore brings it back", async ({ page }) => {
    test.setTimeout(180_000);
    const id = await takeBackup(page, { target: targetId });
    await sql(`DROP DATABASE ${DB} WITH (FORCE)`);

    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    const preview = dialog.getByTestId("restore-preview");
    await expect(preview).toBeVisible({ timeout: 30_000 });
    await expect(preview).toContainText("Checksum and key verified");
    await expect(preview).toContainText(`The database ${DB} does not exist on the target's server: the restore creates it as the backup had it`);
    await expect(dialog.getByTestId("restore-missing-database")).toContainText(`The database ${DB} is not on its server.`);
    await expect(dialog).not.toContainText("This replaces the whole live database");
    await screenshot(page, "restore-modal-missing-database");
    await dialog.getByLabel("Type RESTORE to replace gone-db").fill("RESTORE");
    await dialog.getByRole("button", { name: "Restore database" }).click();
    const progress = dialog.getByTestId("restore-progress");
    await expect(progress).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 120_000 });
    await screenshot(page, "restore-missing-database-succeeded");
    const rows = await sqlAt<{ n: number; total: string }>(urlOf(DB), "SELECT count(*)::int AS n, sum(total)::text AS total FROM orders");
    expect(rows).toEqual([{ n: 500, total: String(7 * 500 * 501 / 2) }]);
    const [{ comment }] = await sql<{ comment: string }>("SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [DB]);
    expect(comment).toBe("the orders");
  });
});
