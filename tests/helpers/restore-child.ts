// Runs one restore in its own process, so a test can kill -9 it mid-pg_restore.
import { createDb } from "../../lib/db";
import { LocalStorage } from "../../lib/backup/storage/local";
import { runRestore } from "../../lib/backup/restore";
import type { BackupContext } from "../../lib/backup/context";

const spec = JSON.parse(process.env.RESTORE_CHILD_SPEC!);
const db = createDb(spec.appUrl);
const ctx: BackupContext = {
  db,
  storage: new LocalStorage(spec.storageDir),
  appDatabaseUrl: spec.appUrl,
  targetUrl: spec.targetUrl,
  passphrase: spec.passphrase,
  prefix: "backups",
  env: "test",
  timeoutMs: 600_000,
  heartbeatMs: 500,
  restoreStrategy: spec.restoreStrategy ?? "auto",
  filesDir: spec.filesDir,
};
process.stdout.write("ready\n");
await runRestore(ctx, spec.restoreId);
await db.$disconnect();
process.exit(0);
