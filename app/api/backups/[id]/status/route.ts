// GET /api/backups/:id/status — the small, pollable view of a job
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, getBackupRow, toBackupDto } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("backups.read", async (_req, { params }) => {
  const b = toBackupDto(await getBackupRow(appContext().db, parseId(params.id)));
  return json({
    id: b.id,
    status: b.status,
    phase: b.phase,
    progressBytes: b.progressBytes,
    sizeBytes: b.sizeBytes,
    startedAt: b.startedAt,
    completedAt: b.completedAt,
    durationSeconds: b.durationSeconds,
    failureReason: b.failureReason,
    checksumSha256: b.checksumSha256,
  });
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
