-- Restores: the strategy that ran, the ownership choice, the database kept for Undo,
-- and warnings for steps that failed after the database was replaced.
ALTER TABLE "RestoreJob" ADD COLUMN "strategy" TEXT;
ALTER TABLE "RestoreJob" ADD COLUMN "ownership" TEXT;
ALTER TABLE "RestoreJob" ADD COLUMN "previousDatabase" TEXT;
ALTER TABLE "RestoreJob" ADD COLUMN "keepUntil" TIMESTAMP(3);
ALTER TABLE "RestoreJob" ADD COLUMN "previousDroppedAt" TIMESTAMP(3);
ALTER TABLE "RestoreJob" ADD COLUMN "undoneAt" TIMESTAMP(3);
ALTER TABLE "RestoreJob" ADD COLUMN "swapSeconds" DOUBLE PRECISION;
ALTER TABLE "RestoreJob" ADD COLUMN "warnings" TEXT[] DEFAULT ARRAY[]::TEXT[];
