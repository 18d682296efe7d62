// Applies prisma/migrations/* with the same `_prisma_migrations` bookkeeping as
// `prisma migrate deploy` (checksum = SHA-256 hex of migration.sql, started_at,
// finished_at, applied_steps_count), inside one transaction under Prisma's own advisory
// lock key, so two starting replicas — or this step and the Prisma CLI — cannot race.
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { newClient } from "./backup/pg-client";

/** The lock key `prisma migrate` takes (pg_advisory_lock(72707369)). */
const PRISMA_MIGRATE_LOCK = 72707369;

export const MIGRATIONS_DIR = path.resolve(/*turbopackIgnore: true*/ process.cwd(), "prisma/migrations");

export interface MigrationFile {
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrationStatus {
  applied: string[];
  missing: string[];
  failed: string[];
  modified: string[];
  /** Rows in the database with no folder on disk (applied by a newer version). */
  unknown: string[];
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function appliedRows(client: pg.ClientBase): Promise<Row[] | null> {
  const exists = await client.query(`SELECT to_regclass('"_prisma_migrations"') AS t`);
  if (!exists.rows[0].t) return null;
  const r = await client.query<Row>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
  );
  return r.rows;
}

function compare(files: MigrationFile[], rows: Row[] | null): MigrationStatus {
  const live = (rows ?? []).filter((r) => r.rolled_back_at === null);
  const done = new Map(live.filter((r) => r.finished_at).map((r) => [r.migration_name, r]));
  const failed = live.filter((r) => !r.finished_at).map((r) => r.migration_name);
  const names = new Set(files.map((f) => f.name));
  return {
    applied: files.filter((f) => done.has(f.name)).map((f) => f.name),
    missing: files.filter((f) => !done.has(f.name)).map((f) => f.name),
    failed,
    modified: files.filter((f) => done.has(f.name) && done.get(f.name)!.checksum !== f.checksum).map((f) => f.name),
    unknown: [...done.keys()].filter((n) => !names.has(n)),
  };
}

export async function migrationStatus(url: string, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const client = await newClient(url, { application_name: "vaultline-migrate" });
  await client.connect();
  try {
    return compare(readMigrations(dir), await appliedRows(client));
  } finally {
    await client.end();
  }
}

/** Applies every missing migration. Returns the names applied (empty when current). */
export async function migrate(url: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readMigrations(dir);
  const client = await newClient(url, { application_name: "vaultline-migrate" });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [PRISMA_MIGRATE_LOCK]);
    await client.query(CREATE_TABLE);
    const status = compare(files, await appliedRows(client));
    if (status.failed.length) {
      throw new Error(
        `migrations ${status.failed.join(", ")} failed earlier and are not rolled back; resolve them first (prisma migrate resolve)`,
      );
    }
    const applied: string[] = [];
    for (const f of files.filter((f) => status.missing.includes(f.name))) {
      const id = randomUUID();
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
        [id, f.checksum, f.name],
      );
      try {
        await client.query(f.sql);
      } catch (e) {
        throw new Error(`migration ${f.name} failed: ${(e as Error).message}`);
      }
      await client.query(
        `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      applied.push(f.name);
    }
    await client.query("COMMIT");
    return applied;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
}

/** A sentence naming what is wrong with the schema, or null when it is current. */
export function describeStatus(s: MigrationStatus): string | null {
  const parts: string[] = [];
  if (s.missing.length) parts.push(`missing migrations: ${s.missing.join(", ")}`);
  if (s.failed.length) parts.push(`failed migrations: ${s.failed.join(", ")}`);
  if (s.modified.length) parts.push(`migrations changed after they were applied: ${s.modified.join(", ")}`);
  return parts.length ? `${parts.join("; ")} — run \`npm run migrate\`` : null;
}
