-- A restore asked to make the roles its backup needs and the server lacks, as the backup
-- recorded them (decision 171). False for every restore before it.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "createRoles" BOOLEAN NOT NULL DEFAULT false;
