// GET /api/settings — schedule, retention, notifications, versions, next runs · PUT — replace sections (audited)
import { db } from "@/lib/db";
import { can, json, parseBody, withAuth } from "@/lib/http";
import { saveSettings, settingsView } from "@/lib/settings-view";
import { settingsUpdateSchema } from "@/lib/validation/settings";

export const dynamic = "force-dynamic";

export const GET = withAuth("settings.read", async (_req, { principal }) => json(await settingsView(db(), can(principal, "settings.secrets"))));

export const PUT = withAuth("settings.write", async (req, { principal, actor }) =>
  json(await saveSettings(db(), await parseBody(req, settingsUpdateSchema), actor, can(principal, "settings.secrets"))),
);
