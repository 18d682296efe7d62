-- CreateEnum
CREATE TYPE "ReencryptionState" AS ENUM ('WRITING', 'SWITCHING', 'CLEANUP');

-- AlterTable
ALTER TABLE "BackupJob" ADD COLUMN     "encryptionKeyId" TEXT;

-- CreateTable
CREATE TABLE "KeyReencryption" (
    "backupId" TEXT NOT NULL,
    "state" "ReencryptionState" NOT NULL,
    "fromKeyId" TEXT NOT NULL,
    "toKeyId" TEXT NOT NULL,
    "oldManifestSha256" TEXT NOT NULL,
    "newManifest" TEXT,
    "newManifestSha256" TEXT,
    "oldObjects" TEXT[],
    "newObjects" TEXT[],
    "bytesDone" BIGINT NOT NULL DEFAULT 0,
    "bytesTotal" BIGINT NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KeyReencryption_pkey" PRIMARY KEY ("backupId")
);

-- CreateIndex
CREATE INDEX "BackupJob_encryptionKeyId_idx" ON "BackupJob"("encryptionKeyId");
