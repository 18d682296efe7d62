// GET /api/settings — schedule, retention, notifications, versions, next runs · PUT — replace sections (audited)
import { db } from "@/lib/db";
import { json, parseBody, withAuth, type Principal } from "@/lib/http";
import { saveSettings, settingsView } from "@/lib/settings-view";
import { settingsUpdateSchema } from "@/lib/validation/settings";
import { config } from "@/lib/config";
import { resyncScheduleAfterSave } from "@/lib/backup/schedule";
import type { RoleName } from "@/lib/permissions";

export const dynamic = "force-dynamic";

const roleOf = (p: Principal): RoleName => (p.kind === "user" ? p.user.role : p.token.creator.role);

export const GET = withAuth("settings.read", async (_req, { principal }) => json(await settingsView(db(), roleOf(principal))));

export const PUT = withAuth("settings.write", async (req, { principal, actor }) => {
  const update = await parseBody(req, settingsUpdateSchema);
  const saved = await saveSettings(db(), update, actor, roleOf(principal));
  // The new schedule takes effect now, not at the next restart.
  if (saved.changed.includes("schedule")) await resyncScheduleAfterSave({ db: db(), appDatabaseUrl: config().databaseUrl });
  return json(saved);
});
