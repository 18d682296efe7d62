import { describe, expect, it } from "vitest";
import { DISCORD_LIMITS, SLACK_LIMITS, clip, clipBytes, discordPayload, headerValue, ntfyRequest, slackPayload, teamsPayload } from "./formats";
import { backupEventMessage, type BackupSummary } from "./messages";

const NOW = new Date("2026-11-21T02:00:05Z");
const backup: BackupSummary = { id: "b1", status: "FAILED", kind: "FULL", trigger: "SCHEDULED", sizeBytes: null, durationSeconds: 3, failureReason: "pg_dump: <oops> & done" };
const failed = (reason = backup.failureReason) => backupEventMessage({ type: "backup.failed", backup: { ...backup, failureReason: reason }, attempt: 1, maxAttempts: 3 }, NOW);

describe("clip", () => {
  it("keeps short text and cuts long text to the limit, by code point, marking the cut", () => {
    expect(clip("abc", 3)).toBe("abc");
    expect(clip("abcd", 3)).toBe("ab…");
    expect(clip("😀😀😀😀", 3)).toBe("😀😀…");
  });
});

describe("slack", () => {
  it("escapes markup in fields and code blocks, and stays within Block Kit limits", () => {
    const p = slackPayload(failed(`${"<&>".repeat(2000)}`));
    const section = p.blocks.filter((b) => (b as { type: string }).type === "section") as { text?: { text: string }; fields?: { text: string }[] }[];
    for (const s of section) {
      if (s.text) expect([...s.text.text].length).toBeLessThanOrEqual(SLACK_LIMITS.section);
      for (const f of s.fields ?? []) expect([...f.text].length).toBeLessThanOrEqual(SLACK_LIMITS.field);
    }
    expect(JSON.stringify(p.blocks)).not.toMatch(/<&>/);
    expect(p.text).toContain("&lt;&amp;&gt;");
  });
});

describe("discord", () => {
  it("stays within every limit however long the reason and however many facts", () => {
    const msg = { ...failed("x".repeat(20_000)), title: "t".repeat(400), facts: Array.from({ length: 40 }, (_, i) => ({ name: `n${i}`.repeat(100), value: "v".repeat(2000) })) };
    const p = discordPayload(msg);
    const e = p.embeds[0];
    expect([...p.content].length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    expect([...e.title].length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
    expect(e.fields.length).toBeLessThanOrEqual(DISCORD_LIMITS.fields);
    for (const f of e.fields) {
      expect([...f.name].length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldName);
      expect([...f.value].length).toBeLessThanOrEqual(DISCORD_LIMITS.fieldValue);
    }
    const total = [e.title, e.description, e.footer.text, ...e.fields.flatMap((f) => [f.name, f.value])].join("");
    expect([...total].length).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect(p.allowed_mentions).toEqual({ parse: [] });
  });

  it("colours by severity", () => {
    expect(discordPayload(failed()).embeds[0].color).toBe(0xd92d20);
    const ok = backupEventMessage({ type: "backup.succeeded", backup: { ...backup, status: "SUCCEEDED", failureReason: null } }, NOW);
    expect(discordPayload(ok).embeds[0].color).toBe(0x12b76a);
  });
});

describe("teams", () => {
  it("is a Workflows message with exactly one Adaptive Card, not a MessageCard", () => {
    const p = teamsPayload(failed());
    expect(p.type).toBe("message");
    expect(p.attachments).toHaveLength(1);
    expect(p.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(JSON.stringify(p)).not.toContain("MessageCard");
    expect(p.attachments[0].content.body[0]).toMatchObject({ type: "TextBlock", color: "Attention" });
  });

  it("stays well under Teams' ~28 KB message size for a huge failure reason", () => {
    const p = teamsPayload(failed("e".repeat(100_000)));
    expect(Buffer.byteLength(JSON.stringify(p))).toBeLessThan(24_000);
  });
});

describe("ntfy", () => {
  it("puts metadata in headers, the message in the body, and the token only when there is one", () => {
    const r = ntfyRequest(failed(), "tk_abc");
    expect(r.headers).toEqual({ "Content-Type": "text/plain; charset=utf-8", Title: "Backup FAILED (FULL, scheduled, attempt 1 of 3)", Priority: "5", Tags: "rotating_light,vaultline", Authorization: "Bearer tk_abc" });
    expect(r.body.split("\n")[0]).toBe("Vaultline backup FAILED (FULL, scheduled, attempt 1 of 3): pg_dump: <oops> & done");
    expect(ntfyRequest(failed()).headers.Authorization).toBeUndefined();
  });

  it("keeps the body under ntfy's 4096-byte attachment threshold, multi-byte text included", () => {
    const r = ntfyRequest(failed("é".repeat(5000)));
    expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(4000);
    expect(r.body.endsWith("…")).toBe(true);
    expect(clipBytes("ab", 2)).toBe("ab");
    expect(clipBytes("😀😀", 7)).toBe("😀…");
  });

  it("encodes a non-ASCII header value (RFC 2047) and never lets a newline into a header", () => {
    expect(headerValue("plain title")).toBe("plain title");
    expect(headerValue("a\r\nInjected: yes")).toBe("a Injected: yes");
    const v = headerValue("Sauvegarde échouée");
    expect(v).toBe(`=?UTF-8?B?${Buffer.from("Sauvegarde échouée").toString("base64")}?=`);
  });
});
