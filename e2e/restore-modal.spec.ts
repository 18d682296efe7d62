// The restore modal: the preview (or the reason there is none), the safety-backup note,
// and a "Restore database" button that only the exact word RESTORE enables.
import { test, expect } from "@playwright/test";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedBackups, seedId } from "./backup-seed";

const P = "e2ersm";
const id = seedId(P, 1);

test.describe.serial("restore modal", () => {
  test.beforeAll(async () => {
    await removeSeeded(P);
    // No stored object behind it: the preview must fail, and the modal must say why.
    await seedBackups([{ id, kind: "FULL", createdAt: new Date(Date.now() + 2 * 3_600_000), storageKey: `backups/e2e/${id}/archive.dump.gpg` }]);
  });
  test.afterAll(async () => {
    await sql(`DELETE FROM "RestoreJob" WHERE "backupId" = $1`, [id]);
    await removeSeeded(P);
  });

  test("the button is enabled by exactly RESTORE and nothing else", async ({ page }) => {
    await page.goto("/backups");
    await page.locator(`tr[data-backup-id="${id}"]`).getByRole("button", { name: "Restore" }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("safety backup");

    // The preview's outcome does not matter to the button; the server's message is shown when it fails.
    await expect(dialog.getByTestId("restore-preview").or(dialog.getByTestId("restore-preview-error"))).toBeVisible();
    if (await dialog.getByTestId("restore-preview-error").isVisible()) {
      await expect(dialog.getByTestId("restore-preview-error")).toContainText("Could not prepare the preview:");
      const text = (await dialog.getByTestId("restore-preview-error").innerText()).replace("Could not prepare the preview:", "").trim();
      expect(text.length).toBeGreaterThan(5);
    }

    const box = dialog.getByLabel("Type RESTORE to confirm");
    const button = dialog.getByRole("button", { name: "Restore database" });
    await expect(button).toBeDisabled();
    for (const wrong of ["", "restore", "RESTORE ", " RESTORE", "Restore", "RESTOR"]) {
      await box.fill(wrong);
      await expect(button, `"${wrong}" must not enable the button`).toBeDisabled();
    }
    await box.fill("RESTORE");
    await expect(button).toBeEnabled();
    await screenshot(page, "restore-modal");

    // Escape closes it and forgets the word.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await page.locator(`tr[data-backup-id="${id}"]`).getByRole("button", { name: "Restore" }).click();
    await expect(dialog.getByLabel("Type RESTORE to confirm")).toHaveValue("");
    await expect(dialog.getByRole("button", { name: "Restore database" })).toBeDisabled();
  });

  test("the server refuses a restore of a backup whose archive is gone, and the modal says so", async ({ page }) => {
    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Type RESTORE to confirm").fill("RESTORE");
    await dialog.getByRole("button", { name: "Restore database" }).click();
    // Either refused up front (an error in the form) or failed as a job (the reason shown).
    await expect(dialog.getByRole("alert").filter({ hasNotText: "Could not prepare the preview" }).first()).toBeVisible({ timeout: 60_000 });
    await screenshot(page, "restore-refused");
    const restores = await sql<{ status: string }>(`SELECT status FROM "RestoreJob" WHERE "backupId" = $1`, [id]);
    for (const r of restores) expect(["FAILED", "CANCELLED"]).toContain(r.status);
  });

  test("a real restore: preview, progress, then the safety backup's link", async ({ page }) => {
    test.setTimeout(240_000);
    const created = await page.request.post("/api/backups", { data: { kind: "FULL", note: "e2e restore source" } });
    expect(created.status()).toBe(202);
    const { id: source } = (await created.json()) as { id: string };
    await expect
      .poll(async () => ((await (await page.request.get(`/api/backups/${source}/status`)).json()) as { status: string }).status, { timeout: 90_000 })
      .toBe("SUCCEEDED");

    await page.goto(`/backups/${source}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${source.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    await expect(dialog.getByTestId("restore-preview")).toContainText("Checksum and key verified");
    await expect(dialog).toContainText("What the restore changes in the live database");
    await screenshot(page, "restore-modal-preview");

    await dialog.getByLabel("Type RESTORE to confirm").fill("RESTORE");
    await dialog.getByRole("button", { name: "Restore database" }).click();
    const progress = dialog.getByTestId("restore-progress");
    await expect(progress).toBeVisible();
    await expect(progress).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 180_000 });
    await expect(progress).toContainText("The database was restored");
    await screenshot(page, "restore-succeeded");

    const safety = progress.getByRole("link", { name: /safety backup/ });
    const href = await safety.getAttribute("href");
    expect(href).toMatch(/^\/backups\/[a-z0-9]{20,40}$/);
    await safety.click();
    await expect(page).toHaveURL(href!);
    await expect(page.getByText("Pre-restore").first()).toBeVisible();

    await page.goto("/restores");
    const row = page.getByRole("table", { name: "Restore history" }).locator("tbody tr").first();
    await expect(row).toContainText("Succeeded");
    await expect(row.getByRole("link", { name: source.slice(0, 8) })).toBeVisible();
  });
});
