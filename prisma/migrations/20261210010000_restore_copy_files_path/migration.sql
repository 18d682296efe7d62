-- Where a restore into a copy put the backup's files (decision 192): shown on the restore,
-- and what dropping the copy removes, whatever RESTORE_COPY_FILES_DIR says by then. NULL for
-- every restore before it, and for one whose files were not restored.

-- AlterTable
ALTER TABLE "RestoreJob" ADD COLUMN     "copyFilesPath" TEXT;
