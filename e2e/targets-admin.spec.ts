// Settings → Targets in Chromium: an ADMIN adds a target pointing at a database of the e2e
// PostgreSQL, tests its connection before saving (server version, pg_dump, the three
// capabilities), saves it, gives it a schedule (with its next runs), and removes it by
// typing its name; the URL is never shown again. A VIEWER sees the targets and no controls.
import { test, expect } from "@playwright/test";
import { randomBytes } from "node:crypto";
import { E2E } from "./env";
import { dbUrl, screenshot, sql } from "./helpers";

const dbName = `e2e_shop_${randomBytes(4).toString("hex")}`;
const name = `shop-${randomBytes(3).toString("hex")}`;
let targetUrl: string;

test.describe.serial("targets admin", () => {
  test.beforeAll(async () => {
    await sql(`CREATE DATABASE "${dbName}"`);
    const u = new URL(dbUrl());
    u.pathname = `/${dbName}`;
    targetUrl = u.toString();
    const { sql: at } = await import("../tests/support/sql");
    await at(targetUrl, "CREATE TABLE orders (id serial PRIMARY KEY, total numeric); INSERT INTO orders (total) SELECT g FROM generate_series(1, 100) g;");
  });

  test.afterAll(async ({ request }) => {
    await request.delete(`/api/targets/${name}?force=true`, { headers: E2E.sameOrigin }).catch(() => undefined);
    await sql(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  test("an ADMIN tests a connection before saving, saves, edits the schedule and removes the target by name", async ({ page }) => {
    await page.goto("/settings/targets");
    const table = page.getByRole("table", { name: "Targets" });
    await expect(table.getByTestId("target-row-default")).toContainText("default");

    await page.getByRole("button", { name: "Add target" }).click();
    const form = page.getByRole("form", { name: "Add target" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Environment").fill("staging");
    // A wrong password: the test says why, without echoing the URL.
    const wrong = new URL(targetUrl);
    wrong.password = "not-the-password";
    await form.getByLabel("Connection URL").fill(wrong.toString());
    await form.getByRole("button", { name: "Test connection" }).click();
    const result = form.getByTestId("target-test-result");
    await expect(result.getByRole("alert")).toContainText("Cannot connect");
    await expect(result).not.toContainText("not-the-password");

    // libpq's failover form (decision 183): a host nothing listens on, then the server; the
    // sessions go past the first, as pg_dump's do.
    const { freePort } = await import("../lib/embedded-postgres");
    const real = new URL(targetUrl);
    const dead = `127.0.0.1:${await freePort()}`;
    const failover = `postgresql://${real.username}:${real.password}@${dead},${real.host}${real.pathname}?target_session_attrs=read-write`;
    await form.getByLabel("Connection URL").fill(failover);
    await expect(form.getByLabel("Connection URL")).toHaveAttribute("type", "password");
    await form.getByRole("button", { name: "Test connection" }).click();
    await expect(result).toContainText("PostgreSQL");
    await expect(result).toContainText("pg_dump");
    await expect(result.getByTestId("target-test-connected")).toHaveText(`Connected to ${dbName} as ${real.username} on ${real.host}, host 2 of 2 (target_session_attrs=read-write).`);
    for (const c of ["canBackup", "canRestoreInPlace", "canSwap", "restorable"]) await expect(result.getByTestId(`capability-${c}`)).toHaveAttribute("data-ok", "true");
    await screenshot(page, "targets-admin-test-result");
    await form.getByRole("button", { name: "Add target" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Target “${name}” added` })).toBeVisible();

    const row = table.getByTestId(`target-row-${name}`);
    await expect(row).toContainText("staging");
    await expect(row).toContainText(`${dead},${real.host}/${dbName}`);
    await expect(row).toContainText("None");
    await expect(page.locator("body")).not.toContainText(new URL(targetUrl).password);

    // The schedule: cron and time zone with the next runs, saved.
    await row.getByRole("button", { name: `Edit ${name}` }).click();
    const edit = page.getByRole("form", { name: `Edit target ${name}` });
    await expect(edit.getByLabel("Connection URL")).toHaveValue("");
    await edit.getByLabel("Scheduled backups (otherwise none)").check();
    await edit.getByLabel("Cron").fill("30 4 * * *");
    await edit.getByLabel("Time zone").fill("Europe/Berlin");
    await expect(edit.getByTestId("target-next-runs")).toContainText("Next runs:");
    await edit.getByLabel("Cron").fill("not a cron");
    await expect(edit.getByTestId("target-next-runs")).toContainText("No next runs");
    await edit.getByLabel("Cron").fill("30 4 * * *");
    // The gate's default while a backup of this target runs (decision 175).
    await edit.getByLabel("While a FULL backup runs").selectOption("allow");
    // Its own give-way for scheduled backups (decision 189): a negative value is not sent, a good one kept.
    const giveWay = edit.getByLabel("A scheduled backup gives way after (seconds)");
    await giveWay.fill("-5");
    await edit.getByRole("button", { name: "Save" }).click();
    expect(await giveWay.evaluate((el) => (el as HTMLInputElement).validity.rangeUnderflow)).toBe(true);
    await expect(edit).toBeVisible();
    await giveWay.fill("30");
    // Its own directory for a copy restore's files (decision 192): absolute, outside its files directory.
    const copyDir = edit.getByLabel("A restore into a copy puts the files in");
    await copyDir.fill("copies");
    await edit.getByRole("button", { name: "Save" }).click();
    await expect(edit).toContainText("an absolute path");
    await edit.getByLabel("Files directory").fill("/srv/shop-uploads");
    await copyDir.fill("/srv/shop-uploads/../shop-uploads/copies");
    await edit.getByRole("button", { name: "Save" }).click();
    await expect(edit).toContainText("inside the files directory, which the application serves and backs up");
    await edit.getByLabel("Files directory").fill("");
    await copyDir.fill("/srv/shop-copies");
    await edit.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Target “${name}” saved` })).toBeVisible();
    await expect(row).toContainText("30 4 * * * (Europe/Berlin), FULL");
    const [saved] = await sql<{ settings: { gate?: { duringBackup?: string }; giveWaySeconds?: number; copyFilesDir?: string; filesDir?: string } }>(`SELECT settings FROM "Target" WHERE name = $1`, [name]);
    expect(saved.settings.gate).toEqual({ duringBackup: "allow" });
    expect(saved.settings.giveWaySeconds).toBe(30);
    expect(saved.settings.copyFilesDir).toBe("/srv/shop-copies");
    expect(saved.settings.filesDir).toBeUndefined();
    await row.getByRole("button", { name: `Edit ${name}` }).click();
    await expect(page.getByRole("form", { name: `Edit target ${name}` }).getByLabel("While a FULL backup runs")).toHaveValue("allow");
    await expect(page.getByRole("form", { name: `Edit target ${name}` }).getByLabel("A scheduled backup gives way after (seconds)")).toHaveValue("30");
    await expect(page.getByRole("form", { name: `Edit target ${name}` }).getByLabel("A restore into a copy puts the files in")).toHaveValue("/srv/shop-copies");
    await page.getByRole("form", { name: `Edit target ${name}` }).getByRole("button", { name: "Cancel" }).click();

    // Removal: the typed name, and nothing before it.
    await row.getByRole("button", { name: `Remove ${name}` }).click();
    const dialog = page.getByTestId("delete-target-dialog");
    const confirm = dialog.getByRole("button", { name: `Remove ${name}` });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`Type ${name} to confirm`).fill(name.toUpperCase());
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`Type ${name} to confirm`).fill(name);
    await confirm.click();
    await expect(page.getByRole("status").filter({ hasText: `Target “${name}” removed` })).toBeVisible();
    await expect(table.getByTestId(`target-row-${name}`)).toHaveCount(0);
  });

  test("a backup role whose CONNECTION LIMIT leaves no room for a backup's sessions: the test says so, with the ALTER to copy", async ({ page }) => {
    // A role made for backups, as a hardened setup has one: it reads everything, and may hold 2 sessions.
    const role = `e2e_backup_${randomBytes(3).toString("hex")}`;
    await sql(`CREATE ROLE "${role}" LOGIN PASSWORD 'limited-pw-1' CONNECTION LIMIT 2 IN ROLE pg_read_all_data`);
    try {
      const u = new URL(targetUrl);
      u.username = role;
      u.password = "limited-pw-1";
      await page.goto("/settings/targets");
      await page.getByRole("button", { name: "Add target" }).click();
      const form = page.getByRole("form", { name: "Add target" });
      await form.getByLabel("Connection URL").fill(u.toString());
      await form.getByRole("button", { name: "Test connection" }).click();
      const result = form.getByTestId("target-test-result");
      const backup = result.getByTestId("capability-canBackup");
      await expect(backup).toHaveAttribute("data-ok", "false");
      await expect(backup).toContainText(`A FULL backup opens up to 4 sessions on ${dbName} at once, and there is room for 2 now: ${role} may have 2 sessions (its CONNECTION LIMIT) and has 0 open.`);
      await expect(backup.locator("code")).toHaveText(`ALTER ROLE "${role}" CONNECTION LIMIT 4;`);
      await screenshot(page, "targets-admin-connection-limit");
      // Raised as it says, the test passes.
      await sql(`ALTER ROLE "${role}" CONNECTION LIMIT 4`);
      await form.getByRole("button", { name: "Test connection" }).click();
      await expect(backup).toHaveAttribute("data-ok", "true");
    } finally {
      await sql(`DROP ROLE IF EXISTS "${role}"`);
    }
  });

  test("a VIEWER sees the targets and no way to change them", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: E2E.viewerState });
    const page = await ctx.newPage();
    await page.goto("/settings/targets");
    await expect(page.getByRole("table", { name: "Targets" }).getByTestId("target-row-default")).toBeVisible();
    await expect(page.getByRole("button", { name: "Add target" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Edit default" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Test" })).toHaveCount(0);
    await ctx.close();
  });
});
