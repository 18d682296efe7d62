// /restores: when, who, from which backup, the safety backup taken first, how long, why it failed.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedBackups, seedId } from "./backup-seed";

const P = "e2erst";
// Distinct first 8 characters, since the page shows short ids.
const ok = seedId(`${P}o`, 1);
const failed = seedId(`${P}x`, 1);
const from = seedId(`${P}f`, 1);
const safety = seedId(`${P}s`, 1);
// A refused restore: its safety backup was cancelled, and the backup it restored has been pruned since.
const refused = seedId(`${P}r`, 1);
const cancelledSafety = seedId(`${P}c`, 1);
const pruned = seedId(`${P}p`, 1);
const LONG_REASON =
  "checksum mismatch: the stored archive is not the one that was backed up (expected sha256 5f1c…, got 9ab2…); the restore was refused before the database was touched — verify the storage and restore an older backup";

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
    await sql(
      `INSERT INTO "RestoreJob" (id, "backupId", "safetyBackupId", status, phase, "initiatedById", "startedAt", "completedAt", "durationSeconds", "failureReason", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, 'FAILED', 'verify', $4, $5::timestamp, $5::timestamp, 0.4, $6, $5::timestamp, $5::timestamp)`,
      [refused, pruned, cancelledSafety, admin.id, ts(30_000), LONG_REASON],
    );
    const at = new Date(Date.now() - 30_000);
    await seedBackups([
      { id: cancelledSafety, trigger: "PRE_RESTORE", status: "CANCELLED", createdAt: at, completedAt: at, sizeBytes: null, checksumSha256: null, failureReason: "The restore it was for did not run", note: `Safety backup before restoring ${pruned}` },
    ]);
    await sql(
      `INSERT INTO "AuditEvent" (id, "actorType", "actorLabel", action, target, details, at)
       VALUES ($1, 'system', 'retention', 'retention.pruned', $2, $3::jsonb, now() - interval '5 minutes')`,
      [
        seedId(`${P}a`, 1),
        pruned,
        JSON.stringify({ ids: [pruned], count: 1, bytes: 1000, backups: [{ id: pruned, kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: at.toISOString(), sizeBytes: 1000, reason: "older than 30 days and not among the newest 7 successful FULL backups" }] }),
      ],
    );
  });
  test.afterAll(async () => {
    await removeSeeded(P);
    await sql(`DELETE FROM "AuditEvent" WHERE id LIKE $1`, [`${P}%`]);
  });

  test("lists restores newest first with their safety backups and failure reasons", async ({ page }) => {
    await page.goto("/restores");
    const table = page.getByRole("list", { name: "Restore history" });
    const failedRow = table.getByRole("listitem").filter({ hasText: "checksum mismatch: the stored archive is not the one that was backed up" }).last();
    await expect(failedRow).toContainText("Failed");
    await expect(failedRow).toContainText("Administrator");
    await expect(failedRow.getByRole("link", { name: from.slice(0, 8) })).toHaveAttribute("href", `/backups/${from}`);
    const okRow = table.getByRole("listitem").filter({ hasText: "42 s" });
    await expect(okRow).toContainText("Succeeded");
    await expect(okRow.getByRole("link", { name: safety.slice(0, 8) })).toHaveAttribute("href", `/backups/${safety}`);
    // Newest first: the failure an hour later sits above the success.
    const rows = await table.getByRole("listitem").allInnerTexts();
    expect(rows.findIndex((t) => t.includes("checksum mismatch"))).toBeLessThan(rows.findIndex((t) => t.includes("42 s")));
    await screenshot(page, "restores");
  });

  test("a refused restore's reason reads in full by keyboard; its links explain a pruned backup and a cancelled safety backup", async ({ page }) => {
    await page.goto("/restores");
    const row = page.locator(`[data-restore-id="${refused}"]`);
    const toggle = row.getByRole("button", { name: "Show the full reason" });
    // Reach the button with the keyboard alone.
    await page.locator("body").focus();
    for (let i = 0; i < 60 && !(await toggle.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press("Tab");
    await expect(toggle).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(row.getByRole("button", { name: "Hide details" })).toHaveAttribute("aria-expanded", "true");
    const details = row.getByRole("region");
    await expect(details).toContainText(LONG_REASON);
    await expect(details.getByText(LONG_REASON)).toBeVisible();
    await expect(details).toContainText("refused before it touched the database");
    await screenshot(page, "restores-refused-expanded");

    // The pruned backup's id leads to its tombstone.
    await row.getByRole("link", { name: new RegExp(pruned.slice(0, 8)) }).click();
    await expect(page.getByTestId("backup-tombstone")).toContainText("pruned by the retention policy");
    await expect(page.getByTestId("backup-tombstone")).toContainText("older than 30 days and not among the newest 7 successful FULL backups");
    await screenshot(page, "backup-tombstone");

    // The cancelled safety backup says which restore it was for and why it did not run.
    await page.goto(`/backups/${cancelledSafety}`);
    const why = page.getByTestId("safety-for");
    await expect(why).toContainText(`Safety backup for restore ${refused.slice(0, 8)}`);
    await expect(why).toContainText("it did not run because the restore was refused");
    await expect(why).toContainText("checksum mismatch");
    await screenshot(page, "backup-cancelled-safety");
  });

  test.describe("as a VIEWER", () => {
    test.use({ storageState: E2E.viewerState });
    test("can read the history", async ({ page }) => {
      await page.goto("/restores");
      await expect(page.getByRole("list", { name: "Restore history" })).toContainText("checksum mismatch");
    });
  });
});

// Decision 157: a running restore's page says what the server is doing for it — the indexes
// and constraints made, each one being built and how far, and the session whose lock it waits
// for, with what ends that session. The row is written as the worker's heartbeat writes it.
test.describe.serial("a running restore's page", () => {
  const running = seedId(`${P}w`, 1);
  test.beforeAll(async () => {
    await sql(`DELETE FROM "RestoreJob" WHERE id = $1`, [running]);
    const activity = {
      at: new Date().toISOString(),
      items: { made: 4, of: 9 },
      sessions: [
        { pid: 5101, doing: "index", name: "entries_memo_idx", table: "ledger.entries", seconds: 41, phase: "building index: sorting live tuples", done: 61, total: 100, waitingFor: [] },
        {
          pid: 5102,
          doing: "constraint",
          name: "entries_account_id_fkey",
          table: "ledger.entries",
          seconds: 75,
          phase: null,
          done: null,
          total: null,
          waitingFor: [{ pid: 4242, user: "report", application: "nightly-report", state: "idle in transaction", kind: "client backend", client: "10.0.0.7", transactionSeconds: 840 }],
        },
      ],
    };
    await sql(
      `INSERT INTO "RestoreJob" (id, "backupId", status, phase, strategy, "startedAt", "heartbeatAt", "readBytes", "loadedBytes", "totalBytes", activity, "createdAt", "updatedAt")
       VALUES ($1, $2, 'RUNNING', 'building indexes and constraints beside the live database', 'swap', now() - interval '3 minutes', now(), 1000, 1000, 1000, $3::jsonb, now(), now())`,
      [running, seedId(`${P}f`, 2), JSON.stringify(activity)],
    );
  });
  test.afterAll(async () => {
    await sql(`DELETE FROM "RestoreJob" WHERE id = $1`, [running]);
  });

  test("shows the builds, the count made, and whose lock it waits for", async ({ page }) => {
    await page.goto(`/restores/${running}`);
    const box = page.getByTestId("restore-running");
    await expect(box.getByRole("progressbar", { name: "Restore in progress" })).toHaveAttribute("aria-valuenow", "44");
    await expect(box).toContainText("indexes and constraints: 4 of 9 made");
    await expect(box.getByTestId("restore-building")).toHaveText("Building index entries_memo_idx on ledger.entries: sorting live tuples, 61 %");
    const wait = box.getByRole("alert");
    await expect(wait).toContainText('Waiting 1 min 15 s for a lock held by pid 4242 (user report, application "nightly-report", from 10.0.0.7), idle in transaction (transaction open 14 min)');
    await expect(wait).toContainText("SELECT pg_terminate_backend(4242);");
    // A swap restore never rolls back on a lock timeout of its own: no such promise is made.
    await expect(wait).not.toContainText("RESTORE_LOCK_TIMEOUT_SECONDS");
    // Not asked to end it: no such promise either.
    await expect(wait).not.toContainText("As chosen");
    await screenshot(page, "restore-running-activity");
  });

  test("asked to end the sessions blocking it (decision 185), it says when it will", async ({ page }) => {
    await sql(`UPDATE "RestoreJob" SET strategy = 'in-place', "endBlockingSessions" = true WHERE id = $1`, [running]);
    await page.goto(`/restores/${running}`);
    const wait = page.getByTestId("restore-running").getByRole("alert");
    await expect(wait).toContainText("As chosen, the restore ends it once it has held the lock for 10 s (if its role may).");
    await expect(wait).toContainText("RESTORE_LOCK_TIMEOUT_SECONDS");
    await expect(page.getByTestId("restore-end-blocking")).toContainText("Ended after 10 s (chosen)");
  });
});
