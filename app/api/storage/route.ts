// GET /api/storage — how much the stored backups take, against STORAGE_WARN_BYTES, and
// local storage's disk (decision 159)
import { db } from "@/lib/db";
import { config } from "@/lib/config";
import { json, withAuth } from "@/lib/http";
import { storageUsage } from "@/lib/backup/storage-usage";
import { appContext } from "@/lib/backup/context";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async () => json(await storageUsage(db(), config().STORAGE_WARN_BYTES, appContext().storage)));

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
