// GET /api/backups — one target's backup history (omitted = `default`), newest first, filtered and paginated
// POST /api/backups — queue a backup of a target (omitted = `default`)
import { db } from "@/lib/db";
import { json, parseBody, parseQuery, userIdOf, withAuth } from "@/lib/http";
import { createBackupSchema, listBackupsSchema } from "@/lib/validation/backups";
import { appContext, createBackupJob, listBackups } from "@/lib/backup";
import { requireTarget } from "@/lib/backup/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async (req) => json(await listBackups(db(), parseQuery(req, listBackupsSchema))));

export const POST = withAuth("backups.create", async (req, { principal, actor }) => {
  const { target, ...input } = await parseBody(req, createBackupSchema);
  const { id: targetId } = await requireTarget(db(), target);
  const job = await createBackupJob(
    appContext(),
    { ...input, targetId, trigger: input.trigger ?? (principal.kind === "token" ? "API" : "MANUAL"), initiatedById: userIdOf(principal) },
    actor,
  );
  return json({ id: job.id, status: job.status }, 202);
});

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
