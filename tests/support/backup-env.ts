// A complete backup context on real parts, for the Vitest suites and the fault suite: a
// migrated catalogue database, a seeded target database, local (temp dir) or s3rver
// storage, the BackupContext on them and its JSON spec (which a child process turns into
// the very same context, see engine-child.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Db } from "../../lib/db";
import type { BackupContext } from "../../lib/backup/context";
import type { Storage } from "../../lib/backup/storage/types";
import type { PgServer } from "./pg";
import { seedTarget } from "./seed";
import { makeContext, type ContextSpec } from "./context";
import { startS3, type S3Server } from "./s3";

export interface TestEnv {
  ctx: BackupContext;
  db: Db;
  appUrl: string;
  targetUrl: string;
  spec: ContextSpec;
  storageDir?: string;
  s3?: S3Server;
  cleanup(): Promise<void>;
}

export interface EnvOptions {
  storage?: "local" | "s3";
  /** Seed the target (default: 2000 customers); false leaves it empty. */
  seed?: boolean | { rows?: number; blobMb?: number };
  /** The target database's name before its random suffix (default "target"). */
  targetPrefix?: string;
  /** Back up the catalogue itself (Vaultline's own database as the target). */
  targetIsApp?: boolean;
  /** S3 driver tuning. */
  partSize?: number;
  maxAttempts?: number;
  restoreStrategy?: ContextSpec["restoreStrategy"];
  /** `ctx.env`, the folder under the prefix (default "test"). */
  envName?: string;
  timeoutMs?: number;
  /** Wraps the storage driver (a disk that fills up, a flaky store). */
  storageOverride?: (s: Storage) => Storage;
  /** Replaces fields of the context as built. */
  overrides?: Partial<BackupContext>;
}

export async function backupEnv(pg: PgServer, opts: EnvOptions = {}): Promise<TestEnv> {
  const appUrl = await pg.createMigratedDatabase("app");
  const targetUrl = opts.targetIsApp ? appUrl : await pg.createDatabase(opts.targetPrefix ?? "target");
  if (opts.seed !== false) await seedTarget(targetUrl, typeof opts.seed === "object" ? opts.seed : {});
  let storageDir: string | undefined;
  let s3: S3Server | undefined;
  const common = { appUrl, targetUrl, restoreStrategy: opts.restoreStrategy, env: opts.envName ?? "test", timeoutMs: opts.timeoutMs ?? 5 * 60_000 };
  let spec: ContextSpec;
  if (opts.storage === "s3") {
    s3 = await startS3();
    spec = { ...common, storage: { kind: "s3", endpoint: s3.endpoint, bucket: s3.bucket, partSize: opts.partSize, maxAttempts: opts.maxAttempts } };
  } else {
    storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-store-"));
    spec = { ...common, storage: { kind: "local", dir: storageDir } };
  }
  const base = makeContext(spec);
  const ctx: BackupContext = {
    ...base,
    ...(opts.storageOverride ? { storage: opts.storageOverride(base.storage) } : {}),
    ...opts.overrides,
  };
  return {
    ctx,
    db: ctx.db,
    appUrl,
    targetUrl,
    spec,
    storageDir,
    s3,
    async cleanup() {
      await ctx.db.$disconnect().catch(() => {});
      await s3?.stop().catch(() => {});
      if (storageDir) await rm(storageDir, { recursive: true, force: true });
      if (targetUrl !== appUrl) await pg.dropDatabase(targetUrl).catch(() => {});
      await pg.dropDatabase(appUrl).catch(() => {});
    },
  };
}

/** The environment `npm run cli` needs to reach this test's catalogue and local store. */
export function cliEnv(env: TestEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: env.appUrl,
    BACKUP_ENCRYPTION_PASSPHRASE: env.ctx.passphrase,
    NEXTAUTH_SECRET: "cli-test-secret-0123456789",
    STORAGE: "local",
    LOCAL_STORAGE_DIR: env.storageDir!,
    STORAGE_PREFIX: env.ctx.prefix,
    BACKUP_ENV: env.ctx.env,
    LOG_LEVEL: "silent",
  };
}
