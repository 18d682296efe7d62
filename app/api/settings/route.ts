// GET /api/settings — schedule, retention, notifications, versions, next runs · PUT — replace sections (audited)
import { db } from "@/lib/db";
import { json, parseBody, withAuth } from "@/lib/http";
import { saveSettings, settingsView } from "@/lib/settings-view";
import { settingsUpdateSchema } from "@/lib/validation/settings";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("settings.read", async () => json(await settingsView(db())));

export const PUT = withAuth("settings.write", async (req, { actor }) =>
  json(await saveSettings(db(), await parseBody(req, settingsUpdateSchema), actor)),
);

export const { OPTIONS, POST, DELETE, PATCH } = unhandledMethods({ GET, PUT });
