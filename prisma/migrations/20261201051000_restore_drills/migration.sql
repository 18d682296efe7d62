-- CreateEnum
CREATE TYPE "DrillStatus" AS ENUM ('RUNNING', 'PASSED', 'FAILED');

-- CreateEnum
CREATE TYPE "DrillTrigger" AS ENUM ('MANUAL', 'SCHEDULED');

-- AlterTable
ALTER TABLE "BackupJob" ADD COLUMN     "drillPassedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "DrillRun" (
    "id" TEXT NOT NULL,
    "backupId" TEXT,
    "trigger" "DrillTrigger" NOT NULL,
    "status" "DrillStatus" NOT NULL DEFAULT 'RUNNING',
    "scheduleSlot" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMP(3),
    "recoverySeconds" DOUBLE PRECISION,
    "durationSeconds" DOUBLE PRECISION,
    "failureReason" TEXT,
    "result" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "DrillRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DrillRun_scheduleSlot_key" ON "DrillRun"("scheduleSlot");

-- CreateIndex
CREATE INDEX "DrillRun_status_completedAt_idx" ON "DrillRun"("status", "completedAt" DESC);

-- CreateIndex
CREATE INDEX "DrillRun_startedAt_idx" ON "DrillRun"("startedAt" DESC);
