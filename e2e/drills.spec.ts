// Restore drills in the browser (issue 17 §1): a real backup, a real drill by the web
// process's worker into a scratch database, then the backups page shows the last proven
// restore beside today's banner and the history marks the drilled backup; a failed drill
// turns the line red.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";

const FAILED_DRILL = "e2edrillfailed00000000001";

test.describe.serial("restore drills", () => {
  let backupId: string;

  test.afterAll(async () => {
    await sql(`DELETE FROM "DrillRun" WHERE id = $1 OR "backupId" = $2`, [FAILED_DRILL, backupId ?? ""]);
    await sql(`DELETE FROM "Setting" WHERE key = 'drill'`);
  });

  test("a drill that passed: the last proven restore with its recovery time, and the drilled backup marked in the history", async ({ page }) => {
    test.setTimeout(240_000);
    const put = await page.request.put("/api/settings", { headers: E2E.sameOrigin, data: { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC" } } });
    expect(put.status()).toBe(200);
    expect((await put.json()).settings.drill).toEqual({ enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 });
    const bad = await page.request.put("/api/settings", { headers: E2E.sameOrigin, data: { drill: { enabled: true, cron: "every sunday", timezone: "UTC" } } });
    expect(bad.status()).toBe(400);
    expect((await bad.json()).error.details.fields[0].path).toBe("drill.cron");

    const created = await page.request.post("/api/backups", { headers: E2E.sameOrigin, data: { kind: "FULL", note: "drill e2e" } });
    expect(created.status()).toBe(202);
    backupId = (await created.json()).id;
    await expect.poll(async () => (await (await page.request.get(`/api/backups/${backupId}`)).json()).status, { timeout: 120_000 }).toBe("SUCCEEDED");
    const drill = await page.request.post(`/api/backups/${backupId}/drill`, { headers: E2E.sameOrigin, data: {} });
    expect(drill.status()).toBe(202);
    await expect.poll(async () => (await (await page.request.get("/api/today")).json()).drill.state, { timeout: 120_000 }).toBe("ok");
    const today = await (await page.request.get("/api/today")).json();
    expect(today.drill).toMatchObject({ backupId, lastSuccessAt: expect.any(String), durationSeconds: expect.any(Number), failureReason: null });

    await page.goto("/backups");
    const line = page.getByTestId("drill-line");
    await expect(line).toHaveAttribute("data-state", "ok");
    await expect(line).toContainText(/Last proven restore: just now, recovery time (<1 s|\d+ s)/);
    await expect(line.getByRole("link", { name: /Proven backup/ })).toHaveAttribute("href", `/backups/${backupId}`);
    const row = page.locator(`tr[data-backup-id="${backupId}"]`);
    await expect(row.getByTestId("drill-proven")).toHaveText("✓ restore proven");
    // Only the drilled backup carries the mark.
    await expect(page.locator("tr[data-backup-id]").getByTestId("drill-proven")).toHaveCount(1);
    await screenshot(page, "drills-proven");
  });

  test("Settings → Restore drills shows the saved schedule and its next drills, and refuses a bad cron at the field", async ({ page }) => {
    await page.goto("/settings");
    const form = page.getByRole("form", { name: "Restore drills" });
    await expect(form.getByLabel("Scheduled restore drills on")).toBeChecked();
    await expect(form.getByLabel("Drill cron expression")).toHaveValue("0 4 * * 0");
    await expect(form.getByLabel("Checksum tables up to (MB)")).toHaveValue("4096");
    await expect(form.getByTestId("drill-next-runs")).toContainText("04:00 UTC");
    await form.getByLabel("Drill cron expression").fill("0 4 * *");
    await expect(form.getByText(/invalid cron expression/)).toBeVisible();
    await form.getByLabel("Drill cron expression").fill("30 3 * * 6");
    await form.getByRole("button", { name: "Save restore drills" }).click();
    await expect(form.getByText(/^Version 2/)).toBeVisible();
    const saved = await (await page.request.get("/api/settings")).json();
    expect(saved.settings.drill).toMatchObject({ enabled: true, cron: "30 3 * * 6" });
  });

  test("a failed drill turns the line red and says why, keeping the last proven restore", async ({ page }) => {
    await sql(
      `INSERT INTO "DrillRun" (id, "backupId", trigger, status, "startedAt", "completedAt", "durationSeconds", "recoverySeconds", "failureReason")
       VALUES ($1, $2, 'SCHEDULED', 'FAILED', now() at time zone 'utc', now() at time zone 'utc' + interval '1 second', 3, 2, $3)`,
      [FAILED_DRILL, backupId, "restored data differs from the backup's record: public.customers (same 300 rows, different content)"],
    );
    await page.goto("/backups");
    const line = page.getByTestId("drill-line");
    await expect(line).toHaveAttribute("data-state", "failed");
    await expect(line).toHaveAttribute("role", "alert");
    await expect(line).toContainText("The last restore drill failed: restored data differs from the backup's record");
    await expect(line).toContainText(/Last proven restore: just now/);
    await screenshot(page, "drills-failed");
  });
});
