// /restores: when, who, from which backup, the safety backup taken first, how long, why it failed.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedId } from "./backup-seed";

const P = "e2erst";
// Distinct first 8 characters, since the page shows short ids.
const ok = seedId(`${P}o`, 1);
const failed = seedId(`${P}x`, 1);
const from = seedId(`${P}f`, 1);
const safety = seedId(`${P}s`, 1);

test.describe.serial("restore history", () => {
  test.beforeAll(async () => {
    await removeSeeded(P);
    const [admin] = await sql<{ id: string }>(`SELECT id FROM "User" WHERE email = $1`, [E2E.admin.email]);
    const ts = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace("T", " ").replace("Z", "");
    await sql(
      `INSERT INTO "RestoreJob" (id, "backupId", "safetyBackupId", status, phase, "initiatedById", "startedAt", "completedAt", "durationSeconds", "failureReason", "createdAt", "updatedAt")
       VALUES ($1, $3, $4, 'SUCCEEDED', 'done', $5, $6::timestamp, $7::timestamp, 42, NULL, $6::timestamp, $7::timestamp),
              ($2, $3, NULL, 'FAILED', 'verify', $5, $8::timestamp, $9::timestamp, 1.5, 'checksum mismatch: the stored archive is not the one that was backed up', $8::timestamp, $9::timestamp)`,
      [ok, failed, from, safety, admin.id, ts(3_600_000), ts(3_558_000), ts(60_000), ts(58_500)],
    );
  });
  test.afterAll(async () => removeSeeded(P));

  test("lists restores newest first with their safety backups and failure reasons", async ({ page }) => {
    await page.goto("/restores");
    const table = page.getByRole("table", { name: "Restore history" });
    const failedRow = table.getByRole("row").filter({ hasText: "checksum mismatch" });
    await expect(failedRow).toContainText("Failed");
    await expect(failedRow).toContainText("Administrator");
    await expect(failedRow.getByRole("link", { name: from.slice(0, 8) })).toHaveAttribute("href", `/backups/${from}`);
    const okRow = table.getByRole("row").filter({ hasText: "42 s" });
    await expect(okRow).toContainText("Succeeded");
    await expect(okRow.getByRole("link", { name: safety.slice(0, 8) })).toHaveAttribute("href", `/backups/${safety}`);
    // Newest first: the failure an hour later sits above the success.
    const rows = await table.locator("tbody tr").allInnerTexts();
    expect(rows.findIndex((t) => t.includes("checksum mismatch"))).toBeLessThan(rows.findIndex((t) => t.includes("42 s")));
    await screenshot(page, "restores");
  });

  test.describe("as a VIEWER", () => {
    test.use({ storageState: E2E.viewerState });
    test("can read the history", async ({ page }) => {
      await page.goto("/restores");
      await expect(page.getByRole("table", { name: "Restore history" })).toContainText("checksum mismatch");
    });
  });
});
