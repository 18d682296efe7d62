// A restore whose safety backup waits for the nightly backup of the same database (decision
// 176), with the rows as the worker writes them: the page names the nightly backup, how far it
// is, and cancels it on request so the restore goes on.
import { test, expect } from "@playwright/test";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedBackups, seedId, waitForIdle } from "./backup-seed";

const P = "e2esfw";

test.describe.serial("a restore's safety backup waiting for another backup", () => {
  const good = seedId(P, 1);
  const nightly = seedId(P, 2);
  const safety = seedId(P, 3);
  const restore = seedId(P, 4);
  test.beforeAll(async () => {
    await waitForIdle();
    await removeSeeded(P);
    const now = Date.now();
    await seedBackups([
      { id: good, createdAt: new Date(now - 3 * 3_600_000) },
      { id: nightly, trigger: "SCHEDULED", status: "RUNNING", createdAt: new Date(now - 38 * 60_000), startedAt: new Date(now - 38 * 60_000), completedAt: null, heartbeatAt: new Date(), sizeBytes: null, durationSeconds: null, checksumSha256: null, progressBytes: 7_400_000_000, phase: "dumping" },
      { id: safety, trigger: "PRE_RESTORE", status: "QUEUED", createdAt: new Date(now - 60_000), startedAt: null, completedAt: null, heartbeatAt: new Date(), sizeBytes: null, durationSeconds: null, checksumSha256: null, phase: `waiting for backup ${nightly} (FULL scheduled, dumping) to finish` },
    ]);
    await sql(`UPDATE "BackupJob" SET metadata = jsonb_build_object('waitingFor', $2::text) WHERE id = $1`, [safety, nightly]);
    await sql(
      `INSERT INTO "RestoreJob" (id, "backupId", "safetyBackupId", status, phase, "startedAt", "heartbeatAt", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, 'RUNNING', 'safety backup', now() - interval '1 minute', now(), now(), now())`,
      [restore, good, safety],
    );
  });
  test.afterAll(async () => {
    await removeSeeded(P);
  });

  test("names the backup it waits for and cancels it on request", async ({ page }) => {
    await page.goto(`/restores/${restore}`);
    const box = page.getByTestId("restore-running");
    await expect(box).toContainText("safety backup");
    await expect(box.getByTestId("live-progress")).toContainText(`waiting for backup ${nightly} (FULL scheduled, dumping) to finish`);
    const waits = box.getByTestId("safety-waits-for");
    await expect(waits).toContainText("The safety backup waits for backup e2esfw00 (FULL, scheduled, dumping, 6.9 GiB so far) to finish: one backup of a database runs at a time.");
    await expect(waits.getByRole("link", { name: "e2esfw00" })).toHaveAttribute("href", `/backups/${nightly}`);
    await screenshot(page, "restore-safety-waits");
    await waits.getByRole("button", { name: "Cancel backup e2esfw00" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Backup e2esfw00 cancelled; the safety backup goes on" })).toBeVisible();
    // A running backup is cancelled by its worker, which the request asks for.
    const [row] = await sql<{ cancel: string | null }>(`SELECT metadata->>'cancelRequestedAt' AS cancel FROM "BackupJob" WHERE id = $1`, [nightly]);
    expect(row.cancel).not.toBeNull();
  });
});
