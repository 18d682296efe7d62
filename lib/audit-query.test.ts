import { describe, expect, it } from "vitest";
import { listAuditSchema, maskUrl, maskWebhookUrls } from "./audit-query";

describe("maskWebhookUrls", () => {
  it("masks webhookUrl strings at any depth and leaves everything else", () => {
    const details = {
      changed: {
        notifications: {
          before: { webhookUrl: "https://hooks.slack.com/services/T00/B00/secret", emails: ["a@b.c"] },
          after: { webhookUrl: null, emails: [] },
        },
      },
      list: [{ webhookUrl: "http://10.0.0.1:8080/hook?token=abc" }],
      note: "https://example.com/not-a-webhook-key",
    };
    expect(maskWebhookUrls(details)).toEqual({
      changed: {
        notifications: {
          before: { webhookUrl: "https://hooks.slack.com/…", emails: ["a@b.c"] },
          after: { webhookUrl: null, emails: [] },
        },
      },
      list: [{ webhookUrl: "http://10.0.0.1:8080/…" }],
      note: "https://example.com/not-a-webhook-key",
    });
    expect(JSON.stringify(maskWebhookUrls(details))).not.toContain("secret");
    expect(JSON.stringify(maskWebhookUrls(details))).not.toContain("token=abc");
  });

  it("masks a string that is not a URL entirely", () => {
    expect(maskUrl("not a url /secret")).toBe("…");
  });

  it("leaves primitives and null alone", () => {
    expect(maskWebhookUrls(null)).toBeNull();
    expect(maskWebhookUrls(3)).toBe(3);
  });
});

describe("listAuditSchema", () => {
  it("defaults and coerces", () => {
    expect(listAuditSchema.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(listAuditSchema.parse({ limit: "10", offset: "20", action: "backup.*", actorType: "user" })).toEqual({
      limit: 10,
      offset: 20,
      action: "backup.*",
      actorType: "user",
    });
  });
  it("refuses an unknown actor type and odd action text", () => {
    expect(listAuditSchema.safeParse({ actorType: "robot" }).success).toBe(false);
    expect(listAuditSchema.safeParse({ action: "a'; drop" }).success).toBe(false);
    expect(listAuditSchema.safeParse({ limit: "500" }).success).toBe(false);
  });
});
