// A target whose largest table lives in a tablespace of its own, on another disk (decision
// 160): the restore dialog draws one bar per disk the restored copy lands on, each with that
// disk's part. The target has uploads too (its own FILES_DIR): the dialog draws that disk
// with the backup's files on it (decision 161). The tablespace is made on /dev/shm (a tmpfs here, another device than the
// data directory's); where that cannot be done (not root, no separate /dev/shm) the test is
// skipped and says so.
import { test, expect } from "@playwright/test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { E2E } from "./env";
import { screenshot, sql, takeBackup } from "./helpers";
import { asAdmin, createTarget, removeTargetAndDatabase, urlOf } from "./target-seed";
import { sql as sqlAt } from "../tests/support/sql";

const DB = "e2e_split_disk";
const TABLESPACE = "e2e_split_elsewhere";
const SHM = "/dev/shm";

test.describe.serial("a restore whose copy lands on two disks", () => {
  let targetId = "";
  let dir = "";
  let uploads = "";

  test.beforeAll(async ({ browser }) => {
    const [{ data }] = await sql<{ data: string }>("SELECT current_setting('data_directory') AS data");
    const separate = process.getuid?.() === 0 && statSync(SHM, { throwIfNoEntry: false })?.dev !== undefined && statSync(SHM).dev !== statSync(data).dev;
    test.skip(!separate, "needs root and a /dev/shm on another device than the data directory");
    dir = mkdtempSync(path.join(SHM, "vaultline-e2e-tablespace-"));
    const owner = statSync(data);
    chownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o700);
    await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await sql(`DROP TABLESPACE IF EXISTS ${TABLESPACE}`).catch(() => undefined);
    await sql(`CREATE TABLESPACE ${TABLESPACE} LOCATION '${dir}'`);
    await sql(`CREATE DATABASE ${DB}`);
    await sqlAt(
      urlOf(DB),
      `CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
       INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 2000) g;
       CREATE TABLE events (id bigint, body text NOT NULL, CONSTRAINT events_pkey PRIMARY KEY (id) USING INDEX TABLESPACE ${TABLESPACE}) TABLESPACE ${TABLESPACE};
       INSERT INTO events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 100000) g;`,
    );
    uploads = mkdtempSync(path.join(tmpdir(), "vaultline-e2e-uploads-"));
    mkdirSync(path.join(uploads, "avatars"));
    for (let i = 0; i < 20; i++) writeFileSync(path.join(uploads, "avatars", `${i}.png`), Buffer.alloc(64 * 1024, i));
    await asAdmin(browser, async (req) => {
      targetId = await createTarget(req, "split-disk", "prod", DB);
      const set = await req.patch(`/api/targets/${targetId}`, { headers: E2E.sameOrigin, data: { settings: { filesDir: uploads } } });
      expect(set.status(), await set.text()).toBe(200);
    });
  });

  test.afterAll(async ({ browser }) => {
    await removeTargetAndDatabase(browser, targetId, DB);
    await sql(`DROP TABLESPACE IF EXISTS ${TABLESPACE}`).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (uploads) rmSync(uploads, { recursive: true, force: true });
  });

  test("the dialog draws each disk with its part of the copy, named by tablespace", async ({ page }) => {
    test.setTimeout(180_000);
    const id = await takeBackup(page, { target: targetId, note: "e2e split disk", includeFiles: true });

    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    const serverDisk = dialog.getByTestId("restore-server-disk");
    await expect(serverDisk).toHaveAttribute("data-enough", "yes");
    await expect(serverDisk).toContainText(/the restored copy takes about [0-9.]+ MiB \(the database's size when it was backed up\), .*, spread over 2 disks by tablespace\. The restore stops if less than 1 GiB would be left\./);
    const parts = serverDisk.getByTestId("restore-server-disk-part");
    await expect(parts).toHaveCount(2);
    await expect(parts.nth(0)).toContainText(/\(tablespace pg_default\): about [0-9.]+ [KM]iB, [0-9.]+ [GMT]iB free of [0-9.]+ [GMT]iB/);
    await expect(parts.nth(1)).toContainText(new RegExp(`^${dir} \\(tablespace ${TABLESPACE}\\): about [0-9.]+ MiB, [0-9.]+ [GMT]iB free of [0-9.]+ [GMT]iB`));
    await expect(parts.nth(1).getByRole("img", { name: new RegExp(`^Disk: .* used, [0-9.]+ MiB for the copy's part in ${TABLESPACE}, .* free of .*$`) })).toBeVisible();
    // The uploads: 20 files of 64 KiB, their tar a little more.
    const filesDisk = dialog.getByTestId("restore-files-disk");
    await expect(filesDisk).toHaveAttribute("data-enough", "yes");
    await expect(filesDisk).toContainText(new RegExp(`^Files \\(${uploads}\\): the backup's files take about 1\\.[0-9]+ MiB, beside the files there now until they are all in place; [0-9.]+ [GMT]iB free of [0-9.]+ [GMT]iB\\.`));
    await expect(filesDisk.getByRole("img", { name: /^Disk: .* used, 1\.[0-9]+ MiB for the files, .* free of .*$/ })).toBeVisible();
    await filesDisk.scrollIntoViewIfNeeded();
    await screenshot(page, "restore-modal-server-disk-split");
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
  });
});
