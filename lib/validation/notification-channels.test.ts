import { describe, expect, it } from "vitest";
import { createChannelSchema, updateChannelSchema } from "./notification-channels";

const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (r.success ? [] : r.error!.issues.map((i) => i.path.join(".")));

describe("createChannelSchema", () => {
  it("takes each kind with its own fields, and refuses another kind's", () => {
    expect(createChannelSchema.parse({ kind: "SLACK", name: " ops ", url: "https://hooks.slack.com/services/T/B/X", events: ["BACKUP_FAILED"] })).toEqual({ kind: "SLACK", name: "ops", enabled: true, url: "https://hooks.slack.com/services/T/B/X", events: ["BACKUP_FAILED"] });
    expect(paths(createChannelSchema.safeParse({ kind: "SLACK", name: "x", url: "https://a.test/x", token: "t", events: [] }))).toEqual([""]);
    expect(createChannelSchema.safeParse({ kind: "NTFY", name: "x", url: "https://ntfy.sh/t", token: "tk_1", events: [] }).success).toBe(true);
    expect(createChannelSchema.safeParse({ kind: "WEBHOOK", name: "x", url: "http://127.0.0.1:9/h", signingSecret: "s", events: [] }).success).toBe(true);
  });

  it("refuses control characters in a name or a token (NUL cannot be stored, a newline would split a header)", () => {
    expect(paths(createChannelSchema.safeParse({ kind: "SLACK", name: "a\u0000b", url: "https://a.test/x", events: [] }))).toEqual(["name"]);
    expect(paths(createChannelSchema.safeParse({ kind: "NTFY", name: "n", url: "https://ntfy.sh/t", token: "tk\r\nX-Evil: 1", events: [] }))).toEqual(["token"]);
  });

  it("accepts only http(s) URLs", () => {
    for (const url of ["ftp://example.test/x", "javascript:alert(1)", "hooks.slack.com/x", "https://"]) {
      expect(paths(createChannelSchema.safeParse({ kind: "DISCORD", name: "d", url, events: [] }))).toEqual(["url"]);
    }
  });

  it("needs at least one valid, distinct email address, and an smtp(s) URL if any", () => {
    const email = (over: object) => createChannelSchema.safeParse({ kind: "EMAIL", name: "m", recipients: ["ops@example.test"], events: [], ...over });
    expect(paths(email({ recipients: [] }))).toEqual(["recipients"]);
    expect(paths(email({ recipients: ["ops@x.test", "a b@x.test"] }))).toEqual(["recipients.1"]);
    expect(paths(email({ recipients: ["ops@x.test", "OPS@x.test"] }))).toEqual(["recipients"]);
    expect(paths(email({ recipients: ["root@localhost"] }))).toEqual([]);
    expect(paths(email({ smtpUrl: "http://mail.test" }))).toEqual(["smtpUrl"]);
    expect(paths(email({ smtpUrl: "smtps://u:p@mail.test:465" }))).toEqual([]);
  });

  it("refuses unknown and repeated events", () => {
    expect(paths(createChannelSchema.safeParse({ kind: "TEAMS", name: "t", url: "https://x.test/y", events: ["BACKUP_EXPLODED"] }))).toEqual(["events.0"]);
    expect(paths(createChannelSchema.safeParse({ kind: "TEAMS", name: "t", url: "https://x.test/y", events: ["BACKUP_FAILED", "BACKUP_FAILED"] }))).toEqual(["events"]);
  });
});

describe("updateChannelSchema", () => {
  it("takes any subset, null to clear an optional secret, and refuses an empty update", () => {
    expect(updateChannelSchema.parse({ token: null })).toEqual({ token: null });
    expect(updateChannelSchema.safeParse({}).success).toBe(false);
    expect(paths(updateChannelSchema.safeParse({ url: null }))).toEqual(["url"]);
    expect(new Set(paths(updateChannelSchema.safeParse({ kind: "SLACK" })))).toEqual(new Set([""]));
  });
});
