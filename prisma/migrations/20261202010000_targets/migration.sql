-- Several databases (DESIGN §8): the Target table, and every backup, restore, deployment
-- and drill belongs to one. The target `default` (TARGET_DATABASE_URL) is created here so
-- that every row from before targets belongs to it; start-up keeps its host, database and
-- environment current. A column default of 'default' keeps any writer that does not name a
-- target meaning what it meant before.

-- CreateTable
CREATE TABLE "Target" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "databaseUrlEncrypted" TEXT,
    "host" TEXT NOT NULL DEFAULT '',
    "database" TEXT NOT NULL DEFAULT '',
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Target_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Target_name_key" ON "Target"("name");

-- The default target (its environment is corrected from BACKUP_ENV at start-up)
INSERT INTO "Target" ("id", "name", "environment", "isDefault", "updatedAt")
VALUES ('default', 'default', 'prod', true, CURRENT_TIMESTAMP);

-- AlterTable
ALTER TABLE "BackupJob" ADD COLUMN     "targetId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "targetId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "targetId" TEXT NOT NULL DEFAULT 'default';

-- AlterTable
ALTER TABLE "DrillRun" ADD COLUMN     "targetId" TEXT NOT NULL DEFAULT 'default';

-- DropIndex
DROP INDEX "DrillRun_scheduleSlot_key";

-- CreateIndex
CREATE INDEX "BackupJob_targetId_createdAt_idx" ON "BackupJob"("targetId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "RestoreJob_targetId_createdAt_idx" ON "RestoreJob"("targetId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "Deployment_targetId_at_idx" ON "Deployment"("targetId", "at" DESC);

-- CreateIndex
CREATE INDEX "DrillRun_targetId_startedAt_idx" ON "DrillRun"("targetId", "startedAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "DrillRun_targetId_scheduleSlot_key" ON "DrillRun"("targetId", "scheduleSlot");

-- AddForeignKey
ALTER TABLE "BackupJob" ADD CONSTRAINT "BackupJob_targetId_fkey" FOREIGN KEY ("targetId") REFERENCES "Target"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestoreJob" ADD CONSTRAINT "RestoreJob_targetId_fkey" FOREIGN KEY ("targetId") REFERENCES "Target"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Deployment" ADD CONSTRAINT "Deployment_targetId_fkey" FOREIGN KEY ("targetId") REFERENCES "Target"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrillRun" ADD CONSTRAINT "DrillRun_targetId_fkey" FOREIGN KEY ("targetId") REFERENCES "Target"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
