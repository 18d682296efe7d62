-- CreateEnum
CREATE TYPE "DeploymentType" AS ENUM ('GATE', 'DEPLOY', 'RECORD', 'ROLLBACK');

-- CreateEnum
CREATE TYPE "RollbackPhase" AS ENUM ('RESTORING', 'CODE', 'DONE');

-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "type" "DeploymentType",
ADD COLUMN     "rollbackPhase" "RollbackPhase",
ADD COLUMN     "rollbackBackupKind" "BackupKind",
ADD COLUMN     "restoreId" TEXT,
ADD COLUMN     "preRestoreBackupId" TEXT;

-- Data: a rollback kept its state in checks as {"rollback": {...}, "run"?: CheckRun}.
UPDATE "Deployment" SET
    "type" = 'ROLLBACK',
    "rollbackPhase" = CASE checks->'rollback'->>'phase'
        WHEN 'restoring' THEN 'RESTORING'::"RollbackPhase"
        WHEN 'code' THEN 'CODE'::"RollbackPhase"
        ELSE 'DONE'::"RollbackPhase" END,
    "rollbackBackupKind" = CASE checks->'rollback'->>'backupKind'
        WHEN 'FULL' THEN 'FULL'::"BackupKind"
        WHEN 'QUICK' THEN 'QUICK'::"BackupKind" END,
    "restoreId" = checks->'rollback'->>'restoreId',
    "preRestoreBackupId" = checks->'rollback'->>'preRestoreBackupId',
    "backupId" = COALESCE("backupId", checks->'rollback'->>'backupId'),
    checks = checks->'run'
WHERE jsonb_typeof(checks) = 'object' AND checks ? 'rollback';

-- Data: the other types were told apart by status and by what checks held.
UPDATE "Deployment" SET "type" = CASE
        WHEN status IN ('ALLOWED', 'BLOCKED') THEN 'GATE'::"DeploymentType"
        WHEN (jsonb_typeof(checks) = 'object' AND checks ? 'results') OR log <> '' THEN 'DEPLOY'::"DeploymentType"
        ELSE 'RECORD'::"DeploymentType" END
WHERE "type" IS NULL;

ALTER TABLE "Deployment" ALTER COLUMN "type" SET NOT NULL;

-- CreateTable
CREATE TABLE "RuntimeState" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedBy" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RuntimeState_pkey" PRIMARY KEY ("key")
);

-- Data: runtime state was kept in Setting under "state.<key>".
INSERT INTO "RuntimeState" ("key", "value", "updatedBy", "updatedAt")
SELECT substr("key", 7), "value", "updatedBy", "updatedAt" FROM "Setting" WHERE "key" LIKE 'state.%';

DELETE FROM "Setting" WHERE "key" LIKE 'state.%';
