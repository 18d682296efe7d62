-- A restore asked to end the sessions that hold a lock it waits for, after a grace period,
-- rather than wait for them (decision 185). False for every restore before it.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "endBlockingSessions" BOOLEAN NOT NULL DEFAULT false;
