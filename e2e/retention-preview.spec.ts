// Settings → Retention: the preview follows the values as they are typed, before anything
// is saved, and agrees with GET /api/retention/preview for the same values.
import { test, expect } from "@playwright/test";
import { screenshot } from "./helpers";
import { removeSeeded, seedBackups, seedId } from "./backup-seed";

const P = "e2egfs";
const n = (count: number) => `${count} backup${count === 1 ? "" : "s"}`;
const DAY = 86_400_000;

interface Preview {
  keptCount: number;
  prunedCount: number;
  keep: { id: string; reasons: string[] }[];
}

test.describe.serial("retention preview", () => {
  test.beforeAll(async () => {
    await removeSeeded(P);
    // Two months of nightly backups, 1 MiB each.
    const noon = new Date();
    noon.setUTCHours(12, 0, 0, 0);
    await seedBackups(
      Array.from({ length: 70 }, (_, i) => ({ id: seedId(P, i + 1), createdAt: new Date(noon.getTime() - (i + 1) * DAY), sizeBytes: 1_048_576 })),
    );
  });
  test.afterAll(async () => {
    await removeSeeded(P);
  });

  test("editing a field changes the preview before saving, and a bad value says what to fix", async ({ page, request }) => {
    await page.goto("/settings");
    const form = page.getByRole("form", { name: "Retention" });
    const summary = form.getByTestId("retention-preview-summary");
    const before = (await (await request.get("/api/settings")).json()) as { settings: { retention: Record<string, number> } };
    const saved = (await (await request.get("/api/retention/preview?limit=1")).json()) as Preview;
    await expect(summary).toContainText(`Keeps ${n(saved.keptCount)}, prunes ${n(saved.prunedCount)}`);

    // 3 days instead of the saved 30: many more would go, the newest kept.
    await form.getByLabel("Keep for (days)").fill("3");
    const shorter = (await (await request.get("/api/retention/preview?days=3&limit=1")).json()) as Preview;
    expect(shorter.prunedCount).toBeGreaterThan(saved.prunedCount);
    await expect(summary).toContainText(`Keeps ${n(shorter.keptCount)}, prunes ${n(shorter.prunedCount)}`);
    await expect(summary).toContainText("frees");
    await expect(form.getByTestId("retention-unsaved")).toBeVisible();

    // A monthly rule brings back the newest of the months before, with its reason shown.
    await form.getByLabel("Monthly (months)").fill("3");
    const monthly = (await (await request.get("/api/retention/preview?days=3&keepMonthly=3&limit=200")).json()) as Preview;
    expect(monthly.keptCount).toBeGreaterThan(shorter.keptCount);
    await expect(summary).toContainText(`Keeps ${n(monthly.keptCount)}`);
    const lastMonth = monthly.keep.flatMap((k) => k.reasons).find((r) => r.startsWith("monthly ") && !monthly.keep[0].reasons.includes(r));
    expect(lastMonth).toBeDefined();
    await form.locator("summary", { hasText: /^Kept/ }).click();
    await expect(form.getByRole("table", { name: "Backups the policy keeps" })).toContainText(lastMonth!);
    await expect(form.getByRole("table", { name: "Backups the policy would prune" }).locator("tbody tr").first()).toContainText("1 MiB");
    await screenshot(page, "retention-preview");

    // Nothing was saved by previewing.
    const after = (await (await request.get("/api/settings")).json()) as { settings: { retention: Record<string, number> } };
    expect(after.settings.retention).toEqual(before.settings.retention);

    // A bad value: the field says why, the preview says what to do, nothing is lost.
    await form.getByLabel("Daily (days)").fill("-1");
    await expect(form.getByTestId("retention-preview")).toContainText("Fix the values above");
    await expect(page.locator("#retention-keep-daily-hint")).toContainText(/too small|>=\s*0/i);
    await form.getByLabel("Daily (days)").fill("0");
    await expect(summary).toContainText(`Keeps ${n(monthly.keptCount)}`);
    await expect(form.getByLabel("Monthly (months)")).toHaveValue("3");
  });
});
