// Undo restore through the dashboard (DESIGN §5), and then giving the server its disk back
// (decision 170): a swap restore of a target of its own, undone from the restore's page —
// the rows written after the backup are back — and the restored copy kept since the undo
// dropped from the same page.
import { test, expect } from "@playwright/test";
import { screenshot, sql, takeBackup } from "./helpers";
import { asAdmin, createTarget, removeTargetAndDatabase, urlOf } from "./target-seed";
import { sql as sqlAt } from "../tests/support/sql";

const DB = "e2e_undo_db";
const count = async () => (await sqlAt<{ n: number }>(urlOf(DB), "SELECT count(*)::int AS n FROM events"))[0].n;

test.describe.serial("undo a restore from its page", () => {
  let targetId = "";

  test.beforeAll(async ({ browser }) => {
    await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await sql(`CREATE DATABASE ${DB}`);
    await sqlAt(urlOf(DB), "CREATE TABLE events (id int PRIMARY KEY, what text); INSERT INTO events SELECT g, 'event ' || g FROM generate_series(1, 200) g");
    targetId = await asAdmin(browser, (req) => createTarget(req, "undo-db", "prod", DB));
  });

  test.afterAll(async ({ browser }) => {
    const kept = await sql<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}\\_\\_%`]);
    for (const { datname } of kept) await sql(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await removeTargetAndDatabase(browser, targetId, DB);
  });

  test("the restore swaps, Undo swaps back, and the restored copy is dropped on request", async ({ page }) => {
    test.setTimeout(180_000);
    const id = await takeBackup(page, { target: targetId });
    await sqlAt(urlOf(DB), "INSERT INTO events SELECT g, 'after the backup' FROM generate_series(201, 250) g");

    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-plan")).toHaveAttribute("data-strategy", "swap", { timeout: 30_000 });
    await dialog.getByLabel("Type RESTORE to replace undo-db").fill("RESTORE");
    await dialog.getByRole("button", { name: "Restore database" }).click();
    await expect(dialog.getByTestId("restore-progress")).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 120_000 });
    expect(await count()).toBe(200);

    await dialog.getByRole("link", { name: "Restore details" }).click();
    await page.getByRole("button", { name: "Undo restore" }).click();
    const undo = page.getByRole("dialog", { name: "Undo restore" });
    await undo.getByLabel("Type UNDO to put back the previous database of undo-db").fill("UNDO");
    await undo.getByRole("button", { name: "Undo restore" }).click();
    await expect(undo).toBeHidden({ timeout: 30_000 });
    await expect(page.getByTestId("restore-detail")).toContainText("Undone");
    expect(await count()).toBe(250);
    await expect(page.getByRole("button", { name: "Undo restore" })).toHaveCount(0);

    await page.getByRole("button", { name: "Drop the restored copy now" }).click();
    const drop = page.getByRole("dialog", { name: "Drop the restored copy now" });
    await expect(drop).toContainText("kept since the undo");
    const [{ datname: kept }] = await sql<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}\\_\\_undone\\_%`]);
    await drop.getByLabel(`Type DROP to drop ${kept}`).fill("DROP");
    await drop.getByRole("button", { name: "Drop it" }).click();
    await expect(drop).toBeHidden();
    await expect(page.getByTestId("restore-detail")).toContainText("(dropped ");
    expect(await sql("SELECT 1 FROM pg_database WHERE datname = $1", [kept])).toEqual([]);
    expect(await count()).toBe(250);
    await screenshot(page, "restore-detail-undone-dropped");
  });
});
