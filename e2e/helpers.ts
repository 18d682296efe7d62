// Shared e2e helpers: sign in through the real form, and direct database access to seed
// rows the UI must show (the embedded server's password is in the e2e DATA_DIR).
import { expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { sql as sqlAt } from "../tests/support/sql";
import { E2E } from "./env";

export async function signIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("current-user")).toBeVisible();
}

export function dbUrl(): string {
  const secrets = JSON.parse(readFileSync(path.join(E2E.dataDir, "secrets.json"), "utf8"));
  return `postgresql://vaultline:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${E2E.pgPort}/vaultline`;
}

export function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  return sqlAt<T>(dbUrl(), text, params);
}

/**
 * A full-page picture of the page as the test left it. Bounded and tried once more: in a CI
 * run (2026-12-06, Debian's Chromium 150) one capture hung after "fonts loaded" until the
 * test's own timeout, on a page that had rendered; the same test passed alone and in its
 * file. A second failure still fails the test.
 */
export async function screenshot(page: Page, name: string) {
  const path = `test-results/screenshots/${name}.png`;
  try {
    await page.screenshot({ path, fullPage: true, timeout: 15_000 });
  } catch (e) {
    if (!(e instanceof Error) || !/Timeout/i.test(e.message)) throw e;
    await page.screenshot({ path, fullPage: true, timeout: 15_000, animations: "disabled" });
  }
}

/** A FULL backup through the API (POST /api/backups), waited for until it SUCCEEDED; its id. */
export async function takeBackup(page: Page, data: Record<string, unknown> = {}): Promise<string> {
  const created = await page.request.post("/api/backups", { headers: E2E.sameOrigin, data: { kind: "FULL", ...data } });
  expect(created.status(), await created.text()).toBe(202);
  const { id } = (await created.json()) as { id: string };
  await expect
    .poll(async () => ((await (await page.request.get(`/api/backups/${id}/status`)).json()) as { status: string }).status, { timeout: 90_000 })
    .toBe("SUCCEEDED");
  return id;
}
