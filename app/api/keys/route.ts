// GET /api/keys — the encryption keys: which encrypts, which backups still need which key, re-encryption under way
import { json, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { keysOverview } from "@/lib/backup/keys-admin";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("keys.manage", async () => json(await keysOverview(appContext())));

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
