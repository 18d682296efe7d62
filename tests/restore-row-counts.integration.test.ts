// Decision 158: a swap restore's copy is not swapped in unless every table holds as many rows
// as the backup's archive. Counted as the archive streams by (pg_dump -Z0 writes a chunk per
// row) and compared with the rows the server inserted into each table of the copy. The
// database looks like an application's: an owner role, a schema of its own, a partitioned
// table with a default partition, rows with newlines, tabs and backslashes in them, an empty
// table, an unlogged one, and one big enough that its rows are cut into parts loaded side by
// side (decision 126).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { startRestore, runRestore } from "../lib/backup/restore";
import { swapNames, databaseOf, withDatabase } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

/**
 * An extension with a configuration table that CREATE EXTENSION fills (as PostGIS fills
 * spatial_ref_sys) and pg_dump dumps only the user's rows of: the restore inserts more rows
 * into it than the archive holds, and that is right.
 */
async function installConfigExtension(): Promise<() => Promise<void>> {
  const [{ setting }] = await sql<{ setting: string }>(adminUrl(), "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'");
  const dir = path.join(setting, "extension");
  const files = [path.join(dir, "vl_test_srs.control"), path.join(dir, "vl_test_srs--1.0.sql")];
  await writeFile(files[0], "default_version = '1.0'\nrelocatable = false\nschema = notes\n");
  await writeFile(
    files[1],
    `CREATE TABLE srs (srid int PRIMARY KEY, name text NOT NULL);
     INSERT INTO srs SELECT g, 'builtin ' || g FROM generate_series(1, 100) g;
     SELECT pg_catalog.pg_extension_config_dump('srs', 'WHERE srid > 1000');\n`,
  );
  return async () => {
    for (const f of files) await rm(f, { force: true });
  };
}

async function buildDatabase(url: string) {
  await sql(url, `DO $$ BEGIN CREATE ROLE notes_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await sql(
    url,
    `CREATE SCHEMA notes AUTHORIZATION notes_owner;
     CREATE TABLE notes.authors (id int PRIMARY KEY, name text NOT NULL);
     CREATE TABLE notes.notes (id bigint PRIMARY KEY, author_id int NOT NULL REFERENCES notes.authors, body text NOT NULL);
     CREATE TABLE notes.events (at timestamptz NOT NULL, kind text NOT NULL, payload jsonb) PARTITION BY RANGE (at);
     CREATE TABLE notes.events_2025 PARTITION OF notes.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
     CREATE TABLE notes.events_2026 PARTITION OF notes.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
     CREATE TABLE notes.events_other PARTITION OF notes.events DEFAULT;
     CREATE TABLE notes.archived (id int PRIMARY KEY);
     -- Values that start with a backslash and a dot, as pg_dump's end-of-data marker does.
     CREATE TABLE notes.tags (label text PRIMARY KEY);
     INSERT INTO notes.tags VALUES (E'\\\\.'), (E'\\\\.\\n'), ('plain');
     CREATE UNLOGGED TABLE notes.cache (k text PRIMARY KEY, v bytea);
     INSERT INTO notes.authors SELECT g, 'author ' || g FROM generate_series(1, 50) g;
     -- Newlines, tabs, backslashes and a lone "\\." in row text: COPY escapes them, so a row is still one line.
     INSERT INTO notes.notes VALUES (1, 1, E'line one\\nline two\\ttabbed \\\\ backslash'), (2, 2, E'\\\\.'), (3, 3, E'\\r\\n');
     INSERT INTO notes.notes SELECT g, 1 + g % 50, md5(g::text) || E'\\n' || repeat('x', g % 40) FROM generate_series(4, 1200000) g;
     INSERT INTO notes.events SELECT timestamptz '2024-06-01' + g * interval '1 hour', 'kind' || g % 7, jsonb_build_object('n', g) FROM generate_series(1, 30000) g;
     INSERT INTO notes.cache SELECT 'k' || g, decode(md5(g::text), 'hex') FROM generate_series(1, 700) g;
     CREATE EXTENSION vl_test_srs;
     INSERT INTO notes.srs SELECT g, 'custom ' || g FROM generate_series(1001, 1010) g;
     ALTER TABLE notes.authors OWNER TO notes_owner;
     ALTER TABLE notes.notes OWNER TO notes_owner;
     ALTER TABLE notes.events OWNER TO notes_owner;`,
  );
}

const counts = async (url: string) =>
  (await sql<{ t: string; n: string }>(
    url,
    `SELECT 'notes.authors' t, count(*)::text n FROM notes.authors UNION ALL SELECT 'notes.notes', count(*)::text FROM notes.notes
     UNION ALL SELECT 'notes.events', count(*)::text FROM notes.events UNION ALL SELECT 'notes.archived', count(*)::text FROM notes.archived
     UNION ALL SELECT 'notes.cache', count(*)::text FROM notes.cache UNION ALL SELECT 'notes.tags', count(*)::text FROM notes.tags`,
  )).reduce((n, r) => n + Number(r.n), 0);

describe("a swap restore's rows", () => {
  let env: TestEnv;
  let backupId: string;
  let before: Record<string, string>;
  let total: number;
  let uninstall: () => Promise<void> = async () => {};

  beforeAll(async () => {
    uninstall = await installConfigExtension();
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, heartbeatMs: 40 } });
    await buildDatabase(env.targetUrl);
    before = await catalogFingerprint(sql, env.targetUrl);
    total = await counts(env.targetUrl);
    backupId = await fullBackup(env);
    // After the backup: rows lost in a bad migration.
    await sql(env.targetUrl, "DELETE FROM notes.notes WHERE id % 4 = 0; TRUNCATE notes.cache");
  });
  afterAll(async () => {
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
    await uninstall();
  });

  it("are counted in the archive and found in the copy, table by table, before the swap", async () => {
    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.succeeded", details: { path: ["restoreId"], equals: restoreId } } });
    // authors, notes, archived (empty), cache (unlogged), tags and the three partitions; the partitioned
    // table itself holds no rows, and the extension's table (110 rows inserted for the archive's 10) is not compared.
    expect((audit.details as { rowsChecked: unknown }).rowsChecked).toEqual({ checked: true, tables: 8, rows: total });
    expect(await sql(env.targetUrl, 'SELECT label FROM notes.tags ORDER BY label COLLATE "C"')).toEqual([{ label: "\\." }, { label: "\\.\n" }, { label: "plain" }]);
    expect(await sql(env.targetUrl, "SELECT count(*)::int AS n, count(*) FILTER (WHERE srid > 1000)::int AS custom FROM notes.srs")).toEqual([{ n: 110, custom: 10 }]);
  });

  it("refuses to swap in a copy that holds a row the backup does not, and leaves the live database as it was", async () => {
    const live = await catalogFingerprint(sql, env.targetUrl);
    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    const fresh = withDatabase(env.targetUrl, swapNames(databaseOf(env.targetUrl), restoreId).fresh);
    const run = runRestore(env.ctx, restoreId);
    // Something else writes into the copy while its rows load: one row more than the backup's.
    let written = false;
    for (let i = 0; i < 3000 && !written; i++) {
      try {
        await sql(fresh, "INSERT INTO notes.archived VALUES (-1)");
        written = true;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    expect(written).toBe(true);
    expect(await run).toBe("FAILED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toBe(
      `The restore failed before the swap: the restored copy does not hold the backup's rows: notes.archived has 1 row, the backup 0; nothing was swapped in. The live database was never touched; the fresh copy was discarded.`,
    );
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(live);
    expect(await sql(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = $1", [swapNames(databaseOf(env.targetUrl), restoreId).fresh])).toEqual([]);
  });
});
