// A restore into a copy beside the live database (decision 169): after a migration dropped a
// column, the backup is restored beside the live database, which keeps every write since;
// the restore's page names the copy, and where its files went beside the live ones (decisions
// 191, 192: the target's own directory for them). A target of its own on the e2e server.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { screenshot, sql, takeBackup } from "./helpers";
import { asAdmin, createTarget, removeTargetAndDatabase, urlOf } from "./target-seed";
import { E2E } from "./env";
import { sql as sqlAt } from "../tests/support/sql";

const DB = "e2e_copy_db";

test.describe.serial("a restore into a copy beside the live database", () => {
  let targetId = "";
  let parent = "";
  let uploads = "";
  let copies = "";

  test.beforeAll(async ({ browser }) => {
    // The application's uploads: an invoice the bad release will delete.
    parent = await mkdtemp(path.join(tmpdir(), "vaultline-e2e-copy-"));
    uploads = path.join(parent, "uploads");
    copies = path.join(parent, "copies");
    await mkdir(path.join(uploads, "invoices"), { recursive: true });
    await writeFile(path.join(uploads, "invoices", "inv-42.pdf"), "%PDF-1.7 the invoice of customer 42");
    await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await sql(`CREATE DATABASE ${DB}`);
    await sqlAt(urlOf(DB), "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL); INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 300) g");
    targetId = await asAdmin(browser, async (req) => {
      const id = await createTarget(req, "copy-db", "prod", DB);
      const res = await req.patch(`/api/targets/${id}`, { headers: E2E.sameOrigin, data: { settings: { filesDir: uploads, copyFilesDir: copies } } });
      expect(res.status(), await res.text()).toBe(200);
      return id;
    });
  });

  test.afterAll(async ({ browser }) => {
    const copies = await sql<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}__copy_%`]);
    for (const { datname } of copies) await sql(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await removeTargetAndDatabase(browser, targetId, DB);
    await rm(parent, { recursive: true, force: true });
  });

  test("the dialog offers a copy; it is made beside the live database, which keeps the writes since", async ({ page }) => {
    test.setTimeout(180_000);
    const id = await takeBackup(page, { target: targetId, includeFiles: true });
    // The bad migration, and a customer who signed up after it; the invoice's file deleted.
    await sqlAt(urlOf(DB), "ALTER TABLE customers DROP COLUMN email; INSERT INTO customers VALUES (301)");
    await rm(path.join(uploads, "invoices", "inv-42.pdf"));

    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    await expect(dialog).toContainText("This replaces the whole live database");
    await dialog.getByRole("radio", { name: /A copy beside it/ }).check();
    await expect(dialog.getByTestId("restore-copy-note")).toContainText("The backup is restored into a new database beside the live one");
    await expect(dialog).not.toContainText("This replaces the whole live database");
    await expect(dialog.getByTestId("restore-plan")).toHaveAttribute("data-strategy", "copy");
    await expect(dialog).toContainText(`The backup's files go into a directory of the target's copy files directory (${copies}) named as the copy`);
    await screenshot(page, "restore-modal-copy");
    await dialog.getByLabel("Type RESTORE to restore a copy beside copy-db").fill("RESTORE");
    await dialog.getByRole("button", { name: "Restore as a copy" }).click();
    const progress = dialog.getByTestId("restore-progress");
    await expect(progress).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 120_000 });
    const made = dialog.getByTestId("restore-copy-made");
    await expect(made).toContainText(`${DB}__copy_`);
    await expect(made).toContainText("which was not touched");

    // The live database: the migration and the write since, as they were.
    expect(await sqlAt<{ n: number }>(urlOf(DB), "SELECT count(*)::int AS n FROM customers")).toEqual([{ n: 301 }]);
    const [{ datname: copy }] = await sql<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}__copy_%`]);
    // The copy: the backup, the dropped column's values there to read back.
    expect(await sqlAt<{ n: number; email: string }>(urlOf(copy), "SELECT count(email)::int AS n, (SELECT email FROM customers WHERE id = 42) AS email FROM customers")).toEqual([
      { n: 300, email: "c42@example.com" },
    ]);

    // The invoice's file beside the live files, which are as the application left them.
    expect(await readFile(path.join(copies, copy, "invoices", "inv-42.pdf"), "utf8")).toBe("%PDF-1.7 the invoice of customer 42");
    expect(await readdir(path.join(uploads, "invoices"))).toEqual([]);

    await made.getByRole("link", { name: "Restore details" }).click();
    await expect(page.getByTestId("restore-copy-database")).toContainText(copy);
    await expect(page.getByTestId("restore-copy-files")).toContainText(path.join(copies, copy));
    await expect(page.getByTestId("restore-copy-files")).toContainText("(removed with the copy)");
    await expect(page.getByTestId("restore-detail")).toContainText("Into a copy beside the live database");
    await expect(page.getByTestId("restore-detail")).toContainText("None: a copy leaves the live database as it was");
    await expect(page.getByRole("button", { name: "Undo restore" })).toHaveCount(0);
    await screenshot(page, "restore-detail-copy");

    // Reading back takes longer than the day it is kept: kept 3 more days (decision 172).
    const keep = page.getByTestId("restore-keep-longer");
    await keep.getByLabel("Keep it for").selectOption({ label: "3 more days" });
    await keep.getByRole("button", { name: "Keep longer" }).click();
    await expect(keep.getByRole("status")).toContainText("Kept until");
    const inThreeDays = new Date(Date.now() + 72 * 3600_000).toISOString().slice(0, 10);
    await expect(page.getByTestId("restore-copy-database")).toContainText(`(kept until ${inThreeDays}`);

    // Read back what was lost, then give the server its disk back (decision 170).
    await page.getByRole("button", { name: "Drop the copy now" }).click();
    const drop = page.getByRole("dialog", { name: "Drop the copy now" });
    await expect(drop).toContainText("Read back what you need from it first");
    await expect(drop).toContainText(`nor the backup's files the restore put beside the live ones (${path.join(copies, copy)}), which are removed with it`);
    await drop.getByLabel(`Type DROP to drop ${copy}`).fill("DROP");
    await drop.getByRole("button", { name: "Drop it" }).click();
    await expect(drop).toBeHidden();
    await expect(page.getByTestId("restore-copy-database")).toContainText("(dropped ");
    await expect(page.getByTestId("restore-copy-files")).toContainText("(removed with the copy 20");
    expect(await readdir(copies)).toEqual([]);
    await expect(page.getByRole("button", { name: "Drop the copy now" })).toHaveCount(0);
    expect(await sql("SELECT 1 FROM pg_database WHERE datname = $1", [copy])).toEqual([]);
    expect(await sqlAt<{ n: number }>(urlOf(DB), "SELECT count(*)::int AS n FROM customers")).toEqual([{ n: 301 }]);
  });
});
