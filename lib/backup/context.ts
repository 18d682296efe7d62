// Everything a backup or restore needs, in one value: tests build their own (a temp
// database, s3rver) and the app builds one from lib/config.ts.
import type { Db } from "../db";
import { db as appDb } from "../db";
import { config, type Config } from "../config";
import { createStorage } from "./storage";
import type { Storage } from "./storage/types";
import type { StrategySetting } from "./restore-plan";
import type { CompressionSettings } from "../validation/settings";
import type { GiveWaySetBy } from "../backup-locks-text";
import { keyConfig } from "./key-config";
import { DEFAULT_TARGET_ID, DEFAULT_TARGET_NAME } from "../validation/targets";

/** A target as every row and message names it. */
export interface TargetRef {
  id: string;
  name: string;
  environment: string;
}

export interface BackupContext {
  db: Db;
  storage: Storage;
  /** Vaultline's own database (the catalogue). */
  appDatabaseUrl: string;
  /** The database that is backed up and restored: the target's (lib/backup/targets.ts). */
  targetUrl: string;
  /**
   * The target's URL as written, when `targetUrl` names one host of its failover list for the
   * length of a job (decision 190): for the words that say what to change in it.
   */
  targetUrlAsWritten?: string;
  /** Which target targetUrl is; absent = `default` (tests that build their own context). */
  target?: TargetRef;
  /**
   * A target's context (targets.ts contextForTarget) keeps the app's context it was made
   * from, so deriving another target's context from it never inherits this one's database.
   */
  appContext?: BackupContext;
  /** Decrypts other targets' stored URLs (TARGET_URL_SECRET, default NEXTAUTH_SECRET). */
  targetSecret?: string;
  passphrase: string;
  /** The key's id when configured beside it (embedded mode); else looked up (key-id.ts). */
  keyId?: string;
  /** Keys that no longer encrypt but still decrypt (BACKUP_ENCRYPTION_OLD_PASSPHRASES; keyring.ts). */
  oldPassphrases?: { passphrase: string; id?: string }[];
  /** An armored public key: when set, backups are encrypted to it (write-only backups). */
  publicKey?: string;
  /** The matching armored private key, on a recovery instance only. */
  privateKey?: string;
  /** Embedded mode: $DATA_DIR/secrets.json, read for the passphrases each time (rotation from the UI). */
  keysFile?: string;
  prefix: string;
  /** The target's environment: a segment of its backups' keys. */
  env: string;
  /**
   * BACKUP_ENV: where the audit trail and restore records are kept (mirror.ts). A target's
   * context keeps the app's here while `env` becomes the target's; absent = `env`.
   */
  catalogueEnv?: string;
  pgBinDir?: string;
  filesDir?: string;
  /** RESTORE_COPY_FILES_DIR: where a restore into a copy puts the backup's files (decision 191). */
  restoreCopyFilesDir?: string;
  /** "target": restoreCopyFilesDir is the target's settings' copyFilesDir, not RESTORE_COPY_FILES_DIR (decision 192); for the words. */
  restoreCopyFilesDirSetBy?: "target";
  timeoutMs: number;
  appCommitSha?: string;
  appRepoDir?: string;
  drillDatabaseUrl?: string;
  checksFile?: string;
  appMigrationsDir?: string;
  /** Heartbeat and progress write interval. */
  heartbeatMs: number;
  /** RESTORE_STRATEGY: "auto" (swap when the role may), "swap" or "in-place". */
  restoreStrategy?: StrategySetting;
  /** How long the database a swap replaced is kept for Undo. */
  restoreKeepPreviousHours?: number;
  /** pg_restore --jobs on the swap path. */
  restoreJobs?: number;
  /** BACKUP_LOCK_WAIT_SECONDS: pg_dump's wait for a table lock another session holds (default 300; decision 175). */
  backupLockWaitSeconds?: number;
  /** BACKUP_BLOCKING_ALERT_SECONDS: a session waiting this long for the backup's lock is announced, once per backup; 0 = never (default 30). */
  backupBlockingAlertSeconds?: number;
  /** BACKUP_GIVE_WAY_SECONDS: a scheduled backup a session has waited this long for stops and is retried; 0 = never (default 0, decision 187). */
  backupGiveWaySeconds?: number;
  /** Where backupGiveWaySeconds comes from, for the failure's words: the target's own settings, or (absent) BACKUP_GIVE_WAY_SECONDS (decision 189). */
  backupGiveWaySetBy?: GiveWaySetBy;
  /** RESTORE_LOCK_TIMEOUT_SECONDS: an in-place restore's wait for another session's lock (default 300). */
  restoreLockTimeoutSeconds?: number;
  /** DISK_RESERVE_MB in bytes: free space a restore or drill leaves on the server's disk (server-disk.ts; default 1 GiB). Local storage has its own copy. */
  diskReserveBytes?: number;
  /** Overrides the compression setting (tests, the bench); unset = the Settings page's. */
  compression?: CompressionSettings;
}

export function contextFromConfig(cfg: Config, db: Db, storage: Storage = createStorage(cfg)): BackupContext {
  return {
    db,
    storage,
    appDatabaseUrl: cfg.databaseUrl,
    targetUrl: cfg.targetDatabaseUrl,
    target: { id: DEFAULT_TARGET_ID, name: DEFAULT_TARGET_NAME, environment: cfg.BACKUP_ENV },
    targetSecret: cfg.TARGET_URL_SECRET ?? cfg.nextAuthSecret,
    passphrase: cfg.encryptionPassphrase,
    keyId: cfg.BACKUP_ENCRYPTION_KEY_ID,
    ...keyConfig(cfg),
    prefix: cfg.STORAGE_PREFIX,
    env: cfg.BACKUP_ENV,
    pgBinDir: cfg.PG_BIN_DIR,
    filesDir: cfg.FILES_DIR,
    restoreCopyFilesDir: cfg.RESTORE_COPY_FILES_DIR,
    timeoutMs: cfg.BACKUP_TIMEOUT_MINUTES * 60_000,
    appCommitSha: cfg.APP_COMMIT_SHA,
    appRepoDir: cfg.APP_REPO_DIR,
    drillDatabaseUrl: cfg.DRILL_DATABASE_URL,
    checksFile: cfg.CHECKS_FILE,
    appMigrationsDir: cfg.APP_MIGRATIONS_DIR,
    heartbeatMs: 3000,
    restoreStrategy: cfg.RESTORE_STRATEGY,
    restoreKeepPreviousHours: cfg.RESTORE_KEEP_PREVIOUS_HOURS,
    restoreJobs: cfg.RESTORE_JOBS,
    restoreLockTimeoutSeconds: cfg.RESTORE_LOCK_TIMEOUT_SECONDS,
    backupLockWaitSeconds: cfg.BACKUP_LOCK_WAIT_SECONDS,
    backupBlockingAlertSeconds: cfg.BACKUP_BLOCKING_ALERT_SECONDS,
    backupGiveWaySeconds: cfg.BACKUP_GIVE_WAY_SECONDS,
    diskReserveBytes: cfg.DISK_RESERVE_MB * 1024 * 1024,
  };
}

let app: BackupContext | undefined;

/**
 * The context built from the configuration, once per module instance: Next gives the
 * instrumentation and the route handlers their own copies, and each builds the same
 * thing (the Prisma client underneath is the one process-wide singleton).
 */
export function appContext(): BackupContext {
  app ??= contextFromConfig(config(), appDb());
  return app;
}
