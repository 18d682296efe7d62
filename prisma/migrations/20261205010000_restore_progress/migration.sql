-- A restore's live progress (decision 136): the archive's bytes read in and loaded into the
-- database, of its total, written with each heartbeat. Live state only: not in the restore's
-- storage record, NULL for restores before it and until a restore reaches its database part.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "loadedBytes" BIGINT,
ADD COLUMN     "readBytes" BIGINT,
ADD COLUMN     "totalBytes" BIGINT;
