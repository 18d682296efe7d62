// A complete backup context on real parts: a migrated catalogue database, a target
// database with data, and local (temp dir) or s3rver storage.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDb, type Db } from "../../lib/db";
import { LocalStorage } from "../../lib/backup/storage/local";
import { S3Storage } from "../../lib/backup/storage/s3";
import type { Storage } from "../../lib/backup/storage/types";
import type { BackupContext } from "../../lib/backup/context";
import { createDatabase, createMigratedDatabase, dropDatabase, sql } from "./pg";
import { startS3, type S3Server } from "./s3";

export const PASSPHRASE = "integration-test-passphrase-1";

export async function seedTarget(url: string, rows = 2000): Promise<void> {
  await sql(
    url,
    `CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text, created_at timestamptz DEFAULT now());
     CREATE TABLE invoices (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), amount numeric(12,2), pdf bytea);
     INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, ${rows}) g;
     INSERT INTO invoices (customer_id, amount, pdf) SELECT 1 + (g % ${rows}), g * 1.5, decode(md5(g::text), 'hex') FROM generate_series(1, ${rows * 2}) g;`,
  );
}

export interface TestEnv {
  ctx: BackupContext;
  db: Db;
  appUrl: string;
  targetUrl: string;
  storageDir?: string;
  s3?: S3Server;
  cleanup(): Promise<void>;
}

export async function makeEnv(opts: { storage?: "local" | "s3"; seed?: boolean; targetIsApp?: boolean; overrides?: Partial<BackupContext> } = {}): Promise<TestEnv> {
  const appUrl = await createMigratedDatabase("app");
  const targetUrl = opts.targetIsApp ? appUrl : await createDatabase("target");
  if (opts.seed !== false) await seedTarget(targetUrl);
  let storage: Storage;
  let storageDir: string | undefined;
  let s3: S3Server | undefined;
  if (opts.storage === "s3") {
    s3 = await startS3();
    storage = new S3Storage({
      bucket: s3.bucket,
      region: "us-east-1",
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
    });
  } else {
    storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-store-"));
    storage = new LocalStorage(storageDir);
  }
  const db = createDb(appUrl);
  const ctx: BackupContext = {
    db,
    storage,
    appDatabaseUrl: appUrl,
    targetUrl,
    passphrase: PASSPHRASE,
    prefix: "backups",
    env: "test",
    timeoutMs: 5 * 60_000,
    heartbeatMs: 500,
    ...opts.overrides,
  };
  return {
    ctx,
    db,
    appUrl,
    targetUrl,
    storageDir,
    s3,
    async cleanup() {
      await db.$disconnect();
      await s3?.stop();
      if (storageDir) await rm(storageDir, { recursive: true, force: true });
      if (targetUrl !== appUrl) await dropDatabase(targetUrl).catch(() => {});
      await dropDatabase(appUrl).catch(() => {});
    },
  };
}

export async function listKeys(storage: Storage, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys.sort();
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, stepMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`condition not met in ${timeoutMs} ms: ${fn.toString().slice(0, 160)}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
