// Each chat service's own request for one notification, built without I/O:
// Slack incoming webhook (text + Block Kit blocks), Discord webhook (content + one embed,
// within Discord's length limits), Microsoft Teams through a Workflows ("Post to a channel
// when a webhook request is received") URL with an Adaptive Card attachment (the retired
// Office 365 connectors' MessageCard is not sent), ntfy (plain-text body to the topic URL,
// Title/Priority/Tags headers), and the generic signed JSON webhook (messages.ts payload).
import type { NotificationMessage, Severity } from "./messages";

export interface HttpRequestSpec {
  headers: Record<string, string>;
  body: string;
}

/** Cuts `s` to at most `max` characters (code points), marking the cut with "…". */
export function clip(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

const len = (s: string) => Array.from(s).length;

/** Cuts `s` to at most `maxBytes` of UTF-8, on a character boundary, marking the cut with "…". */
export function clipBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  const chars = Array.from(s);
  let bytes = 3; // the "…"
  let n = 0;
  while (n < chars.length && bytes + Buffer.byteLength(chars[n], "utf8") <= maxBytes) bytes += Buffer.byteLength(chars[n++], "utf8");
  return `${chars.slice(0, n).join("")}…`;
}

// ---- Slack ----
// Limits: header text 150, section text 3000, section fields 10 × 2000, context 10 elements.
export const SLACK_LIMITS = { header: 150, section: 3000, fields: 10, field: 2000 } as const;

const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function slackPayload(msg: NotificationMessage) {
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: clip(msg.title, SLACK_LIMITS.header), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: clip(msg.text, SLACK_LIMITS.section) } },
  ];
  if (msg.facts.length > 0) {
    blocks.push({
      type: "section",
      fields: msg.facts.slice(0, SLACK_LIMITS.fields).map((f) => ({ type: "mrkdwn", text: clip(`*${slackEscape(f.name)}*\n${slackEscape(f.value)}`, SLACK_LIMITS.field) })),
    });
  }
  if (msg.detail) blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(`\`\`\`${slackEscape(msg.detail)}\`\`\``, SLACK_LIMITS.section) } });
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `Vaultline · ${msg.event} · ${msg.occurredAt}` }] });
  // `text` is the notification and fallback text; Slack shows the blocks in the channel.
  return { text: msg.text, blocks };
}

// ---- Discord ----
export const DISCORD_LIMITS = { content: 2000, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000 } as const;

const DISCORD_COLOR: Record<Severity, number> = { failure: 0xd92d20, warning: 0xf79009, success: 0x12b76a, info: 0x2e90fa };

export function discordPayload(msg: NotificationMessage) {
  const title = clip(msg.title, DISCORD_LIMITS.title);
  const footer = "Vaultline";
  let budget = DISCORD_LIMITS.total - len(title) - len(footer);
  const fields: { name: string; value: string; inline: boolean }[] = [];
  for (const f of msg.facts.slice(0, DISCORD_LIMITS.fields)) {
    const name = clip(f.name, DISCORD_LIMITS.fieldName);
    const value = clip(f.value || "-", DISCORD_LIMITS.fieldValue);
    if (len(name) + len(value) > budget) break;
    budget -= len(name) + len(value);
    fields.push({ name, value, inline: true });
  }
  const description = clip([msg.plain, msg.detail].filter(Boolean).join("\n\n"), Math.min(DISCORD_LIMITS.description, Math.max(1, budget)));
  return {
    content: clip(msg.plain, DISCORD_LIMITS.content),
    // A failure reason or commit message may contain "@everyone"; nobody is pinged by it.
    allowed_mentions: { parse: [] as string[] },
    embeds: [{ title, description, color: DISCORD_COLOR[msg.severity], fields, footer: { text: footer }, timestamp: msg.occurredAt }],
  };
}

// ---- Microsoft Teams (Workflows) ----
// A Teams message is refused above about 28 KB; a long failure reason is cut well below it.
export const TEAMS_LIMITS = { text: 2000, detail: 8000 } as const;

const TEAMS_COLOR: Record<Severity, string> = { failure: "Attention", warning: "Warning", success: "Good", info: "Accent" };

export function teamsPayload(msg: NotificationMessage) {
  const body: unknown[] = [
    { type: "TextBlock", text: msg.title, weight: "Bolder", size: "Medium", color: TEAMS_COLOR[msg.severity], wrap: true },
    { type: "TextBlock", text: clip(msg.plain, TEAMS_LIMITS.text), wrap: true },
  ];
  if (msg.facts.length > 0) body.push({ type: "FactSet", facts: msg.facts.map((f) => ({ title: f.name, value: f.value })) });
  if (msg.detail) body.push({ type: "TextBlock", text: clip(msg.detail, TEAMS_LIMITS.detail), wrap: true, fontType: "Monospace", size: "Small" });
  body.push({ type: "TextBlock", text: `Vaultline · ${msg.occurredAt}`, isSubtle: true, size: "Small", wrap: true });
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: { $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4", body, msteams: { width: "Full" } },
      },
    ],
  };
}

// ---- ntfy ----
const NTFY_PRIORITY: Record<Severity, string> = { failure: "5", warning: "4", success: "2", info: "3" };
const NTFY_TAGS: Record<Severity, string> = { failure: "rotating_light,vaultline", warning: "warning,vaultline", success: "white_check_mark,vaultline", info: "information_source,vaultline" };

/** Header values are Latin-1 on the wire; anything else goes RFC 2047-encoded, which ntfy decodes. */
export function headerValue(s: string): string {
  const flat = s.replace(/[\r\n]+/g, " ");
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, "utf8").toString("base64")}?=`;
}

export function ntfyRequest(msg: NotificationMessage, token?: string | null): HttpRequestSpec {
  const headers: Record<string, string> = {
    "Content-Type": "text/plain; charset=utf-8",
    Title: headerValue(clip(msg.title, 250)),
    Priority: NTFY_PRIORITY[msg.severity],
    Tags: NTFY_TAGS[msg.severity],
  };
  if (token) headers.Authorization = `Bearer ${token}`;
  const lines = [msg.plain, ...msg.facts.map((f) => `${f.name}: ${f.value}`), ...(msg.detail ? ["", msg.detail] : [])];
  // ntfy turns a message over 4096 bytes into an attachment; an alert should stay readable.
  return { headers, body: clipBytes(lines.join("\n"), 4000) };
}
