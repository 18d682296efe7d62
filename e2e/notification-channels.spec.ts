// Settings → Notification channels in Chromium: an ADMIN adds a Slack channel pointing at
// a local receiver, sends a test and sees the receiver's answer; a channel whose receiver
// refuses shows its failure (and still does after a reload); a VIEWER sees the channels,
// their health and a masked destination, and no way to change them.
import { test, expect } from "@playwright/test";
import { E2E } from "./env";
import { screenshot } from "./helpers";
import { startHookReceiver, type HookReceiver } from "../tests/support/receivers";

let ok: HookReceiver;
let gone: HookReceiver;

test.describe.serial("notification channels", () => {
  test.beforeAll(async () => {
    ok = await startHookReceiver(undefined, { path: "/services/T0E2E/B0E2E/slack-secret-path" });
    gone = await startHookReceiver(undefined, { path: "/api/webhooks/42/discord-secret-token", status: 404, errorBody: "Unknown Webhook" });
  });

  test.afterAll(async ({ request }) => {
    const { channels } = (await (await request.get("/api/notification-channels")).json()) as { channels: { id: string }[] };
    for (const c of channels) await request.delete(`/api/notification-channels/${c.id}`, { headers: E2E.sameOrigin });
    await ok.close();
    await gone.close();
  });

  test("an ADMIN adds a Slack channel, sends a test to a local receiver and sees it delivered", async ({ page }) => {
    await page.goto("/settings");
    const panel = page.getByRole("region", { name: "Notification channels" });
    await expect(panel.getByText("No notification channels")).toBeVisible();
    await panel.getByRole("button", { name: "Add channel" }).click();
    const form = page.getByRole("form", { name: "Add a channel" });
    // A bad URL is caught at the field, nothing is sent.
    await form.getByLabel("Name").fill("Ops Slack");
    await form.getByLabel("Webhook URL").fill("hooks.slack.com/no-scheme");
    await form.getByRole("button", { name: "Add channel" }).click();
    await expect(form.locator("#channel-new-url-hint")).toContainText("must be an http(s) URL");
    await form.getByLabel("Webhook URL").fill(ok.url);
    await form.getByLabel("Backup succeeded").check();
    await form.getByRole("button", { name: "Add channel" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Channel “Ops Slack” added" })).toBeVisible();

    const card = page.getByTestId("notification-channel").filter({ hasText: "Ops Slack" });
    await expect(card).toContainText("Slack");
    await expect(card).toContainText("Backup failed");
    await expect(card).toContainText("Backup succeeded");
    await expect(card).toContainText("Nothing sent yet");
    // The URL's path is its credential: shown masked.
    await expect(card).toContainText(`${new URL(ok.url).origin}/…`);
    await expect(card).not.toContainText("slack-secret-path");

    await card.getByRole("button", { name: "Send test" }).click();
    await expect(card.getByTestId("channel-test-result")).toHaveText("Test delivered: the receiver answered HTTP 200.");
    await expect(card.getByTestId("channel-health")).toContainText("Last delivered");
    expect(ok.hooks).toHaveLength(1);
    const body = JSON.parse(ok.hooks[0].body) as { text: string; blocks: { type: string }[] };
    expect(body.text).toContain('test notification for channel "Ops Slack"');
    expect(body.blocks[0]).toMatchObject({ type: "header", text: { type: "plain_text", text: "Test notification (Ops Slack)" } });

    // A second test at once is refused, and says why.
    await card.getByRole("button", { name: "Send test" }).click();
    await expect(card.getByTestId("channel-test-result")).toContainText("One test per 5 seconds per channel");
    expect(ok.hooks).toHaveLength(1);
    await screenshot(page, "notification-channels");
  });

  test("a channel whose receiver refuses shows its failure, with the error, after a reload too", async ({ page }) => {
    await page.goto("/settings");
    const panel = page.getByRole("region", { name: "Notification channels" });
    await panel.getByRole("button", { name: "Add channel" }).click();
    const form = page.getByRole("form", { name: "Add a channel" });
    await form.getByLabel("Type").selectOption("DISCORD");
    await form.getByLabel("Name").fill("Old Discord");
    await form.getByLabel("Webhook URL").fill(gone.url);
    await form.getByRole("button", { name: "Add channel" }).click();
    const card = page.getByTestId("notification-channel").filter({ hasText: "Old Discord" });
    await card.getByRole("button", { name: "Send test" }).click();
    await expect(card.getByTestId("channel-test-result")).toHaveText("Test failed: HTTP 404: Unknown Webhook");
    await expect(card.getByTestId("channel-failing")).toContainText("Failing: 1 failed delivery in a row");
    await expect(card.getByTestId("channel-failing")).toContainText("HTTP 404: Unknown Webhook");
    await expect(card.getByTestId("channel-failing")).toContainText("Last success: never");
    await expect(panel.getByText("1 failing")).toBeVisible();
    expect(gone.hooks).toHaveLength(1);
    expect(JSON.parse(gone.hooks[0].body)).toMatchObject({ allowed_mentions: { parse: [] }, embeds: [{ title: "Test notification (Old Discord)" }] });

    await page.reload();
    const after = page.getByTestId("notification-channel").filter({ hasText: "Old Discord" });
    await expect(after.getByTestId("channel-failing")).toContainText("HTTP 404: Unknown Webhook");
    await screenshot(page, "notification-channel-failing");
  });

  test("a VIEWER sees the channels and their health, masked, and cannot change or test them", async ({ browser }) => {
    const ctx = await browser.newContext({ storageState: E2E.viewerState });
    const viewer = await ctx.newPage();
    await viewer.goto("/settings");
    const panel = viewer.getByRole("region", { name: "Notification channels" });
    // A fresh context compiles and loads the page cold: give the first look time on a busy machine.
    await expect(panel.getByRole("listitem")).toHaveCount(2, { timeout: 45_000 });
    await expect(panel.getByRole("listitem", { name: "Old Discord" }).getByTestId("channel-failing")).toContainText("HTTP 404: Unknown Webhook");
    await expect(panel.getByRole("listitem", { name: "Ops Slack" }).getByTestId("channel-health")).toContainText("Last delivered");
    await expect(panel.getByRole("button", { name: "Send test" })).toHaveCount(0);
    await expect(panel.getByRole("button", { name: "Add channel" })).toHaveCount(0);
    const api = await (await viewer.request.get("/api/notification-channels")).text();
    expect(api).not.toContain("slack-secret-path");
    expect(api).not.toContain("discord-secret-token");
    const refused = await viewer.request.post(`/api/notification-channels/${(JSON.parse(api) as { channels: { id: string }[] }).channels[0].id}/test`, { headers: E2E.sameOrigin, data: {} });
    expect(refused.status()).toBe(403);
    await ctx.close();
  });
});
