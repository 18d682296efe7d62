// PATCH /api/notification-channels/:id — change a channel (omitted secrets kept) · DELETE — remove it (audited)
import { db } from "@/lib/db";
import { json, parseBody, parseId, withAuth } from "@/lib/http";
import { deleteChannel, updateChannel } from "@/lib/notify/channels";
import { updateChannelSchema } from "@/lib/validation/notification-channels";
import { unhandledMethods } from "@/lib/route-methods";

export const PATCH = withAuth<{ id: string }>("settings.write", async (req, { params, actor }) =>
  json(await updateChannel(db(), parseId(params.id), await parseBody(req, updateChannelSchema), actor)),
);

export const DELETE = withAuth<{ id: string }>("settings.write", async (_req, { params, actor }) => {
  await deleteChannel(db(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});

export const { GET, HEAD, OPTIONS, POST, PUT } = unhandledMethods({ DELETE, PATCH });
