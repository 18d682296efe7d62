// GET /api/notification-channels — channels with their delivery health (never their secrets) · POST — add one (audited)
import { db } from "@/lib/db";
import { json, parseBody, withAuth } from "@/lib/http";
import { createChannel, listChannels } from "@/lib/notify/channels";
import { createChannelSchema } from "@/lib/validation/notification-channels";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("settings.read", async () => json({ channels: await listChannels(db()) }));

export const POST = withAuth("settings.write", async (req, { actor }) => json(await createChannel(db(), await parseBody(req, createChannelSchema), actor), 201));

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
