-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "mirroredAt" TIMESTAMP(3);

-- Events written before this migration were copied to storage as they were written.
UPDATE "AuditEvent" SET "mirroredAt" = "at";

-- CreateIndex
CREATE INDEX "AuditEvent_mirroredAt_at_idx" ON "AuditEvent"("mirroredAt", "at");
