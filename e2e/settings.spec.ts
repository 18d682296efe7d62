// /settings (schedule, retention, notifications; ADMIN edits, others read; the channels
// have e2e/notification-channels.spec.ts) and
// /settings/tokens (secret shown once, revoke with confirmation).
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot } from "./helpers";

test.describe.serial("settings", () => {
  test.afterAll(async ({ request }) => {
    // Put the defaults back for the other specs.
    await request.put("/api/settings", {
      headers: E2E.sameOrigin,
      data: {
        retention: { days: 30, keepLast: 10, keepQuick: 10, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
        notifications: { missedBackupAfterHours: 26 },
        compression: { codec: "zstd", level: 1 },
      },
    });
  });

  test("an ADMIN saves retention; the toast, the reload and the audit log agree", async ({ page }) => {
    await page.goto("/settings");
    await expect(page.getByRole("heading", { name: "Settings", exact: true })).toBeVisible();
    await expect(page.getByTestId("next-runs").locator("li")).toHaveCount(5);
    await screenshot(page, "settings");

    const days = page.getByLabel("Keep for (days)");
    await days.fill("45");
    await page.getByRole("button", { name: "Save retention" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Retention saved" })).toBeVisible();
    await page.reload();
    await expect(page.getByLabel("Keep for (days)")).toHaveValue("45");
    await expect(page.getByRole("form", { name: "Retention" })).toContainText(/Version \d+ · changed/);

    // Saving the same values again changes nothing, and says so.
    await page.getByRole("button", { name: "Save retention" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Retention: nothing changed" })).toBeVisible();

    await page.goto("/audit?action=settings.updated");
    await expect(page.getByLabel("Action")).toHaveValue("settings.updated");
    const first = page.getByRole("table", { name: "Audit events" }).locator("tbody tr").first();
    await expect(first).toContainText("settings.updated");
    await expect(first).toContainText(E2E.admin.email);
    await first.getByText("Show").click();
    await expect(first).toContainText('"days": 45');
    await screenshot(page, "audit");
  });

  test("compression and the missed-backup alert: a value out of range is caught at its field, a saved one comes back", async ({ page }) => {
    const puts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "PUT" && new URL(r.url()).pathname === "/api/settings") puts.push(r.postData() ?? "");
    });
    await page.goto("/settings");
    const compression = page.getByRole("form", { name: "Compression" });
    const codec = compression.getByLabel("Codec");
    const level = compression.getByLabel("Level");
    await expect(codec).toHaveValue("zstd");
    await expect(level).toHaveValue("1");
    // gzip starts at its fastest level; 12 is a zstd level, not a gzip one.
    await codec.selectOption("gzip");
    await expect(level).toHaveValue("1");
    await expect(level).toHaveAttribute("max", "9");
    await level.fill("12");
    await expect(level).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#compression-level-hint")).toContainText("9");
    await expect(page.getByTestId("compression-unsaved")).toBeVisible();
    await compression.getByRole("button", { name: "Save compression" }).click();
    await level.fill("6");
    await expect(level).not.toHaveAttribute("aria-invalid", "true");
    await compression.getByRole("button", { name: "Save compression" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Compression saved" })).toBeVisible();
    // The click on the bad level sent nothing: the one request is the good one.
    expect(puts.map((b) => JSON.parse(b))).toEqual([{ compression: { codec: "gzip", level: 6 } }]);

    const alert = page.getByLabel("Alert when no backup for (hours)");
    await alert.fill("");
    await expect(alert).toHaveAttribute("aria-invalid", "true");
    await alert.fill("48");
    await page.getByRole("button", { name: "Save notifications" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Notifications saved" })).toBeVisible();

    await page.reload();
    await expect(page.getByRole("form", { name: "Compression" }).getByLabel("Codec")).toHaveValue("gzip");
    await expect(page.getByRole("form", { name: "Compression" }).getByLabel("Level")).toHaveValue("6");
    await expect(page.getByLabel("Alert when no backup for (hours)")).toHaveValue("48");
    // "none": pg_dump's own zlib, no level to give.
    await page.getByRole("form", { name: "Compression" }).getByLabel("Codec").selectOption("none");
    await expect(page.getByTestId("compression-none-hint")).toBeVisible();
    await expect(page.getByRole("form", { name: "Compression" }).getByLabel("Level")).toHaveCount(0);
  });

  test("a bad cron expression is caught before saving, and the preview follows the input", async ({ page }) => {
    await page.goto("/settings");
    const cron = page.getByLabel("Cron expression", { exact: true });
    await cron.fill("0 2 * *");
    // At the field, as it is typed (no blur needed), and named by the preview.
    await expect(cron).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#schedule-cron-hint")).toContainText(/invalid cron expression: must have 5 fields/);
    await expect(page.getByTestId("next-runs-missing")).toHaveText("No next runs: fix the cron expression above.");
    const tz = page.getByLabel("Time zone", { exact: true });
    await tz.fill("Mars/Olympus_Mons");
    await expect(page.locator("#schedule-timezone-hint")).toContainText("unknown time zone");
    await expect(page.getByTestId("next-runs-missing")).toHaveText("No next runs: fix the cron expression and time zone above.");
    await tz.fill("UTC");
    await cron.fill("30 4 * * *");
    await expect(page.getByTestId("next-runs").locator("li").first()).toContainText("04:30 UTC");
  });

  test("the server's field errors are shown at their fields", async ({ page }) => {
    await page.goto("/settings");
    // A value the browser accepts but the server refuses (e.g. a zone this Node lacks).
    await page.route("**/api/settings", (route) =>
      route.request().method() === "PUT"
        ? route.fulfill({
            status: 400,
            contentType: "application/json",
            body: JSON.stringify({
              error: {
                code: "VALIDATION_FAILED",
                message: "The request is not valid",
                details: { fields: [{ path: "schedule.timezone", message: "unknown time zone on the server: Europe/Kyiv" }] },
              },
            }),
          })
        : route.continue(),
    );
    await page.getByLabel("Time zone", { exact: true }).fill("Europe/Kyiv");
    await page.getByRole("button", { name: "Save schedule" }).click();
    await expect(page.getByLabel("Time zone", { exact: true })).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#schedule-timezone-hint")).toHaveText("unknown time zone on the server: Europe/Kyiv");
    await screenshot(page, "settings-server-field-error");
    // Editing the field clears the server's verdict on the old value.
    await page.getByLabel("Time zone", { exact: true }).fill("UTC");
    await expect(page.locator("#schedule-timezone-hint")).toHaveCount(0);
  });

  test("leaving with unsaved changes asks first", async ({ page }) => {
    await page.goto("/settings");
    await page.getByLabel("Keep quick backups").fill("3");
    await expect(page.getByTestId("retention-unsaved")).toBeVisible();
    const messages: string[] = [];
    page.once("dialog", (d) => {
      messages.push(d.message());
      void d.dismiss();
    });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Backups" }).click();
    await expect.poll(() => messages.length).toBe(1);
    expect(messages[0]).toMatch(/not saved/);
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByLabel("Keep quick backups")).toHaveValue("3");
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Backups" }).click();
    await expect(page).toHaveURL(/\/backups$/);
  });

  test("a VIEWER reads the settings without a way to save them", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: E2E.viewerState });
    const viewer = await ctx.newPage();
    await viewer.goto("/settings");
    await expect(viewer.getByText("Read-only: only an ADMIN can change settings.")).toBeVisible();
    await expect(viewer.getByLabel("Alert when no backup for (hours)")).toBeDisabled();
    await expect(viewer.getByRole("button", { name: /^Save/ })).toHaveCount(0);
    await screenshot(viewer, "settings-viewer");
    await ctx.close();
  });
});

test("the only admin is offered no way to demote or disable themselves, and the server refuses it too", async ({ page }) => {
  await page.goto("/settings/users");
  const me = page.locator(`tr[data-user-email="${E2E.admin.email}"]`);
  await expect(me).toContainText("ADMIN");
  await expect(me.getByTestId("last-admin-note")).toBeVisible();
  await expect(me.getByRole("combobox")).toHaveCount(0);
  await expect(me.getByRole("button", { name: "Disable" })).toHaveCount(0);
  // Other users keep their controls.
  const viewer = page.locator(`tr[data-user-email="${E2E.viewer.email}"]`);
  await expect(viewer.getByRole("button", { name: "Disable" })).toBeVisible();
  await screenshot(page, "users-last-admin");
  const users = (await (await page.request.get("/api/users")).json()).users as { id: string; email: string }[];
  const id = users.find((u) => u.email === E2E.admin.email)!.id;
  for (const data of [{ disabled: true }, { role: "OPERATOR" }]) {
    const res = await page.request.patch(`/api/users/${id}`, { headers: E2E.sameOrigin, data });
    expect(res.status()).toBe(409);
  }
});

test.describe.serial("API tokens", () => {
  const name = `e2e-ci-${Date.now()}`;

  test("creating a token shows its secret once, with a warning; a reload does not", async ({ page }) => {
    await page.goto("/settings/tokens");
    await expect(page.getByRole("heading", { name: "API tokens" })).toBeVisible();
    await page.getByLabel("Name").fill(name);
    await page.getByRole("checkbox", { name: /deploy/ }).check();
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = page.getByTestId("token-secret");
    await expect(secret).toHaveText(/^vl_[A-Za-z0-9_-]{43}$/);
    await expect(page.getByTestId("new-token-secret")).toContainText("It will not be shown again");
    await expect(page.getByRole("button", { name: "Copy token" })).toBeVisible();
    const value = await secret.innerText();
    await screenshot(page, "token-created");

    // The secret works as a bearer token…
    const ok = await page.request.get("/api/backups?limit=1", { headers: { authorization: `Bearer ${value}` } });
    expect(ok.status()).toBe(200);

    // …and is gone after a reload: only its prefix is listed.
    await page.reload();
    await expect(page.getByTestId("token-secret")).toHaveCount(0);
    await expect(page.getByText(value)).toHaveCount(0);
    const row = page.getByRole("row").filter({ hasText: name });
    await expect(row).toContainText(value.slice(0, 10));
    await screenshot(page, "tokens");
  });

  test("revoking asks first, then the token stops working", async ({ page }) => {
    await page.goto("/settings/tokens");
    const row = page.getByRole("row").filter({ hasText: name });
    await row.getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("dialog", { name: `Revoke “${name}”?` });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Revoke token" }).click();
    await expect(page.getByRole("status").filter({ hasText: `Token “${name}” revoked` })).toBeVisible();
    await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(0);
  });

  test.describe("as a VIEWER", () => {
    test.use({ storageState: E2E.viewerState });
    test("the tokens page is refused and the tab is not offered", async ({ page }) => {
      await page.goto("/settings/tokens");
      await expect(page.getByRole("alert").filter({ hasText: "You need the ADMIN role" })).toBeVisible();
      await expect(page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API tokens" })).toHaveCount(0);
    });
  });
});
