-- AlterTable
ALTER TABLE "BackupJob" ADD COLUMN     "manifestSha256" TEXT;
