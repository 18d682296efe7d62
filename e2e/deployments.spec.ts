// The Deployment Control Center in Chromium against the real app: Deploy is disabled
// without a fresh backup; "Back up first" → Quick takes a real backup, watched to the
// end; then the gate passes and Deploy enables and records an ALLOWED decision. The
// checks page runs the real checks.
import { test, expect } from "@playwright/test";
import { screenshot, sql } from "./helpers";
import { E2E } from "./env";
import { waitForIdle } from "./backup-seed";

const COMMIT = "c0ffee1234abcd";

test.describe.serial("deployments", () => {
  let shifted: string[] = [];
  test.beforeAll(async () => {
    await waitForIdle();
    // Other specs' backups move 3 days back, so the gate starts without a fresh one; put back afterwards.
    const rows = await sql<{ id: string }>(
      `UPDATE "BackupJob" SET "createdAt" = "createdAt" - interval '3 days', "startedAt" = "startedAt" - interval '3 days',
              "completedAt" = "completedAt" - interval '3 days', "updatedAt" = "updatedAt" - interval '3 days' RETURNING id`,
    );
    shifted = rows.map((r) => r.id);
    await sql(`DELETE FROM "RuntimeState" WHERE key = 'checks'`);
  });
  test.afterAll(async () => {
    await sql(
      `UPDATE "BackupJob" SET "createdAt" = "createdAt" + interval '3 days', "startedAt" = "startedAt" + interval '3 days',
              "completedAt" = "completedAt" + interval '3 days', "updatedAt" = "updatedAt" + interval '3 days' WHERE id = ANY($1)`,
      [shifted],
    );
  });

  test("Deploy is disabled until a Quick backup from the modal succeeds, then enabled", async ({ page }) => {
    await page.goto("/deployments");
    const gate = page.getByTestId("gate-state");
    await expect(gate).toHaveAttribute("data-allowed", "false");
    await expect(gate.getByRole("heading")).toHaveText("Backup required");
    await expect(page.getByTestId("stale-warning")).toContainText(/more than an hour|no successful backup/i);
    await expect(page.getByText("a successful backup from the last hour")).toBeVisible();
    const deploy = page.getByRole("button", { name: /^Deploy/ });
    await expect(deploy).toBeDisabled();
    await expect(page.getByTestId("hook-help")).toContainText("DEPLOY_COMMAND");
    await page.getByLabel("Commit to deploy").fill(COMMIT);
    await expect(deploy).toBeDisabled();
    await screenshot(page, "deployments-backup-required");

    await page.getByRole("button", { name: "Back up first" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a backup first?" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("button", { name: /Quick backup/ })).toContainText("Code only");
    await expect(dialog.getByRole("button", { name: /Full backup/ })).toContainText("Code + database");
    await screenshot(page, "deployments-backup-first-modal");

    await dialog.getByRole("button", { name: /Quick backup/ }).click();
    await expect(dialog.getByTestId("backup-first-progress")).toBeVisible();
    await expect(dialog.getByRole("status").filter({ hasText: "The backup succeeded" })).toBeVisible({ timeout: 90_000 });
    await screenshot(page, "deployments-backup-succeeded");
    await dialog.getByRole("button", { name: "Close", exact: true }).click();
    await expect(dialog).toBeHidden();

    await expect(gate).toHaveAttribute("data-allowed", "true");
    await expect(gate.getByRole("heading")).toHaveText(/^Deploy allowed — QUICK backup (<1 s|\d+ s|1 min.*) old$/);
    await expect(page.getByTestId("stale-warning")).toHaveCount(0);
    await expect(deploy).toBeEnabled();
    await expect(deploy).toHaveText("Deploy");
    await screenshot(page, "deployments-deploy-allowed");

    // No hook in this environment: Deploy runs the real gate (checks included) and records the decision.
    await deploy.click();
    await expect(page.getByRole("status").filter({ hasText: "Gate passed and recorded" })).toBeVisible();
    const row = page.getByRole("list", { name: "Deploy history" }).getByRole("listitem").filter({ hasText: COMMIT.slice(0, 10) }).first();
    await expect(row).toContainText("Gate check");
    await expect(row).toContainText("Allowed");
    await expect(row).toContainText("Quick");
    await screenshot(page, "deployments-history");
    const [rec] = await sql<{ status: string; gateDecision: boolean; backupId: string | null }>(
      `SELECT status, "gateDecision", "backupId" FROM "Deployment" WHERE "commitSha" = $1 ORDER BY at DESC LIMIT 1`,
      [COMMIT],
    );
    expect(rec).toMatchObject({ status: "ALLOWED", gateDecision: true });
    expect(rec.backupId).not.toBeNull();
    // "Back up first" is a PRE_DEPLOY backup of the commit typed into the Deploy field.
    const [b] = await sql<{ kind: string; trigger: string; status: string; commitSha: string | null }>(
      `SELECT kind, trigger, status, "commitSha" FROM "BackupJob" WHERE id = $1`,
      [rec.backupId],
    );
    expect(b).toEqual({ kind: "QUICK", trigger: "PRE_DEPLOY", status: "SUCCEEDED", commitSha: COMMIT });

    // The history reads completely by keyboard: the row's details open with Enter.
    const toggle = row.getByRole("button", { name: /Show reasons/ });
    await toggle.focus();
    await page.keyboard.press("Enter");
    await expect(row.getByRole("button", { name: /Hide details/ })).toHaveAttribute("aria-expanded", "true");
    await expect(row.getByTestId("deploy-log")).toContainText("A gate decision has no log");
  });

  test("the gate API: 400 for a malformed sha, and the answer a CI job gets", async ({ page }) => {
    const bad = await page.request.post("/api/deploy/gate", { headers: E2E.sameOrigin, data: { commitSha: "not-a-sha" } });
    expect(bad.status()).toBe(400);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
    const ok = await page.request.post("/api/deploy/gate", { headers: E2E.sameOrigin, data: { commitSha: COMMIT } });
    expect(ok.status()).toBe(200);
    expect(await ok.json()).toMatchObject({ allowed: true, backup: { kind: "QUICK" }, checks: { status: expect.stringMatching(/pass|warn/) } });
    const full = await page.request.post("/api/deploy/gate", { headers: E2E.sameOrigin, data: { commitSha: COMMIT, require: "FULL", maxAgeMinutes: 5 } });
    expect(full.status()).toBe(428);
    const body = await full.json();
    expect(body).toMatchObject({ allowed: false, error: { code: "BACKUP_REQUIRED" } });
    expect(body.reasons[0]).toMatch(/FULL backup/);
  });

  test("a QUICK backup without a commit from anywhere is refused with a 400 that says how to configure one", async ({ page }) => {
    const res = await page.request.post("/api/backups", { headers: E2E.sameOrigin, data: { kind: "QUICK" } });
    expect(res.status()).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.message).toMatch(/APP_COMMIT_SHA.*APP_REPO_DIR/);
    await page.goto("/deployments");
    await page.getByLabel("Commit to deploy").fill("");
    await page.getByRole("button", { name: "Back up first" }).click();
    const dialog = page.getByRole("dialog", { name: "Create a backup first?" });
    await dialog.getByRole("button", { name: /Quick backup/ }).click();
    await expect(dialog.getByRole("alert")).toContainText("APP_COMMIT_SHA");
  });

  test("the checks page shows the last run and runs them again", async ({ page }) => {
    await page.goto("/checks");
    await expect(page.getByTestId("checks-summary")).toContainText("by the pre-deploy gate");
    await expect(page.getByRole("heading", { name: "Schema drift" })).toBeVisible();
    await expect(page.locator('[data-check-id="drift:vaultline"]')).toContainText("Pass");
    await page.getByRole("button", { name: "Run now" }).click();
    await expect(page.getByTestId("checks-summary")).toContainText("by admin@e2e.test");
    await page.locator('[data-check-id="drift:vaultline"]').getByText("Show details").click();
    await expect(page.locator('[data-check-id="drift:vaultline"]')).toContainText(/\d+ Vaultline migrations? applied/);
    await screenshot(page, "checks");
  });
});
