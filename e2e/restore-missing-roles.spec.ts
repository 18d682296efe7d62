// Roles a backup needs that the server has lost (decision 171): a role the database granted
// a table to, and the login that acts through it, were dropped from the server. The restore
// dialog names them and offers to make them as the backup recorded them; the restore then
// gives the table its grant back, and the login is a member again. A target of its own.
import { test, expect } from "@playwright/test";
import { screenshot, sql, takeBackup } from "./helpers";
import { asAdmin, createTarget, removeTargetAndDatabase, urlOf } from "./target-seed";
import { sql as sqlAt } from "../tests/support/sql";

const DB = "e2e_roles_db";
const GROUP = "e2e_roles_readers";
const LOGIN = "e2e_roles_analyst";

const dropRoles = async () => {
  for (const r of [LOGIN, GROUP]) {
    await sql(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${r}') THEN EXECUTE 'DROP OWNED BY ${r}'; EXECUTE 'DROP ROLE ${r}'; END IF; END $$`).catch(() => undefined);
  }
};

test.describe.serial("a restore that makes the roles the server lost", () => {
  let targetId = "";

  test.beforeAll(async ({ browser }) => {
    await sql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await dropRoles();
    await sql(`CREATE DATABASE ${DB}`);
    await sql(`CREATE ROLE ${GROUP} NOLOGIN; CREATE ROLE ${LOGIN} LOGIN PASSWORD 'e2e-analyst-pw-1' CONNECTION LIMIT 3 IN ROLE ${GROUP}; ALTER ROLE ${LOGIN} SET work_mem = '12MB'`);
    await sqlAt(urlOf(DB), `CREATE TABLE reports (id int PRIMARY KEY, body text); INSERT INTO reports SELECT g, 'r' || g FROM generate_series(1, 50) g; GRANT SELECT ON reports TO ${GROUP}`);
    targetId = await asAdmin(browser, (req) => createTarget(req, "roles-db", "prod", DB));
  });

  test.afterAll(async ({ browser }) => {
    const before = await sql<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}__before_%`]);
    for (const { datname } of before) await sql(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await removeTargetAndDatabase(browser, targetId, DB);
    await dropRoles();
  });

  test("the dialog names the missing roles; the restore makes them and the grant is back", async ({ page }) => {
    test.setTimeout(180_000);
    const id = await takeBackup(page, { target: targetId });
    // Someone cleaned up roles they took for unused.
    await sqlAt(urlOf(DB), `REVOKE SELECT ON reports FROM ${GROUP}`);
    await sql(`DROP ROLE ${LOGIN}; DROP ROLE ${GROUP}`);

    await page.goto(`/backups/${id}`);
    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore from backup ${id.slice(0, 8)}` });
    await expect(dialog.getByTestId("restore-preview")).toBeVisible({ timeout: 30_000 });
    const roles = dialog.getByTestId("restore-missing-roles");
    await expect(roles).toContainText(`2 roles the backup needs are not on this server: ${LOGIN}, ${GROUP}`);
    await expect(roles.getByRole("radio", { name: /Create them as the backup recorded them/ })).toBeChecked();
    await expect(roles).toContainText(`set one for ${LOGIN}`);
    await dialog.getByLabel("Type RESTORE to replace roles-db").fill("RESTORE");
    await screenshot(page, "restore-modal-missing-roles");
    await dialog.getByRole("button", { name: "Restore database" }).click();
    await expect(dialog.getByTestId("restore-progress")).toHaveAttribute("data-status", "SUCCEEDED", { timeout: 120_000 });

    // The roles as they were, the login a member again, and the table's grant back.
    expect(
      await sql<{ rolname: string; rolcanlogin: boolean; rolconnlimit: number; rolconfig: string[] | null; member: boolean }>(
        `SELECT rolname, rolcanlogin, rolconnlimit, rolconfig, pg_has_role(rolname, '${GROUP}', 'MEMBER') AS member FROM pg_roles WHERE rolname IN ('${GROUP}', '${LOGIN}') ORDER BY 1`,
      ),
    ).toEqual([
      { rolname: LOGIN, rolcanlogin: true, rolconnlimit: 3, rolconfig: ["work_mem=12MB"], member: true },
      { rolname: GROUP, rolcanlogin: false, rolconnlimit: -1, rolconfig: null, member: true },
    ]);
    expect(await sqlAt<{ ok: boolean }>(urlOf(DB), `SELECT has_table_privilege('${LOGIN}', 'reports', 'SELECT') AS ok`)).toEqual([{ ok: true }]);
    await dialog.getByRole("link", { name: "Restore details" }).click();
    await expect(page.getByTestId("restore-detail")).toContainText("the roles the server lacked made as it recorded them");
  });
});
