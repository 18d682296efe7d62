-- The audit trail per target (decision 110): each event names the target it concerns, or
-- none. No foreign key: the trail outlives a deleted target. Earlier events get a target
-- only where the `target` column already names one: one cheap statement per kind (a
-- backup's id for backup, restore and rollback events; a target's id for target events).

-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "targetId" TEXT;

-- CreateIndex
CREATE INDEX "AuditEvent_targetId_at_idx" ON "AuditEvent"("targetId", "at" DESC);

UPDATE "AuditEvent" a SET "targetId" = b."targetId"
FROM "BackupJob" b
WHERE a."targetId" IS NULL AND a."target" = b."id"
  AND (a."action" LIKE 'backup.%' OR a."action" LIKE 'restore.%' OR a."action" LIKE 'rollback.%');

UPDATE "AuditEvent" a SET "targetId" = t."id"
FROM "Target" t
WHERE a."targetId" IS NULL AND a."target" = t."id" AND a."action" LIKE 'target.%';
