-- What the server is doing for a running restore (decision 157): its sessions, the index or
-- constraint each builds and how far, whose lock each waits for, and the indexes and
-- constraints made of the archive's. Live state only, like the byte counts: written with each
-- heartbeat while the database part runs, NULL before and after, not in the storage record.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "activity" JSONB;
