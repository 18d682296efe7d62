// POST /api/notification-channels/:id/test — send a test message to this channel now; answers the receiver's status
import { db } from "@/lib/db";
import { config } from "@/lib/config";
import { json, parseId, withAuth } from "@/lib/http";
import { testChannel } from "@/lib/notify/channels";
import { notifyConfigOf } from "@/lib/notify/announce";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("settings.write", async (_req, { params, actor }) =>
  json(await testChannel(db(), parseId(params.id), notifyConfigOf(config()), actor)),
);

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
