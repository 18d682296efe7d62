// The public API of the backup domain, used by app/, scripts/ and the worker.
export { appContext, contextFromConfig, type BackupContext } from "./context";
export { createBackupJob, cancelBackup, sweepStaleJobs } from "./jobs";
export { runBackup } from "./run-backup";
export { requestVerify, runVerify, verifyBackupObjects, readManifest } from "./verify";
export { deleteBackup, withDestructiveSlot } from "./delete";
export { openDownload } from "./download";
export { listBackups, getBackupRow, toBackupDto } from "./catalog";
export { dropKeptDatabase, keepKeptDatabaseLonger, startCopyRestore, startRestore, runRestore, sweepStaleRestores, undoRestore } from "./restore";
export { previewRestore } from "./preview";
export { requestDrill, runDrill } from "./drill";
export { reconcileFromStorage } from "./reconcile";
export { backupDetail, backupTombstone, backupStatuses, safetyBackupFor } from "./related";
export { previewRetention } from "./retention-preview";
export { syncTargetSchedules } from "./schedule";
