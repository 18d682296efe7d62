// /backups: today's banner in each state, the history's pages and filters (in the URL),
// live progress without layout shift, what each role may do, and a real backup made from
// the "Back up now" dialog, then deleted by typing its short id.
import { test, expect, type Page } from "@playwright/test";
import { E2E } from "./env";
import { screenshot, sql } from "./helpers";
import { removeSeeded, seedBackups, seedId, shiftOthers, waitForIdle } from "./backup-seed";

const HOUR = 3_600_000;
const dayStart = () => {
  const n = new Date();
  return new Date(Date.UTC(n.getUTCFullYear(), n.getUTCMonth(), n.getUTCDate()));
};
/** A moment today (UTC) shortly before now, never before 00:00 UTC. */
const todayAt = (secondsAgo: number) => new Date(Math.max(dayStart().getTime() + 1000, Date.now() - secondsAgo * 1000));

const banner = (page: Page) => page.getByTestId("today-banner");

test.describe.serial("today's banner", () => {
  const P = "e2ebnr";
  test.beforeAll(async () => {
    await waitForIdle();
    await removeSeeded(P);
    // Every other row moves 3 days back, so only what this spec seeds decides "today".
    await shiftOthers(P, 3);
  });
  test.afterAll(async () => {
    await removeSeeded(P);
    await shiftOthers(P, -3);
  });

  test("missing: yellow, with the hours since the last success and the UTC day boundary", async ({ page }) => {
    const at = new Date(Date.now() - 26 * HOUR - 10 * 60_000);
    await seedBackups([{ id: seedId(P, 1), createdAt: new Date(at.getTime() - 12_000), completedAt: at, durationSeconds: 12 }]);
    await page.goto("/backups");
    await expect(banner(page)).toHaveAttribute("data-state", "missing");
    await expect(banner(page)).toContainText("No backup yet today — last database backup 26 h ago");
    await expect(banner(page)).toContainText("counted from 00:00 UTC");
    await screenshot(page, "banner-missing");
  });

  test("a QUICK-only day is yellow: the code-only backup is named, the last database backup dates the gap", async ({ page }) => {
    const at = todayAt(90);
    await seedBackups([
      { id: seedId(P, 9), kind: "QUICK", trigger: "PRE_DEPLOY", createdAt: new Date(at.getTime() - 1000), completedAt: at, sizeBytes: 1100, durationSeconds: 1, checksumSha256: null, commitSha: "c0ffee1234abcd" },
    ]);
    const hhmm = `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")}`;
    await page.goto("/backups");
    await expect(banner(page)).toHaveAttribute("data-state", "missing");
    await expect(banner(page)).toContainText(`Code-only backup at ${hhmm} UTC; last database backup 26 h ago`);
    const today = await page.request.get("/api/today");
    expect((await today.json()).state).toBe("missing");
    await screenshot(page, "banner-quick-only");
    await sql(`DELETE FROM "BackupJob" WHERE id = $1`, [seedId(P, 9)]);
  });

  test("failed: red, with the reason", async ({ page }) => {
    const at = todayAt(120);
    await seedBackups([
      { id: seedId(P, 2), status: "FAILED", createdAt: new Date(at.getTime() - 3000), completedAt: at, sizeBytes: null, checksumSha256: null, failureReason: "pg_dump: connection to server refused" },
    ]);
    await page.goto("/backups");
    await expect(banner(page)).toHaveAttribute("data-state", "failed");
    await expect(banner(page)).toContainText("Today's backup failed: pg_dump: connection to server refused");
    await screenshot(page, "banner-failed");
  });

  test("ok: green, with time, size and duration", async ({ page }) => {
    const at = todayAt(60);
    await seedBackups([{ id: seedId(P, 3), createdAt: new Date(at.getTime() - 12_000), completedAt: at, sizeBytes: 3_400_000, durationSeconds: 12 }]);
    const hhmm = `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")}`;
    await page.goto("/backups");
    await expect(banner(page)).toHaveAttribute("data-state", "ok");
    await expect(banner(page)).toContainText(`Today's backup completed at ${hhmm} UTC (3.2 MiB, 12 s)`);
    await screenshot(page, "banner-ok");
  });

  test("running: blue, and the row shows live progress at the same height as the others", async ({ page }) => {
    const id = seedId(P, 4);
    await seedBackups([
      {
        id,
        status: "RUNNING",
        createdAt: new Date(Date.now() - 20_000),
        startedAt: new Date(Date.now() - 18_000),
        completedAt: null,
        heartbeatAt: new Date(),
        sizeBytes: null,
        durationSeconds: null,
        checksumSha256: null,
        progressBytes: 1_200_000,
        phase: "dumping",
      },
    ]);
    await page.goto("/backups");
    await expect(banner(page)).toHaveAttribute("data-state", "running");
    await expect(banner(page)).toContainText("A full backup is running — dumping, 1.1 MiB so far");
    const running = page.locator(`tr[data-backup-id="${id}"]`);
    await expect(running.getByTestId("live-progress")).toContainText("dumping");
    await expect(running.getByTestId("live-progress")).toContainText("1.1 MiB");
    await expect(running.getByRole("progressbar")).toBeVisible();
    const done = page.locator(`tr[data-backup-id="${seedId(P, 3)}"]`);
    const [h1, h2] = [(await running.boundingBox())!.height, (await done.boundingBox())!.height];
    expect(Math.abs(h1 - h2)).toBeLessThan(1);

    // Progress moves on the next poll; the row keeps its height.
    await sql(`UPDATE "BackupJob" SET "progressBytes" = 5600000, phase = 'uploading', "heartbeatAt" = now() AT TIME ZONE 'UTC' WHERE id = $1`, [id]);
    await expect(running.getByTestId("live-progress")).toContainText("5.3 MiB");
    await expect(running.getByTestId("live-progress")).toContainText("uploading");
    expect(Math.abs((await running.boundingBox())!.height - h1)).toBeLessThan(1);
    await screenshot(page, "banner-running");

    // When it finishes, polling picks that up and the banner turns green.
    await sql(
      `UPDATE "BackupJob" SET status = 'SUCCEEDED', phase = 'done', "completedAt" = now() AT TIME ZONE 'UTC', "sizeBytes" = 2000000, "durationSeconds" = 20 WHERE id = $1`,
      [id],
    );
    await expect(banner(page)).toHaveAttribute("data-state", "ok");
  });
});

test.describe.serial("history: pages, filters, order", () => {
  const P = "e2epag";
  const statuses = ["SUCCEEDED", "SUCCEEDED", "FAILED", "CANCELLED"] as const;
  const triggers = ["SCHEDULED", "MANUAL", "API", "PRE_DEPLOY"] as const;
  test.beforeAll(async () => {
    await removeSeeded(P);
    const base = Date.now() - 200 * HOUR;
    await seedBackups(
      Array.from({ length: 120 }, (_, i) => ({
        id: seedId(P, i),
        createdAt: new Date(base + i * HOUR),
        status: statuses[i % 4],
        kind: i % 3 === 0 ? ("QUICK" as const) : ("FULL" as const),
        trigger: triggers[i % 4],
        sizeBytes: statuses[i % 4] === "SUCCEEDED" ? 1_000_000 + i * 10_000 : null,
        failureReason: statuses[i % 4] === "FAILED" ? `seeded failure ${i}` : null,
        note: `seed ${i}`,
      })),
    );
  });
  test.afterAll(async () => removeSeeded(P));

  const count = async (where = "TRUE", params: unknown[] = []) => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM "BackupJob" WHERE ${where}`, params))[0].n);

  test("pages through the history newest first, the page in the URL", async ({ page }) => {
    const total = await count();
    await page.goto("/backups");
    await expect(page.getByTestId("page-range")).toHaveText(`1–25 of ${total}`);
    const rows = page.getByRole("table", { name: "Backup history" }).locator("tbody tr");
    await expect(rows).toHaveCount(25);
    const times = await rows.locator("time").evaluateAll((els) => els.map((e) => e.getAttribute("datetime")!));
    expect([...times].sort().reverse()).toEqual(times);

    await page.getByRole("button", { name: "Next" }).click();
    await expect(page).toHaveURL(/offset=25/);
    await expect(page.getByTestId("page-range")).toHaveText(`26–50 of ${total}`);
    const next = await rows.locator("time").first().getAttribute("datetime");
    expect(next! <= times[times.length - 1]).toBe(true);
    await page.reload();
    await expect(page.getByTestId("page-range")).toHaveText(`26–50 of ${total}`);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect(page.getByTestId("page-range")).toHaveText(`1–25 of ${total}`);
  });

  test("filters by status through the URL and back to page one", async ({ page }) => {
    const failed = await count(`status = 'FAILED'`);
    await page.goto("/backups?offset=50");
    await page.getByLabel("Status", { exact: true }).selectOption("FAILED");
    await expect(page).toHaveURL(/status=FAILED/);
    await expect(page).not.toHaveURL(/offset=/);
    await expect(page.getByTestId("page-range")).toHaveText(`1–${Math.min(25, failed)} of ${failed}`);
    const statusCells = page.getByRole("table", { name: "Backup history" }).locator("tbody tr td:nth-child(2)");
    for (const text of await statusCells.allInnerTexts()) expect(text).toContain("Failed");
    await screenshot(page, "backups-filtered");
  });

  test("filters by kind and trigger from a shared link", async ({ page }) => {
    const n = await count(`kind = 'QUICK' AND trigger = 'API'`);
    await page.goto("/backups?kind=QUICK&trigger=API");
    await expect(page.getByLabel("Kind", { exact: true })).toHaveValue("QUICK");
    await expect(page.getByLabel("Trigger", { exact: true })).toHaveValue("API");
    await expect(page.getByTestId("page-range")).toHaveText(`1–${Math.min(25, n)} of ${n}`);
    const rows = page.getByRole("table", { name: "Backup history" }).locator("tbody tr");
    for (const text of await rows.allInnerTexts()) {
      expect(text).toContain("Quick");
      expect(text).toContain("API");
    }
    await page.getByRole("button", { name: "Clear filters" }).first().click();
    await expect(page).toHaveURL(/\/backups$/);
  });

  test("is readable at 390 px", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/backups");
    await expect(banner(page)).toBeVisible();
    await expect(page.getByTestId("page-range")).toBeVisible();
    // The page itself does not scroll sideways; only the table's frame does.
    const offenders = await page.evaluate(() =>
      Array.from(document.querySelectorAll("body *"))
        .filter((el) => {
          const r = el.getBoundingClientRect();
          if (r.width === 0 || r.right <= 391) return false;
          for (let p = el.parentElement; p; p = p.parentElement) if (["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX)) return false;
          return true;
        })
        .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""} (right ${Math.round(el.getBoundingClientRect().right)})`),
    );
    expect(offenders).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "backups-mobile");
  });
});

test.describe.serial("what each role may do", () => {
  const P = "e2erol";
  const id = seedId(P, 1);
  test.beforeAll(async () => {
    await removeSeeded(P);
    // In the future so that it is the first row whatever else exists.
    await seedBackups([{ id, createdAt: new Date(Date.now() + HOUR), storageKey: `backups/e2e/${id}/archive.dump.gpg`, commitSha: "0123456789abcdef0123456789abcdef01234567" }]);
  });
  test.afterAll(async () => removeSeeded(P));

  test.describe("VIEWER", () => {
    test.use({ storageState: E2E.viewerState });
    test("sees the history but no button that changes anything", async ({ page }) => {
      await page.goto("/backups");
      const row = page.locator(`tr[data-backup-id="${id}"]`);
      await expect(row).toBeVisible();
      await expect(row.getByText("0123456")).toBeVisible();
      for (const name of ["Restore", "Cancel", "More actions"]) await expect(row.getByRole("button", { name })).toHaveCount(0);
      await expect(page.getByRole("menuitem")).toHaveCount(0);
      await expect(page.getByRole("button", { name: "Back up now" })).toHaveCount(0);
      await screenshot(page, "backups-viewer");
    });
  });

  test.describe("OPERATOR", () => {
    test.use({ storageState: E2E.operatorState });
    test("may back up, verify and download, not restore or delete", async ({ page }) => {
      await page.goto("/backups");
      const row = page.locator(`tr[data-backup-id="${id}"]`);
      await expect(row.getByRole("button", { name: "Restore" })).toHaveCount(0);
      await row.getByRole("button", { name: /More actions/ }).click();
      const menu = page.getByRole("menu");
      await expect(menu.getByRole("menuitem", { name: "Verify checksum" })).toBeVisible();
      await expect(menu.getByRole("menuitem", { name: "Restore drill" })).toBeVisible();
      await expect(menu.getByRole("menuitem", { name: "Download" })).toHaveAttribute("href", `/api/backups/${id}/download`);
      await expect(menu.getByRole("menuitem", { name: /Delete/ })).toHaveCount(0);
      await page.keyboard.press("Escape");
      await expect(menu).toBeHidden();
      await expect(page.getByRole("button", { name: "Back up now" })).toBeVisible();
    });
  });

  test("ADMIN may restore and delete; delete asks for the short id", async ({ page }) => {
    await page.goto("/backups");
    const row = page.locator(`tr[data-backup-id="${id}"]`);
    await expect(row.getByRole("button", { name: "Restore" })).toBeVisible();
    await row.getByRole("button", { name: /More actions/ }).click();
    await page.getByRole("menuitem", { name: "Delete…" }).click();
    const dialog = page.getByRole("dialog", { name: `Delete backup ${id.slice(0, 8)}?` });
    await expect(dialog).toBeVisible();
    const confirm = dialog.getByRole("button", { name: "Delete backup" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`Type ${id.slice(0, 8)} to confirm`).fill(id.slice(0, 7));
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(`Type ${id.slice(0, 8)} to confirm`).fill(id.slice(0, 8));
    await expect(confirm).toBeEnabled();
    await screenshot(page, "delete-dialog");
    // A refusal (a restore of this target running) is said in the dialog, which stays open.
    await page.route(`**/api/backups/${id}`, (route) =>
      route.request().method() === "DELETE"
        ? route.fulfill({
            status: 409,
            contentType: "application/json",
            body: JSON.stringify({ error: { code: "OPERATION_IN_PROGRESS", message: "A restore of default is running: try again when it has finished" } }),
          })
        : route.continue(),
    );
    await confirm.click();
    await expect(dialog.getByRole("alert")).toContainText("A restore of default is running");
    await expect(dialog).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    // Opened again, it has forgotten the word and the refusal.
    await row.getByRole("button", { name: /More actions/ }).click();
    await page.getByRole("menuitem", { name: "Delete…" }).click();
    await expect(dialog.getByLabel(`Type ${id.slice(0, 8)} to confirm`)).toHaveValue("");
    await expect(dialog.getByRole("alert")).toHaveCount(0);
    await page.keyboard.press("Escape");
    expect(await sql(`SELECT id FROM "BackupJob" WHERE id = $1`, [id])).toHaveLength(1);
  });
});

test.describe.serial("a real backup from the dialog", () => {
  let created: string | null = null;
  test.afterAll(async () => {
    if (created) await sql(`DELETE FROM "BackupJob" WHERE id = $1`, [created]);
  });

  test("an OPERATOR takes a quick backup and watches it finish", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: E2E.operatorState });
    const page = await ctx.newPage();
    await page.goto("/backups");
    await page.getByRole("button", { name: "Back up now" }).click();
    const dialog = page.getByRole("dialog", { name: "Back up now" });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel(/Quick backup/).check();
    await expect(dialog.getByLabel(/Include files/)).toBeDisabled();
    await dialog.getByLabel(/Note/).fill("e2e quick from the dialog");
    // No commit typed and none configured in this environment: refused, saying how to configure one.
    const refused = page.waitForResponse((r) => r.url().endsWith("/api/backups") && r.request().method() === "POST");
    await dialog.getByRole("button", { name: "Start backup" }).click();
    expect((await refused).status()).toBe(400);
    await expect(dialog.getByRole("alert")).toContainText("APP_COMMIT_SHA");
    await dialog.getByRole("textbox", { name: /^Commit/ }).fill("C0FFEE1234ABCD");
    await screenshot(page, "create-backup-dialog");
    const response = page.waitForResponse((r) => r.url().endsWith("/api/backups") && r.request().method() === "POST");
    await dialog.getByRole("button", { name: "Start backup" }).click();
    const res = await response;
    expect(res.status()).toBe(202);
    created = (await res.json()).id as string;
    await expect(dialog).toBeHidden();
    const row = page.locator(`tr[data-backup-id="${created}"]`);
    await expect(row).toContainText("e2e quick from the dialog");
    await expect(row).toContainText("Succeeded", { timeout: 60_000 });
    await expect(row).toContainText("Operator User");
    await expect(row).toContainText("commit c0ffee1");
    // The "queued" toast does not outlive the backup it announced.
    await expect(page.locator(`[data-toast-key="backup-queued:${created}"]`)).toHaveCount(0);
    await ctx.close();
  });

  test("the detail page shows its fields, manifest and phase log", async ({ page }) => {
    test.skip(!created, "needs the backup above");
    await page.goto(`/backups/${created}`);
    await expect(page.getByRole("heading", { name: new RegExp(`Backup ${created!.slice(0, 8)}`) })).toBeVisible();
    await expect(page.getByText("e2e quick from the dialog", { exact: true })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Manifest" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "Phase log" })).toBeVisible();
    await screenshot(page, "backup-detail");
  });

  test("an ADMIN deletes it by typing its short id", async ({ page }) => {
    test.skip(!created, "needs the backup above");
    await page.goto(`/backups/${created}`);
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel(/to confirm/).fill(created!.slice(0, 8));
    await dialog.getByRole("button", { name: "Delete backup" }).click();
    await expect(page).toHaveURL(/\/backups$/);
    await expect(page.getByRole("status").filter({ hasText: `Backup ${created!.slice(0, 8)} deleted` })).toBeVisible();
    expect(await sql(`SELECT id FROM "BackupJob" WHERE id = $1`, [created])).toHaveLength(0);
    created = null;
  });
});

test("the trend charts draw the last 30 and 90 days", async ({ page }) => {
  // Small, fast backups, as a small database's are: the chart library's own ticks for them
  // were labelled "0 0.1 0.1 0.2 0.3" (s) and "0 B 3.9 KiB 7.8 KiB 12 KiB 16 KiB".
  const T = "trnd";
  await removeSeeded(T);
  const daysAgo = (d: number) => new Date(Date.now() - d * 24 * HOUR);
  await seedBackups([
    { id: seedId(T, 1), createdAt: daysAgo(5), durationSeconds: 0.12, sizeBytes: 12 * 1024 },
    { id: seedId(T, 2), createdAt: daysAgo(2), durationSeconds: 0.27, sizeBytes: 15 * 1024 },
  ]);
  try {
    await page.goto("/backups");
    const trends = page.getByRole("region", { name: "Trends" });
    await expect(trends.getByText("Size", { exact: true })).toBeVisible();
    await trends.getByRole("button", { name: "90 days" }).click();
    await expect(trends.getByRole("button", { name: "90 days" })).toHaveAttribute("aria-pressed", "true");
    // Round ticks in one unit, each with its own label (decision 198).
    const ticks = (title: RegExp, axis: "x" | "y") =>
      trends.locator("figure").filter({ has: page.getByText(title) }).locator(`.recharts-${axis}Axis-tick-labels .recharts-cartesian-axis-tick-value`);
    const labelsOf = async (title: RegExp, axis: "x" | "y") => (await ticks(title, axis).allTextContents()).map((t) => t.trim());
    await expect(ticks(/^Size$/, "y").first()).toBeVisible();
    for (const title of [/^Size$/, /^Duration \((s|min|h)\)$/]) {
      const labels = await labelsOf(title, "y");
      expect(labels.length, `${title}: ${labels.join(" ")}`).toBeGreaterThanOrEqual(2);
      expect(new Set(labels).size, `${title}: ${labels.join(" ")}`).toBe(labels.length);
    }
    // The time axis names days along the whole period, not only the day that holds data.
    const xLabels = await labelsOf(/^Size$/, "x");
    expect(xLabels.length, xLabels.join(" ")).toBeGreaterThanOrEqual(5);
    expect(new Set(xLabels).size, xLabels.join(" ")).toBe(xLabels.length);
    const sizeUnits = new Set((await labelsOf(/^Size$/, "y")).filter((t) => t !== "0").map((t) => t.split(" ")[1]));
    expect(sizeUnits.size, [...sizeUnits].join(" ")).toBe(1);
    await screenshot(page, "backups");
  } finally {
    await removeSeeded(T);
  }
});
