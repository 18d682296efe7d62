// Settings live one row per section in `Setting` (key = section name). A missing row
// means "defaults"; each real change bumps that row's version. The caller audits the
// returned before/after, so this module never writes audit events itself.
import type { Db } from "./db";
import type { Prisma } from "./generated/prisma/client";
import {
  DEFAULT_SETTINGS,
  SETTINGS_SECTIONS,
  cronNextRuns,
  compressionSchema,
  notificationsSchema,
  retentionSchema,
  scheduleSchema,
  settingsUpdateSchema,
  type ScheduleSettings,
  type Settings,
  type SettingsSection,
  type SettingsUpdate,
} from "./validation/settings";
import { drillSettingsSchema } from "./validation/drill-settings";

export interface SettingsActor {
  type: "user" | "token" | "system";
  id?: string | null;
  label?: string | null;
}

export interface SectionMeta {
  version: number;
  updatedAt: Date;
  updatedBy: string | null;
}

export interface SectionChange<S extends SettingsSection = SettingsSection> {
  /**
   * What was in force before: the stored section, or the defaults when none was
   * stored; the raw stored JSON when that no longer passed the schema.
   */
  before: unknown;
  after: Settings[S];
  version: number;
}

export interface UpdateSettingsResult {
  settings: Settings;
  /** Only sections whose value actually changed; an identical PUT changes nothing. */
  changed: Partial<{ [S in SettingsSection]: SectionChange<S> }>;
}

/** A stored section no longer passes the schema (edited by hand, or an old format). */
export class InvalidStoredSettingError extends Error {
  constructor(
    public readonly section: SettingsSection,
    public readonly issues: string[],
  ) {
    super(
      `stored setting "${section}" is invalid (${issues.join("; ")}); ` +
        `save a complete "${section}" section to repair it`,
    );
    this.name = "InvalidStoredSettingError";
  }
}

const SECTION_SCHEMAS = {
  schedule: scheduleSchema,
  retention: retentionSchema,
  notifications: notificationsSchema,
  compression: compressionSchema,
  drill: drillSettingsSchema,
} as const;

type SettingReader = Pick<Db, "setting">;

function readSection<S extends SettingsSection>(section: S, stored: unknown): Settings[S] {
  const defaults = structuredClone(DEFAULT_SETTINGS[section]);
  if (stored === undefined) return defaults;
  // Merged over the defaults so a field added in a later release reads as its default
  // instead of invalidating rows written before it existed.
  const merged =
    stored && typeof stored === "object" && !Array.isArray(stored) ? { ...defaults, ...stored } : stored;
  const r = SECTION_SCHEMAS[section].safeParse(merged);
  if (!r.success) {
    throw new InvalidStoredSettingError(
      section,
      r.error.issues.map((i) => `${i.path.join(".") || "(value)"}: ${i.message}`),
    );
  }
  return r.data as Settings[S];
}

/** Settings with per-section version metadata (null for a section never saved). */
export async function loadSettings(
  db: SettingReader,
): Promise<{ settings: Settings; meta: Record<SettingsSection, SectionMeta | null> }> {
  const rows = await db.setting.findMany({ where: { key: { in: [...SETTINGS_SECTIONS] } } });
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const settings = {} as Record<SettingsSection, unknown>;
  const meta = {} as Record<SettingsSection, SectionMeta | null>;
  for (const section of SETTINGS_SECTIONS) {
    const row = byKey.get(section);
    settings[section] = readSection(section, row?.value);
    meta[section] = row ? { version: row.version, updatedAt: row.updatedAt, updatedBy: row.updatedBy } : null;
  }
  return { settings: settings as Settings, meta };
}

/** The settings in force; defaults for any section never saved. */
export async function getSettings(db: SettingReader): Promise<Settings> {
  return (await loadSettings(db)).settings;
}

function actorLabel(actor: SettingsActor): string {
  if (actor.label) return actor.label;
  return actor.id ? `${actor.type}:${actor.id}` : actor.type;
}

// Key order differs between stored JSONB and parsed objects; compare canonically.
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * Replaces each section present in `update`, all in one transaction. Serialised by an
 * advisory lock so two concurrent saves cannot both report the same `before`.
 * Throws ZodError when `update` is invalid.
 */
export async function updateSettings(
  db: Db,
  update: SettingsUpdate,
  actor: SettingsActor,
): Promise<UpdateSettingsResult> {
  const parsed = settingsUpdateSchema.parse(update);
  const updatedBy = actorLabel(actor);
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vaultline:settings'))`;
    const rows = await tx.setting.findMany({ where: { key: { in: [...SETTINGS_SECTIONS] } } });
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const settings = {} as Record<SettingsSection, unknown>;
    const changed: Record<string, SectionChange> = {};
    for (const section of SETTINGS_SECTIONS) {
      const row = byKey.get(section);
      const next = parsed[section];
      if (next === undefined) {
        settings[section] = readSection(section, row?.value);
        continue;
      }
      settings[section] = next;
      let before: unknown;
      try {
        before = readSection(section, row?.value);
      } catch (e) {
        // A broken stored section must still be replaceable; audit what was there.
        if (!(e instanceof InvalidStoredSettingError)) throw e;
        before = row?.value;
      }
      if (canonical(before) === canonical(next)) continue;
      const value = next as unknown as Prisma.InputJsonValue;
      const saved = await tx.setting.upsert({
        where: { key: section },
        create: { key: section, value, version: 1, updatedBy },
        update: { value, version: { increment: 1 }, updatedBy },
      });
      changed[section] = { before, after: next, version: saved.version };
    }
    return { settings: settings as Settings, changed: changed as UpdateSettingsResult["changed"] };
  });
}

/** The next `n` scheduled run times after `from`, in the schedule's time zone. */
export function nextRuns(
  schedule: Pick<ScheduleSettings, "cron" | "timezone">,
  from: Date,
  n: number,
): Date[] {
  return cronNextRuns(schedule, from, n);
}
