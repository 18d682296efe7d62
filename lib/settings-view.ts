// What GET/PUT /api/settings answer: the settings in force, per-section versions and the
// next scheduled runs. A PUT that changed anything writes one audit event with the
// before/after of each changed section. Settings hold no secrets: notification channels'
// (lib/notify/channels.ts) are write-only.
import type { Db } from "./db";
import { audit, type Actor } from "./audit";
import { loadSettings, nextRuns, updateSettings } from "./settings";
import type { Settings, SettingsUpdate } from "./validation/settings";
import { resyncScheduleAfterSave } from "./backup/schedule";
import { resyncDrillScheduleAfterSave } from "./backup/drill-schedule";
import { config } from "./config";

export const NEXT_RUNS_SHOWN = 5;

function upcoming(settings: Settings, now: Date): string[] {
  try {
    return nextRuns(settings.schedule, now, NEXT_RUNS_SHOWN).map((d) => d.toISOString());
  } catch {
    return [];
  }
}

export async function settingsView(db: Db, now = new Date()) {
  const { settings, meta } = await loadSettings(db);
  return { settings, meta, nextRuns: upcoming(settings, now) };
}

/** Saves, audits, and applies a changed schedule to pg-boss's cron at once. */
export async function saveSettings(db: Db, update: SettingsUpdate, actor: Actor, opts: { appDatabaseUrl?: string | null } = {}) {
  const { changed } = await updateSettings(db, update, actor);
  const sections = Object.keys(changed);
  if (sections.length > 0) {
    await audit(db, { actor, action: "settings.updated", target: sections.join(","), details: { changed } });
  }
  // A new schedule takes effect now, not at a worker's next re-sync.
  // (`appDatabaseUrl: null` leaves that to the workers' re-sync, for callers without a queue.)
  if (sections.includes("schedule") && opts.appDatabaseUrl !== null) {
    await resyncScheduleAfterSave({ db, appDatabaseUrl: opts.appDatabaseUrl ?? config().databaseUrl });
  }
  if (sections.includes("drill") && opts.appDatabaseUrl !== null) {
    await resyncDrillScheduleAfterSave({ db, appDatabaseUrl: opts.appDatabaseUrl ?? config().databaseUrl });
  }
  return { ...(await settingsView(db)), changed: sections };
}
