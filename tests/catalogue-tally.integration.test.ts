// Issue 14 §4: list totals come from BackupJobTally, kept by statement triggers. They must
// equal count(*) for every filter after any mix of writes — bulk, concurrent, TRUNCATE —
// and after a catalogue made before the tally is upgraded. The stored bytes the health
// check, /api/storage and the metrics read come from it too (decision 116): they must equal
// sum("sizeBytes") the same way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { createDatabase, createMigratedDatabase, dropDatabase, sql } from "./support/vitest-env";
import { migrate } from "../lib/migrate";
import { createDb, type Db } from "../lib/db";
import { foldTally, listBackups } from "../lib/backup/catalog";
import { storageUsage } from "../lib/backup/storage-usage";
import { renderMetrics } from "../lib/metrics";
import { BACKUP_KINDS, BACKUP_TRIGGERS, JOB_STATUSES } from "../lib/validation/backups";

const TALLY_MIGRATION = "20261201040000_catalogue_tally";
/** The tally gained the stored bytes here: a catalogue tallied without them is recounted. */
const BYTES_MIGRATION = "20261204010000_tally_bytes";

/** Inserts n rows spread over every (kind, trigger, status), like the bench's catalogue. */
const insertRows = (n: number, offset = 0) => `
  INSERT INTO "BackupJob" (id, kind, trigger, status, metadata, "sizeBytes", "createdAt", "updatedAt")
  SELECT 't' || (g + ${offset}), (ARRAY['FULL','QUICK'])[1 + g % 2]::"BackupKind",
         (ARRAY['MANUAL','SCHEDULED','PRE_RESTORE','PRE_DEPLOY','API'])[1 + g % 5]::"BackupTrigger",
         (ARRAY['QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED'])[1 + (g / 3) % 5]::"JobStatus",
         '{}', CASE WHEN g % 7 <> 0 THEN 3000000000 + g * 1009 END, now() - g * interval '1 minute', now()
    FROM generate_series(1, ${n}) g`;

async function expectExact(url: string, db: Db) {
  const counted = await sql<{ kind: string; trigger: string; status: string; n: string }>(
    url,
    `SELECT kind, trigger, status, count(*)::text AS n, coalesce(sum("sizeBytes"), 0)::text AS bytes FROM "BackupJob" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  const tallied = await sql<{ kind: string; trigger: string; status: string; n: string }>(
    url,
    `SELECT kind, trigger, status, sum(n)::text AS n, sum(bytes)::text AS bytes FROM "BackupJobTally" GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3`,
  );
  expect(tallied).toEqual(counted);
  // The stored bytes as the health check and the metrics answer them.
  const [good] = await sql<{ n: number; bytes: string }>(url, `SELECT count(*)::int AS n, coalesce(sum("sizeBytes"), 0)::text AS bytes FROM "BackupJob" WHERE status = 'SUCCEEDED'`);
  const usage = await storageUsage(db);
  expect({ backups: usage.backups, totalBytes: usage.totalBytes }).toEqual({ backups: good.n, totalBytes: Number(good.bytes) });
  const metrics = (await renderMetrics(db)).body;
  const stored = metrics.split("\n").filter((l) => l.startsWith("vaultline_storage_bytes{")).map((l) => Number(l.split(" ").pop()));
  expect(stored.reduce((a, b) => a + b, 0)).toBe(Number(good.bytes));
  const [{ finished }] = await sql<{ finished: number }>(url, `SELECT count(*)::int AS finished FROM "BackupJob" WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')`);
  const counters = metrics.split("\n").filter((l) => l.startsWith("vaultline_backups_total{")).map((l) => Number(l.split(" ").pop()));
  expect(counters.reduce((a, b) => a + b, 0)).toBe(finished);
  // What the API answers, for no filter, each single filter and a combination.
  const filters: Record<string, string>[] = [{}, ...JOB_STATUSES.map((status) => ({ status })), ...BACKUP_KINDS.map((kind) => ({ kind })), ...BACKUP_TRIGGERS.map((trigger) => ({ trigger })), { status: "FAILED", kind: "FULL", trigger: "API" }];
  for (const f of filters) {
    const where = Object.entries(f).map(([k, v]) => `"${k}" = '${v}'`).join(" AND ") || "true";
    const [{ n }] = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM "BackupJob" WHERE ${where}`);
    const { total } = await listBackups(db, { limit: 1, offset: 0, ...(f as object) });
    expect({ f, total }).toEqual({ f, total: n });
  }
}

describe("exact list totals from the tally", () => {
  let url: string;
  let db: Db;
  beforeAll(async () => {
    url = await createMigratedDatabase("tally");
    db = createDb(url);
  });
  afterAll(async () => {
    await db.$disconnect();
    await dropDatabase(url);
  });

  it("follows inserts, status changes, no-op updates, deletes and TRUNCATE", async () => {
    await sql(url, insertRows(3000));
    await expectExact(url, db);
    await sql(url, `UPDATE "BackupJob" SET status = 'FAILED' WHERE status = 'RUNNING' AND id LIKE 't1%'`);
    await sql(url, `UPDATE "BackupJob" SET "heartbeatAt" = now()`); // changes no counted column
    await sql(url, `UPDATE "BackupJob" SET "sizeBytes" = "sizeBytes" + 1 WHERE id LIKE 't4%'`); // sizes only
    await sql(url, `UPDATE "BackupJob" SET "sizeBytes" = NULL WHERE id LIKE 't5%'`);
    await sql(url, `UPDATE "BackupJob" SET kind = 'FULL', trigger = 'API' WHERE id LIKE 't2%'`);
    await expectExact(url, db);
    await sql(url, `DELETE FROM "BackupJob" WHERE status = 'CANCELLED' OR id LIKE 't3%'`);
    await expectExact(url, db);
    await db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: {} } });
    await db.backupJob.updateMany({ where: { status: "QUEUED" }, data: { status: "SUCCEEDED" } });
    await expectExact(url, db);
    expect(await foldTally(db)).toBeGreaterThan(0);
    await expectExact(url, db);
    const keys = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM "BackupJobTally"`);
    expect(keys[0].n).toBeLessThanOrEqual(2 * 5 * 5);
    await sql(url, `TRUNCATE "BackupJob" CASCADE`);
    await expectExact(url, db);
    expect((await listBackups(db, { limit: 50, offset: 0 })).total).toBe(0);
    await sql(url, insertRows(100, 10_000));
    await expectExact(url, db);
  });

  it("stays exact under concurrent transactions, including rolled-back ones", async () => {
    await sql(url, insertRows(400, 20_000));
    const ids = (await sql<{ id: string }>(url, `SELECT id FROM "BackupJob" ORDER BY id`)).map((r) => r.id);
    const statuses = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];
    let folding = true;
    const folds = (async () => {
      while (folding) await foldTally(db);
    })();
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          for (let i = 0; i < 15; i++) {
            await c.query("BEGIN");
            const a = ids[(w * 31 + i * 7) % ids.length];
            const b = ids[(w * 17 + i * 13 + 5) % ids.length];
            await c.query(`UPDATE "BackupJob" SET status = $1, "sizeBytes" = coalesce("sizeBytes", 0) + $4 WHERE id IN ($2, $3)`, [statuses[(w + i) % 5], a, b, w * 1000 + i]);
            await c.query(`INSERT INTO "BackupJob" (id, kind, trigger, status, metadata, "updatedAt") VALUES ($1, 'FULL', 'API', 'QUEUED', '{}', now())`, [`w${w}-${i}`]);
            if (i % 4 === 3) await c.query(`DELETE FROM "BackupJob" WHERE id = $1`, [`w${w}-${i - 1}`]);
            await c.query(i % 5 === 4 ? "ROLLBACK" : "COMMIT");
          }
        } finally {
          await c.end();
        }
      }),
    );
    folding = false;
    await folds;
    await expectExact(url, db);
    await foldTally(db);
    await expectExact(url, db);
  });
});

describe("a catalogue made before the tally", () => {
  it.each([TALLY_MIGRATION, BYTES_MIGRATION])("is counted when %s is applied", async (MIGRATION) => {
    const url = await createDatabase("tally_upgrade");
    const all = path.resolve("prisma/migrations");
    const older = mkdtempSync(path.join(tmpdir(), "vaultline-migrations-"));
    try {
      for (const name of readdirSync(all)) if (name < MIGRATION) cpSync(path.join(all, name), path.join(older, name), { recursive: true });
      await migrate(url, older);
      await sql(url, insertRows(2500));
      expect(await migrate(url)).toContain(MIGRATION);
      const db = createDb(url);
      try {
        await expectExact(url, db);
      } finally {
        await db.$disconnect();
      }
    } finally {
      rmSync(older, { recursive: true, force: true });
      await dropDatabase(url);
    }
  });
});
