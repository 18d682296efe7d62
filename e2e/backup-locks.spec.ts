// A backup's page while its dump waits for a migration's lock and holds up another migration
// (decision 175), with the row as the worker writes it; then, once it has ended, who waited.
import { test, expect } from "@playwright/test";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedBackups, seedId, waitForIdle } from "./backup-seed";

const P = "e2elck";
const holder = { pid: 4242, user: "app", application: "migrate", state: "idle in transaction", kind: "client backend", client: "10.0.0.7", transactionSeconds: 48 };
const migration = { pid: 5151, user: "deploy", application: "release-migrate", state: "active", kind: "client backend", client: "10.0.0.9", transactionSeconds: 41, table: "public.orders", mode: "AccessExclusiveLock", seconds: 41, behind: 17 };

test.describe.serial("a backup's locks", () => {
  const id = seedId(P, 1);
  test.beforeAll(async () => {
    await waitForIdle();
    await removeSeeded(P);
  });
  test.afterAll(async () => {
    await removeSeeded(P);
  });

  test("while it runs: whose lock the dump waits for, and whom it holds up, with how to end either", async ({ page }) => {
    await seedBackups([
      { id, status: "RUNNING", createdAt: new Date(Date.now() - 60_000), startedAt: new Date(Date.now() - 58_000), completedAt: null, heartbeatAt: new Date(), sizeBytes: null, durationSeconds: null, checksumSha256: null, progressBytes: 2_400_000, phase: "dumping" },
    ]);
    const locks = { at: new Date().toISOString(), waiting: [{ pid: 3131, table: "public.customers", seconds: 12, heldBy: [holder] }], blocking: [migration], blocked: [migration] };
    await sql(`UPDATE "BackupJob" SET metadata = jsonb_build_object('phases', '[]'::jsonb, 'locks', $2::jsonb) WHERE id = $1`, [id, JSON.stringify(locks)]);
    await page.goto(`/backups/${id}`);
    const waiting = page.getByTestId("backup-lock-waiting");
    await expect(waiting).toContainText('The dump waited 12 s for a lock on public.customers held by pid 4242 (user app, application "migrate", from 10.0.0.7), idle in transaction (transaction open 48 s).');
    await expect(waiting).toContainText("SELECT pg_terminate_backend(4242);");
    const blocking = page.getByTestId("backup-lock-blocking");
    await expect(blocking).toContainText(
      'pid 5151 (user deploy, application "release-migrate", from 10.0.0.9), active (transaction open 41 s) has waited 41 s for the backup\'s lock on public.orders (AccessExclusiveLock); 17 sessions wait behind it.',
    );
    await expect(blocking).toContainText("Cancel the backup to let it through");
    await expect(blocking).toContainText("SELECT pg_terminate_backend(5151);");
    // The live sample is not shown again as raw metadata.
    await expect(page.getByText("Other metadata")).toHaveCount(0);
    await screenshot(page, "backup-locks-running");

    // The overview, where the person on call looks when a deploy hangs, says it on the target's card.
    await page.goto("/overview");
    const card = page.locator('[data-testid="target-card"][data-target="default"]');
    const wait = card.getByTestId("target-lock-wait");
    await expect(wait).toContainText('The backup holds up "release-migrate" on public.orders for 41 s; 17 queries wait behind.');
    await expect(wait).toContainText('The backup has waited 12 s for a lock on public.customers held by "migrate" (pid 4242).');
    await wait.getByRole("link", { name: "Who, and how to end either" }).click();
    await expect(page).toHaveURL(new RegExp(`/backups/${id}$`));
    await page.goto("/overview");
    await screenshot(page, "overview-backup-locks");
  });

  test("once it has ended: the sessions that waited for it stay on its page", async ({ page }) => {
    await sql(
      `UPDATE "BackupJob" SET status = 'SUCCEEDED', phase = 'done', "completedAt" = now() AT TIME ZONE 'UTC', "sizeBytes" = 2000000, "durationSeconds" = 60,
              metadata = jsonb_set(metadata, '{locks}', $2::jsonb) WHERE id = $1`,
      [id, JSON.stringify({ at: null, waiting: [], blocking: [], blocked: [{ ...migration, seconds: 55 }] })],
    );
    await page.goto("/overview");
    await expect(page.locator('[data-testid="target-card"][data-target="default"]')).toBeVisible();
    await expect(page.getByTestId("target-lock-wait")).toHaveCount(0);
    await page.goto(`/backups/${id}`);
    await expect(page.getByTestId("backup-lock-waiting")).toHaveCount(0);
    await expect(page.getByTestId("backup-lock-blocking")).toHaveCount(0);
    const past = page.getByTestId("backup-lock-blocked");
    await expect(past.getByRole("heading", { name: "Sessions that waited for this backup" })).toBeVisible();
    await expect(past).toContainText("pid 5151 (user deploy, application \"release-migrate\", from 10.0.0.9), active (transaction open 41 s) waited 55 s for the backup's lock on public.orders (AccessExclusiveLock); 17 sessions waited behind it.");
    await screenshot(page, "backup-locks-ended");
  });
});
