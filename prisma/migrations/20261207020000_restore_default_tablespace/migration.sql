-- A restore asked to place every object in the database's own tablespace, not the ones the
-- backup names (pg_restore --no-tablespaces; decision 173). False for every restore before it.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "defaultTablespace" BOOLEAN NOT NULL DEFAULT false;
