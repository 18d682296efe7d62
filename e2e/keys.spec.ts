// Settings → Encryption keys in embedded mode (issue 16): rotation shows the new passphrase
// once — the one now in $DATA_DIR/secrets.json — the old key stays listed until retired.
import { test, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { E2E } from "./env";
import { screenshot } from "./helpers";

const secrets = () =>
  JSON.parse(readFileSync(path.join(E2E.dataDir, "secrets.json"), "utf8")) as {
    encryptionPassphrase: string;
    encryptionKeyId: string;
    oldEncryptionKeys?: { id: string; passphrase: string }[];
  };

test("an ADMIN rotates the key (shown once), then retires the old key no backup needs", async ({ page }) => {
  const before = secrets();
  await page.goto("/settings");
  const panel = page.getByTestId("keys-panel");
  await expect(panel.getByRole("heading", { name: "Encryption keys" })).toBeVisible();
  await expect(panel.getByTestId(`key-${before.encryptionKeyId}`)).toContainText("current");

  await panel.getByRole("button", { name: "Rotate the key…" }).click();
  const dialog = page.getByTestId("rotate-dialog");
  const rotate = dialog.getByRole("button", { name: "Rotate", exact: true });
  await expect(rotate).toBeDisabled();
  await dialog.getByRole("textbox").fill("ROTATE");
  await rotate.click();

  const shown = page.getByTestId("new-key-passphrase");
  await expect(shown).toContainText("somewhere safe");
  const passphrase = (await page.getByTestId("key-passphrase").textContent())!.trim();
  const after = secrets();
  expect(after.encryptionPassphrase).toBe(passphrase);
  expect(after.oldEncryptionKeys?.map((k) => k.id)).toEqual([before.encryptionKeyId]);
  expect(after.oldEncryptionKeys?.[0].passphrase).toBe(before.encryptionPassphrase);
  await screenshot(page, "keys-rotated");
  await shown.getByRole("button", { name: "I have copied it somewhere safe" }).click();
  await expect(shown).toBeHidden();

  // Both keys listed; the old one still decrypts what it made.
  await expect(panel.getByTestId(`key-${after.encryptionKeyId}`)).toContainText("current");
  const old = panel.getByTestId(`key-${before.encryptionKeyId}`);
  await expect(old).toBeVisible();
  // The new passphrase is not shown again after a reload.
  await page.reload();
  await expect(page.getByTestId("keys-panel")).not.toContainText(passphrase);

  const backupsOnOld = await old.locator("td").nth(2).textContent();
  if (backupsOnOld?.trim() === "none") {
    await old.getByRole("button", { name: "Retire" }).click();
    const retire = page.getByTestId("retire-dialog");
    await retire.getByRole("textbox").fill("RETIRE");
    await retire.getByRole("button", { name: "Retire", exact: true }).click();
    await expect(page.getByRole("status").filter({ hasText: `Key ${before.encryptionKeyId} retired` })).toBeVisible();
    await expect(panel.getByTestId(`key-${before.encryptionKeyId}`)).toBeHidden();
    expect(secrets().oldEncryptionKeys).toEqual([]);
  } else {
    // Backups made by earlier specs still need it: the page says so and offers the move.
    await expect(old.getByRole("button", { name: "Retire" })).toHaveCount(0);
    await expect(page.getByTestId("reencrypt-all")).toBeEnabled();
  }
});
