// GET /api/backups — the backup history, newest first, filtered and paginated
// POST /api/backups — queue a backup
import { db } from "@/lib/db";
import { json, parseBody, parseQuery, userIdOf, withAuth } from "@/lib/http";
import { createBackupSchema, listBackupsSchema } from "@/lib/validation/backups";
import { appContext, createBackupJob, listBackups } from "@/lib/backup";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async (req) => json(await listBackups(db(), parseQuery(req, listBackupsSchema))));

export const POST = withAuth("backups.create", async (req, { principal, actor }) => {
  const input = await parseBody(req, createBackupSchema);
  const job = await createBackupJob(
    appContext(),
    { ...input, trigger: input.trigger ?? (principal.kind === "token" ? "API" : "MANUAL"), initiatedById: userIdOf(principal) },
    actor,
  );
  return json({ id: job.id, status: job.status }, 202);
});
