// Settings against a real migrated database: defaults, per-section replacement,
// versions, before/after for the audit, and the shared zod schemas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { createMigratedDatabase, dropDatabase, sql } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { InvalidStoredSettingError, getSettings, loadSettings, nextRuns, updateSettings } from "../lib/settings";
import { SCHEDULE_STATE_KEY, scheduleStateSince } from "../lib/backup/schedule";
import { CHECKS_STATE_KEY, storeCheckRun } from "../lib/deploy/checks-store";
import {
  DEFAULT_SETTINGS,
  cronProblem,
  scheduleSchema,
  settingsUpdateSchema,
  type Settings,
} from "../lib/validation/settings";

/** GFS retention (issue 17) switched off: what a section saved before it existed means. */
const GFS_OFF = { keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 };
const alice = { type: "user" as const, id: "u_alice", label: "alice@example.test" };

let url: string;
let db: Db;

async function rows() {
  return sql<{ key: string; value: unknown; version: number; updatedBy: string | null }>(
    url,
    `SELECT key, value, version, "updatedBy" FROM "Setting" ORDER BY key`,
  );
}

beforeAll(async () => {
  url = await createMigratedDatabase("settings");
  db = createDb(url);
});

afterAll(async () => {
  await db.$disconnect();
  await dropDatabase(url);
});

describe("settings persistence", () => {
  it("returns the defaults when nothing is stored, schedule enabled", async () => {
    expect(await rows()).toEqual([]);
    const s = await getSettings(db);
    expect(s).toEqual(DEFAULT_SETTINGS);
    expect(s.schedule).toEqual({ enabled: true, cron: "0 2 * * *", timezone: "UTC", kind: "FULL" });
    expect(s.retention).toEqual({ days: 30, keepLast: 10, keepQuick: 10, ...GFS_OFF });
    expect(s.notifications.missedBackupAfterHours).toBe(26);
    const { meta } = await loadSettings(db);
    expect(meta).toEqual({ schedule: null, retention: null, notifications: null, compression: null, drill: null });
    expect(s.compression).toEqual({ codec: "zstd", level: 1 });
    // Restore drills are off until an operator schedules them.
    expect(s.drill).toEqual({ enabled: false, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 });
    // Callers may mutate what they get without changing the defaults.
    s.retention.days = 1;
    expect(DEFAULT_SETTINGS.retention.days).toBe(30);
  });

  it("replaces only the section sent, at version 1, and returns before/after", async () => {
    const retention = { days: 14, keepLast: 5, keepQuick: 3, ...GFS_OFF };
    const r = await updateSettings(db, { retention }, alice);
    expect(r.changed).toEqual({ retention: { before: DEFAULT_SETTINGS.retention, after: retention, version: 1 } });
    expect(r.settings).toEqual({ ...DEFAULT_SETTINGS, retention });
    expect(await rows()).toEqual([{ key: "retention", value: retention, version: 1, updatedBy: "alice@example.test" }]);
    expect(await getSettings(db)).toEqual({ ...DEFAULT_SETTINGS, retention });
  });

  it("increments the version on each change and reports the previous value as before", async () => {
    const retention = { days: 7, keepLast: 5, keepQuick: 3, ...GFS_OFF };
    const r = await updateSettings(db, { retention }, { type: "token", id: "tok_1" });
    expect(r.changed.retention).toEqual({ before: { days: 14, keepLast: 5, keepQuick: 3, ...GFS_OFF }, after: retention, version: 2 });
    const [row] = await rows();
    expect(row).toMatchObject({ version: 2, updatedBy: "token:tok_1" });
    const { meta } = await loadSettings(db);
    expect(meta.retention).toMatchObject({ version: 2, updatedBy: "token:tok_1" });
    expect(meta.schedule).toBeNull();
  });

  it("leaves other stored sections alone when one section changes", async () => {
    const schedule = { enabled: false, cron: "30 3 * * 1-5", timezone: "Europe/Berlin", kind: "QUICK" as const };
    const r = await updateSettings(db, { schedule }, alice);
    expect(Object.keys(r.changed)).toEqual(["schedule"]);
    expect(r.changed.schedule?.before).toEqual(DEFAULT_SETTINGS.schedule);
    const s = await getSettings(db);
    expect(s.schedule).toEqual(schedule);
    expect(s.retention).toEqual({ days: 7, keepLast: 5, keepQuick: 3, ...GFS_OFF });
    expect(s.notifications).toEqual(DEFAULT_SETTINGS.notifications);
  });

  it("updates several sections in one call", async () => {
    const notifications = { missedBackupAfterHours: 48 };
    const retention = { days: 30, keepLast: 10, keepQuick: 10, ...GFS_OFF };
    const r = await updateSettings(db, { notifications, retention }, alice);
    expect(Object.keys(r.changed).sort()).toEqual(["notifications", "retention"]);
    expect(r.changed.notifications).toMatchObject({ before: DEFAULT_SETTINGS.notifications, after: notifications, version: 1 });
    expect(r.changed.retention?.version).toBe(3);
    expect((await getSettings(db)).notifications).toEqual(notifications);
  });

  it("treats an identical save as no change: no version bump, nothing to audit", async () => {
    const before = await rows();
    const current = await getSettings(db);
    const r = await updateSettings(db, { schedule: current.schedule, retention: current.retention }, alice);
    expect(r.changed).toEqual({});
    expect(r.settings).toEqual(current);
    expect(await rows()).toEqual(before);
  });

  it("rejects an invalid update without writing anything", async () => {
    const before = await rows();
    const bad = { schedule: { enabled: true, cron: "61 2 * * *", timezone: "UTC", kind: "FULL" } } as unknown as Parameters<
      typeof updateSettings
    >[1];
    await expect(updateSettings(db, bad, alice)).rejects.toBeInstanceOf(ZodError);
    expect(await rows()).toEqual(before);
  });

  it("serialises concurrent saves: every change gets its own version and before", async () => {
    const start = (await loadSettings(db)).meta.retention!.version;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => updateSettings(db, { retention: { days: 100 + i, keepLast: 1, keepQuick: 1, ...GFS_OFF } }, alice)),
    );
    const versions = results.map((r) => r.changed.retention!.version).sort((a, b) => a - b);
    expect(versions).toEqual([start + 1, start + 2, start + 3, start + 4, start + 5]);
    // Each save's `before` is exactly the save that preceded it.
    const byVersion = new Map(results.map((r) => [r.changed.retention!.version, r.changed.retention!]));
    for (let v = start + 2; v <= start + 5; v++) {
      expect(byVersion.get(v)!.before).toEqual(byVersion.get(v - 1)!.after);
    }
  });

  it("reads a stored section missing a newer field as that field's default", async () => {
    await sql(url, `UPDATE "Setting" SET value = $1 WHERE key = 'notifications'`, [
      JSON.stringify({}),
    ]);
    expect((await getSettings(db)).notifications.missedBackupAfterHours).toBe(26);
  });

  it("refuses to guess at a corrupt stored section, and lets a save repair it", async () => {
    await sql(url, `UPDATE "Setting" SET value = $1 WHERE key = 'retention'`, [JSON.stringify({ days: "forever" })]);
    await expect(getSettings(db)).rejects.toBeInstanceOf(InvalidStoredSettingError);
    await expect(getSettings(db)).rejects.toThrow(/stored setting "retention" is invalid \(days: /);
    const retention = { days: 30, keepLast: 10, keepQuick: 10, ...GFS_OFF };
    const r = await updateSettings(db, { retention }, alice);
    expect(r.changed.retention?.before).toEqual({ days: "forever" });
    expect((await getSettings(db)).retention).toEqual(retention);
  });
});

describe("settings schemas", () => {
  const valid: Settings = structuredClone(DEFAULT_SETTINGS);
  const issuePaths = (input: unknown) => {
    const r = settingsUpdateSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };

  it("accepts the defaults and complete sections", () => {
    expect(settingsUpdateSchema.safeParse(valid).success).toBe(true);
    expect(settingsUpdateSchema.safeParse({ retention: { days: 0, keepLast: 0, keepQuick: 0, ...GFS_OFF } }).success).toBe(true);
  });

  it.each([
    ["61 2 * * *", /minute|0-59/],
    ["0 24 * * *", /0-23/],
    ["0 2 * *", /5 fields/],
    ["0 0 2 * * *", /5 fields/],
    ["@daily", /5 fields/],
    ["", /5 fields/],
    ["0 2 30 2 *", /day of month/i],
    ["H 2 * * *", /minute/],
    ["0 2 L * *", /day of month/],
    ["0 2 * * MON#2", /day of week/],
    ["not a cron", /5 fields/],
  ])("rejects the cron expression %j", (cron, message) => {
    const r = scheduleSchema.safeParse({ ...valid.schedule, cron });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(["cron"]);
    expect(r.error?.issues[0].message).toMatch(message);
  });

  it.each(["0 2 * * *", "*/15 * * * *", "30 3 * * 1-5", "0 4 1,15 * *", "0 2 * jan-mar sun", " 0 2 * * * "])(
    "accepts the cron expression %j",
    (cron) => {
      expect(cronProblem(cron)).toBeNull();
      expect(scheduleSchema.safeParse({ ...valid.schedule, cron }).success).toBe(true);
    },
  );

  it.each(["Mars/Olympus", "", "+01:00", "Europe/Berlinn"])("rejects the time zone %j", (timezone) => {
    expect(issuePaths({ schedule: { ...valid.schedule, timezone } })).toEqual(["schedule.timezone"]);
  });

  it.each(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])("accepts the time zone %j", (timezone) => {
    expect(issuePaths({ schedule: { ...valid.schedule, timezone } })).toEqual([]);
  });

  it("refuses the fields that became notification channels (a client of an earlier release is told, not ignored)", () => {
    for (const field of ["webhookUrl", "emails", "onSuccess", "onFailure"]) {
      expect(settingsUpdateSchema.safeParse({ notifications: { ...valid.notifications, [field]: null } }).success).toBe(false);
    }
  });

  it("rejects out-of-range retention and thresholds", () => {
    expect(issuePaths({ retention: { days: -1, keepLast: 10, keepQuick: 10, ...GFS_OFF } })).toEqual(["retention.days"]);
    expect(issuePaths({ retention: { days: 1.5, keepLast: 10, keepQuick: 10, ...GFS_OFF } })).toEqual(["retention.days"]);
    expect(issuePaths({ notifications: { ...valid.notifications, missedBackupAfterHours: 0 } })).toEqual([
      "notifications.missedBackupAfterHours",
    ]);
  });

  it("takes a codec with a level in its range: zstd 1–19, gzip 1–9, none without one", () => {
    for (const compression of [{ codec: "zstd", level: 1 }, { codec: "zstd", level: 19 }, { codec: "gzip", level: 9 }, { codec: "none", level: null }]) {
      expect(issuePaths({ compression })).toEqual([]);
    }
    for (const compression of [{ codec: "zstd", level: 0 }, { codec: "zstd", level: 20 }, { codec: "gzip", level: 10 }, { codec: "zstd", level: 2.5 }, { codec: "none", level: 3 }, { codec: "gzip", level: null }]) {
      expect(issuePaths({ compression })).toEqual(["compression.level"]);
    }
    expect(issuePaths({ compression: { codec: "lz4", level: 1 } })).toEqual(["compression.codec"]);
  });

  it("requires at least one section, complete sections and no unknown keys", () => {
    expect(settingsUpdateSchema.safeParse({}).success).toBe(false);
    expect(issuePaths({ retention: { days: 3 } })).toEqual([
      "retention.keepLast",
      "retention.keepQuick",
      "retention.keepDaily",
      "retention.keepWeekly",
      "retention.keepMonthly",
      "retention.keepYearly",
    ]);
    expect(settingsUpdateSchema.safeParse({ retension: valid.retention }).success).toBe(false);
    expect(settingsUpdateSchema.safeParse({ schedule: { ...valid.schedule, extra: 1 } }).success).toBe(false);
    expect(settingsUpdateSchema.safeParse({ schedule: { ...valid.schedule, kind: "PARTIAL" } }).success).toBe(false);
  });
});

describe("nextRuns", () => {
  it("lists run times after `from` in the schedule's time zone", () => {
    const winter = nextRuns({ cron: "0 2 * * *", timezone: "Europe/Berlin" }, new Date("2026-01-10T12:00:00Z"), 2);
    expect(winter.map((d) => d.toISOString())).toEqual(["2026-01-11T01:00:00.000Z", "2026-01-12T01:00:00.000Z"]);
    const summer = nextRuns({ cron: "0 2 * * *", timezone: "Europe/Berlin" }, new Date("2026-07-10T12:00:00Z"), 1);
    expect(summer.map((d) => d.toISOString())).toEqual(["2026-07-11T00:00:00.000Z"]);
    const utc = nextRuns({ cron: "0 2 * * *", timezone: "UTC" }, new Date("2026-07-10T02:00:00Z"), 1);
    // `from` itself is not a next run.
    expect(utc.map((d) => d.toISOString())).toEqual(["2026-07-11T02:00:00.000Z"]);
  });

  it("follows a weekday schedule across a weekend and a DST change", () => {
    const runs = nextRuns({ cron: "30 3 * * 1-5", timezone: "America/New_York" }, new Date("2026-03-06T12:00:00Z"), 3);
    // Fri 6 Mar after the run; Mon 9 Mar is after the switch to EDT (UTC-4).
    expect(runs.map((d) => d.toISOString())).toEqual([
      "2026-03-09T07:30:00.000Z",
      "2026-03-10T07:30:00.000Z",
      "2026-03-11T07:30:00.000Z",
    ]);
  });

  it("returns nothing for n = 0", () => {
    expect(nextRuns(DEFAULT_SETTINGS.schedule, new Date(), 0)).toEqual([]);
  });
});

describe("runtime state is not a setting", () => {
  it("what the workers remember lands in RuntimeState, never in Setting", async () => {
    const own = await createMigratedDatabase("runtime");
    const odb = createDb(own);
    try {
      const since = await scheduleStateSince({ db: odb }, new Date("2026-11-01T00:00:00Z"));
      const run = { status: "pass" as const, startedAt: "2026-11-30T10:00:00.000Z", finishedAt: "2026-11-30T10:00:01.000Z", results: [] };
      await storeCheckRun({ db: odb } as Parameters<typeof storeCheckRun>[0], { run, source: "manual", by: "alice" });
      expect(await sql(own, `SELECT key FROM "Setting"`)).toEqual([]);
      expect((await sql<{ key: string }>(own, `SELECT key FROM "RuntimeState" ORDER BY key`)).map((r) => r.key)).toEqual([CHECKS_STATE_KEY, SCHEDULE_STATE_KEY]);
      expect(since.toISOString()).toBe("2026-11-01T00:00:00.000Z");
      expect((await loadSettings(odb)).meta).toEqual({ schedule: null, retention: null, notifications: null, compression: null, drill: null });
    } finally {
      await odb.$disconnect();
      await dropDatabase(own);
    }
  });
});
