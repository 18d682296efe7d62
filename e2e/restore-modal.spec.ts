// The restore modal: the preview (or the reason there is none), the plan, the safety-backup
// note, and a "Restore database" button that only a loaded preview and the exact word RESTORE enable.
import { test, expect } from "@playwright/test";
import { screenshot, sql, takeBackup } from "./helpers";
import { E2E } from "./env";
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

  test("a backup that fails verification cannot be confirmed: the reason is shown and the button stays disabled", async ({ page }) => {
    await page.goto("/backups");
    await page.locator(`tr[data-backup-id="${id}"]`).getByRole("button", { name: "Restore" }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText("safety backup");
    // The manifest is missing: the preview says the backup failed verification and why.
    await expect(dialog.getByTestId("restore-preview")).toContainText("Failed verification: manifest unreadable");
    await expect(dialog.getByTestId("restore-preview")).not.toContainText("will be DROPPED");
    await dialog.getByLabel("Type RESTORE to replace default").fill("RESTORE");
    await expect(dialog.getByRole("button", { name: "Restore database" })).toBeDisabled();

    // Escape closes it and forgets the word.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await page.locator(`tr[data-backup-id="${id}"]`).getByRole("button", { name: "Restore" }).click();
    await expect(dialog.getByLabel("Type RESTORE to replace default")).toHaveValue("");
  });

  test("the server refuses a restore of a backup whose archive is gone, and the restore's page says why", async ({ page }) => {
    const res = await page.request.post(`/api/backups/${id}/restore`, { headers: E2E.sameOrigin, data: { confirm: "RESTORE" } });
    expect(res.status()).toBe(202);
    const { restoreId } = (await res.json()) as { restoreId: string };
    await expect
      .poll(async () => ((await (await page.request.get(`/api/restores/${restoreId}`)).json()) as { status: string }).status, { timeout: 60_000 })
      .toBe("FAILED");
    await page.goto(`/restores/${restoreId}`);
    await expect(page.getByTestId("restore-detail").getByRole("alert")).toContainText("Nothing was changed");
    await expect(page.getByRole("button", { name: "Undo restore" })).toHaveCount(0);
    await screenshot(page, "restore-refused");
  });

  test("owners that cannot be kept: the restore waits for the choice to give them away, which says when the grants go too", async ({ page }) => {
    const source = await takeBackup(page, { note: "e2e owners source" });
    const problem =
      "vl_passer granted privileges on objects it does not own (passing on a grant option); pg_restore makes such a grant as its grantor (SET SESSION AUTHORIZATION), which only a superuser may: restore through a superuser's connection.";
    // The preview as a non-superuser's connection gets it for such a backup (tests/restore-grantees.integration.test.ts).
    let keepsGrants = false;
    await page.route(`**/api/backups/${source}/restore-preview`, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { plan: { ownership: Record<string, unknown> }; differences: Record<string, unknown> };
      body.plan.ownership = { canKeep: false, problems: [problem], roles: ["vaultline", "vl_passer"], reassignKeepsGrants: keepsGrants };
      // The database's own lines, kept and given away (decision 196): given away, it keeps its owner.
      body.differences.database = ["Owner: vl_later → vl_app", "Setting statement_timeout: 5s → 42s"];
      body.differences.databaseReassigned = ["Setting statement_timeout: 5s → 42s"];
      // And a table whose owner the backup would change: given away, it becomes Vaultline's role's.
      (body as unknown as { objects: Record<string, unknown> }).objects = {
        tables: { added: [], dropped: [], changed: [], ownerChanged: ["public.e2e_owned (vl_later → vl_app)"] },
      };
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`/backups/${source}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${source.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-plan")).toContainText(`Owners and grants cannot be restored as they were: ${problem}`);
    const giveAway = dialog.getByRole("checkbox", { name: /Give every restored object to Vaultline's database role/ });
    await expect(giveAway).toHaveAccessibleName(/; the backup's grants are not restored\.$/);
    await dialog.getByLabel("Type RESTORE to replace default").fill("RESTORE");
    const button = dialog.getByRole("button", { name: "Restore database" });
    await expect(button).toBeDisabled();
    const preview = dialog.getByTestId("restore-preview");
    await expect(preview.getByRole("listitem").filter({ hasText: "Owner: vl_later → vl_app" })).toBeVisible();
    await expect(preview.getByTestId("restore-objects")).toContainText("Tables 1 owner");
    await expect(preview.getByTestId("restore-reassign-note")).toHaveCount(0);
    await giveAway.check();
    await expect(button).toBeEnabled();
    // Given away, the owner line goes: the restore does not make it; the note says what stays.
    await expect(preview.getByRole("listitem").filter({ hasText: "Owner: vl_later → vl_app" })).toHaveCount(0);
    await expect(preview.getByRole("listitem").filter({ hasText: "Setting statement_timeout: 5s → 42s" })).toBeVisible();
    await expect(preview.getByTestId("restore-reassign-note")).toContainText("the backup's owners are not listed below, and the database keeps its owner and its grants.");
    await expect(preview.getByTestId("restore-objects")).toHaveCount(0);
    await expect(preview).toContainText("Every object and grant matches the backup.");
    await screenshot(page, "restore-modal-reassign");
    await page.keyboard.press("Escape");
    // Where every grantee exists and no grant was passed on, giving the objects away keeps the grants: not said.
    keepsGrants = true;
    await page.reload();
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    await expect(dialog.getByTestId("restore-plan")).toContainText("Owners and grants cannot be restored as they were");
    await expect(giveAway).toHaveAccessibleName(/\(the preview says why the owners cannot be kept\)\.$/);
  });

  test("the database's own owner, grants, comment and settings that differ from the backup are listed (decision 194)", async ({ page }) => {
    const source = await takeBackup(page, { note: "e2e database state source" });
    // Vaultline's own database keeps its own state: the lines a target's preview gets
    // (tests/restore-database-state.integration.test.ts) are given to this one's.
    const lines = ["CONNECT for vl_state_later: revoked (not in the backup)", "Setting statement_timeout: 5s → 42s", "Setting app.settings.jwt_secret: another value in the backup"];
    await page.route(`**/api/backups/${source}/restore-preview`, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { differences: Record<string, unknown> };
      expect(body.differences.database).toBeNull();
      body.differences.database = lines;
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`/backups/${source}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${source.slice(0, 8)}` });
    const preview = dialog.getByTestId("restore-preview");
    await expect(preview).toContainText("The database's owner, grants, comment and settings (3)");
    for (const line of lines) await expect(preview.getByRole("listitem").filter({ hasText: line })).toBeVisible();
    await preview.getByText("The database's owner, grants, comment and settings").scrollIntoViewIfNeeded();
    await screenshot(page, "restore-modal-database-state");
  });

  test("a tablespace the server lacks: the restore waits for the choice to use the database's own, and its page says so (decision 173)", async ({ page }) => {
    test.setTimeout(240_000);
    const source = await takeBackup(page, { note: "e2e tablespace source" });
    // The preview a server without the backup's tablespace gets (tests/restore-tablespace.integration.test.ts).
    await page.route(`**/api/backups/${source}/restore-preview`, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { missingTablespaces?: string[] };
      expect(body.missingTablespaces ?? []).toEqual([]);
      body.missingTablespaces = ["e2e_fast_ssd"];
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`/backups/${source}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${source.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    const ownSpace = dialog.getByRole("checkbox", { name: /Place every object in the database's own tablespace: this server has no e2e_fast_ssd/ });
    await dialog.getByLabel("Type RESTORE to replace default").fill("RESTORE");
    const button = dialog.getByRole("button", { name: "Restore database" });
    await expect(button).toBeDisabled();
    await ownSpace.check();
    await expect(button).toBeEnabled();
    await screenshot(page, "restore-modal-tablespace");
    const sent = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/api/backups/${source}/restore`));
    await button.click();
    expect((await sent).postDataJSON()).toMatchObject({ confirm: "RESTORE", tablespaces: "default" });
    const progress = dialog.getByTestId("restore-progress");
    await expect(progress).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 180_000 });
    await page.goto("/restores");
    await page.getByRole("list", { name: "Restore history" }).getByRole("listitem").first().getByRole("link").first().click();
    await expect(page.getByText("Every object in the database's own (chosen: the server lacked the backup's)")).toBeVisible();
  });

  test("a real restore: preview, progress, then the safety backup's link", async ({ page }) => {
    test.setTimeout(240_000);
    const source = await takeBackup(page, { note: "e2e restore source" });

    await page.goto(`/backups/${source}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${source.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    await expect(dialog.getByTestId("restore-preview")).toContainText("Checksum and key verified");
    await expect(dialog).toContainText("What the restore changes in the live database");
    // Vaultline's own database (the e2e default) is restored in place, and the plan says so.
    await expect(dialog.getByTestId("restore-plan")).toHaveAttribute("data-strategy", "in-place");
    await expect(dialog.getByTestId("restore-plan")).toContainText("Owners and grants are restored as they were");
    // The e2e server runs on this machine: its disk is measured, and drawn (decision 159).
    const serverDisk = dialog.getByTestId("restore-server-disk");
    await expect(serverDisk).toHaveAttribute("data-enough", "yes");
    await expect(serverDisk).toContainText(/Server disk \(.+\): the restored copy takes about [0-9.]+ MiB \(the database's size when it was backed up\), until the restore's transaction ends; [0-9.]+ [GMT]iB free of [0-9.]+ [GMT]iB\. The restore stops if less than 1 GiB would be left\./);
    await expect(serverDisk.getByRole("img", { name: /^Disk: .* used, .* for the copy, .* free of .*$/ })).toBeVisible();
    await screenshot(page, "restore-modal-preview");
    await serverDisk.scrollIntoViewIfNeeded();
    await screenshot(page, "restore-modal-server-disk");

    // In place, it may end a session that blocks it (decision 185); chosen here, shown on its page.
    const endBlocking = dialog.getByTestId("restore-end-blocking");
    await expect(endBlocking).toContainText("End any session that holds a lock the restore waits for");
    await endBlocking.getByRole("checkbox").check();
    // Enabled by exactly RESTORE and nothing else.
    const box = dialog.getByLabel("Type RESTORE to replace default");
    const button = dialog.getByRole("button", { name: "Restore database" });
    for (const wrong of ["", "restore", "RESTORE ", " RESTORE", "Restore", "RESTOR"]) {
      await box.fill(wrong);
      await expect(button, `"${wrong}" must not enable the button`).toBeDisabled();
    }
    await box.fill("RESTORE");
    await expect(button).toBeEnabled();
    await screenshot(page, "restore-modal");
    await button.click();
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
    const row = page.getByRole("list", { name: "Restore history" }).getByRole("listitem").first();
    await expect(row).toContainText("Succeeded");
    await expect(row.getByRole("link", { name: new RegExp(`^${source.slice(0, 8)}`) })).toBeVisible();
    await row.getByRole("link").first().click();
    await expect(page.getByTestId("restore-end-blocking")).toHaveText("Ended after 10 s (chosen); each one is named under the warnings");
  });
});
