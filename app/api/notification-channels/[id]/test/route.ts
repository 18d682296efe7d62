// POST /api/notification-channels/:id/test — send a test message to this channel now; answers the receiver's status
import { db } from "@/lib/db";
import { config } from "@/lib/config";
import { json, parseId, withAuth } from "@/lib/http";
import { testChannel } from "@/lib/notify/channels";

export const POST = withAuth<{ id: string }>("settings.write", async (_req, { params, actor }) => {
  const cfg = config();
  return json(await testChannel(db(), parseId(params.id), { WEBHOOK_SECRET: cfg.WEBHOOK_SECRET, SMTP_URL: cfg.SMTP_URL, SMTP_FROM: cfg.SMTP_FROM }, actor));
});
