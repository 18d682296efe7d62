// The night the database itself is gone (decision 165): a DROP DATABASE on the wrong server, a
// server rebuilt after its disk was lost. Every step of a restore began by connecting to the
// database, so the restore refused exactly then ("database … does not exist. Nothing was
// changed."), and the preview failed with the same words. Now the preview says what the
// restore will make, and the restore creates the database as the backup had it — owner,
// encoding and locale, settings, per-role settings, connection limit, comment, grants — then
// restores into it, judged by the catalogue-and-data fingerprint, the database's own line
// included. The database is the application fixture (an owner role, schemas, partitions,
// extensions, views) with database-level state of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase, APP_ROLE, READER_ROLE } from "./support/app-fixture";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { databaseOf, withDatabase } from "../lib/backup/swap";
import { runRestore, startRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import { keysForJob } from "../lib/backup/manifest";
import { databaseShape, dropCreatedDatabase } from "../lib/backup/missing-database";
import { connectSession } from "../lib/backup/pg-client";
import { databaseLocaleAt, describeLocale } from "../lib/backup/db-locale";
import { stopBosses } from "../lib/queue";

const fingerprint = (url: string) => catalogFingerprint(sql, url);
const NO_CREATEDB = "vl_no_createdb";
/** A role granted a table in the backup, renamed away to make a restore that keeps owners fail after it has created the database. */
const GRANTEE = "vl_gone_grantee";

afterAll(async () => {
  await stopBosses();
});

describe.each(["swap", "in-place"] as const)("a restore into a database that is gone (%s)", (strategy) => {
  let env: TestEnv;
  let db: string;
  let backupId: string;
  let original: Record<string, string>;
  let locale: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await sql(
      adminUrl(),
      `ALTER ROLE ${READER_ROLE} IN DATABASE "${db}" SET work_mem = '8MB';
       ALTER DATABASE "${db}" CONNECTION LIMIT 50;
       REVOKE TEMPORARY ON DATABASE "${db}" FROM PUBLIC;
       DO $$ BEGIN CREATE ROLE ${GRANTEE} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;`,
    );
    await sql(env.targetUrl, `GRANT SELECT ON public.customers TO ${GRANTEE}`);
    await sql(env.targetUrl, "INSERT INTO public.audit_log (what) SELECT 'event ' || g FROM generate_series(1, 20000) g");
    original = await fingerprint(env.targetUrl);
    // The server's own default here (UTF8 in a UTF-8 locale; SQL_ASCII under CI's C locale).
    locale = describeLocale(await databaseLocaleAt(env.targetUrl));
    expect(original.database).toContain(`${APP_ROLE} |`);
    expect(original.database).toContain("the shop database");
    expect(original.database).toContain("work_mem=8MB");
    backupId = await fullBackup(env);
    await sql(adminUrl(), `DROP DATABASE "${db}" WITH (FORCE)`);
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
  });

  it("the preview says the database is not there and what the restore will make of it", async () => {
    const p = await previewRestore(env.ctx, backupId);
    expect(p.verified.ok).toBe(true);
    expect(p.missingDatabase).toEqual({ name: db, user: expect.any(String), canCreate: true });
    expect(p.plan).toBeNull();
    expect(p.warnings).toEqual([
      `The database ${db} does not exist on the target's server: the restore creates it as the backup had it (its owner, encoding and locale, settings, comment and grants), then loads the backup into it. Nothing else on the server is changed.`,
    ]);
    expect(p.differences.tables.added).toEqual(expect.arrayContaining(["public.customers", "billing.invoices", "public.audit_log"]));
    expect(p.differences.tables.dropped).toEqual([]);
    expect(p.rowEstimates["public.audit_log"]).toEqual({ live: null, backup: expect.any(Number) });
  });

  it("a role that may not create databases is refused, with what to do, and nothing is made", async () => {
    await sql(adminUrl(), `DO $$ BEGIN CREATE ROLE ${NO_CREATEDB} LOGIN PASSWORD 'no-createdb-pw-1'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    const as = new URL(env.targetUrl);
    as.username = NO_CREATEDB;
    as.password = "no-createdb-pw-1";
    env.ctx.targetUrl = as.toString();
    try {
      const p = await previewRestore(env.ctx, backupId);
      expect(p.missingDatabase).toEqual({ name: db, user: NO_CREATEDB, canCreate: false });
      const { status, row } = await restore(env, backupId);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toBe(
        `The database ${db} does not exist on the target's server, and Vaultline's role ${NO_CREATEDB} may not create one (it has neither CREATEDB nor superuser). Create it empty as a role that may (CREATE DATABASE "${db}";), or give ${NO_CREATEDB} CREATEDB, then restore again. Nothing was changed.`,
      );
    } finally {
      env.ctx.targetUrl = env.targetUrl;
    }
    expect(await sql(adminUrl(), "SELECT datname FROM pg_database WHERE datname = $1", [db])).toEqual([]);
  });

  it("a restore that fails after creating the database drops it again: the server is as it was", async () => {
    await sql(adminUrl(), `ALTER ROLE ${GRANTEE} RENAME TO ${GRANTEE}_away`);
    try {
      const { status, row } = await restore(env, backupId, "keep");
      expect(status).toBe("FAILED");
      expect(row.failureReason).toMatch(new RegExp(`^Owners and grants cannot be restored as they were: Role ${GRANTEE} owns or is granted objects in the backup but does not exist on this server`));
      expect(row.failureReason).toMatch(
        new RegExp(`\\. Nothing was changed\\. The database ${db}, which this restore had created, was dropped again: the server is as it was\\.$`),
      );
      const dropped = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.database_dropped" }, orderBy: { at: "desc" } });
      expect(dropped.details).toMatchObject({ restoreId: row.id, database: db });
    } finally {
      await sql(adminUrl(), `ALTER ROLE ${GRANTEE}_away RENAME TO ${GRANTEE}`);
    }
    expect(await sql(adminUrl(), "SELECT datname FROM pg_database WHERE datname = $1", [db])).toEqual([]);
  });

  it("the restore creates it as the backup had it, and restores it exactly", async () => {
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    expect(row.warnings[0]).toBe(`The database ${db} did not exist: created in ${locale} before the restore; owned by ${APP_ROLE}, as when it was backed up`);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.database_created" } });
    expect(audit.details).toMatchObject({ restoreId: row.id, database: db });
  });

  it("a target moved to a database of another name: made there, then given the backup's own state once restored (decision 194)", async () => {
    // The archive's DATABASE entries name the database as it was archived, and are not run
    // against another name; the manifest's record of its state is given by the target's.
    const moved = `${db}_moved`;
    const ctx = { ...env.ctx, targetUrl: withDatabase(env.targetUrl, moved) };
    try {
      const { restoreId } = await startRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(ctx, restoreId)).toBe("SUCCEEDED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.warnings[0]).toContain(`its settings, comment and grants are given as the backup recorded them once it is restored (the backup was taken of a database named ${db})`);
      expect(row.warnings.join(" ")).not.toMatch(/does not have all of the backup's owner/);
      const after = await fingerprint(ctx.targetUrl);
      expect(after.database).toBe(original.database);
      expect(after).toEqual(original);
    } finally {
      const made = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2", [moved, `${moved}__%`]);
      for (const { datname } of made) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });
});

describe("a created database is dropped again only while nothing has used it", () => {
  let env: TestEnv;
  let url: string;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    url = env.targetUrl;
  }, 120_000);
  afterAll(async () => {
    await env?.cleanup();
  });
  const remake = async () => {
    await sql(adminUrl(), `DROP DATABASE IF EXISTS "${databaseOf(url)}" WITH (FORCE)`);
    await sql(adminUrl(), `CREATE DATABASE "${databaseOf(url)}"`);
    return databaseShape(url);
  };
  const exists = async () => (await sql(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = $1", [databaseOf(url)])).length === 1;

  it("as made and unused: dropped", async () => {
    const shape = await remake();
    expect(await dropCreatedDatabase(url, shape)).toEqual({ dropped: true, words: `The database ${databaseOf(url)}, which this restore had created, was dropped again: the server is as it was` });
    expect(await exists()).toBe(false);
  });

  it("with a table made in it since: kept, and the words say why and what to run", async () => {
    const shape = await remake();
    await sql(url, "CREATE TABLE made_meanwhile (id int)");
    const r = await dropCreatedDatabase(url, shape);
    expect(r).toEqual({
      dropped: false,
      words: `The database ${databaseOf(url)}, which this restore created, is left on the server: objects were made in it since. Drop it (DROP DATABASE "${databaseOf(url)}";) if nothing should use it, then restore again`,
    });
    expect(await exists()).toBe(true);
  });

  it("with a session in it: kept (no FORCE), and the words name the server's reason", async () => {
    const shape = await remake();
    const held = await connectSession(url, "an application");
    try {
      const r = await dropCreatedDatabase(url, shape);
      expect(r.dropped).toBe(false);
      expect(r.words).toMatch(/is left on the server: database ".*" is being accessed by other users\. Drop it/);
      expect(await exists()).toBe(true);
    } finally {
      await held.end();
    }
  });
});

describe("a restore whose manifest is gone", () => {
  it("is refused with the reason, and the failed read is not left unheard (an unhandled rejection ends the worker)", async () => {
    const env = await makeEnv({ seed: true });
    try {
      const id = await fullBackup(env);
      const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
      await env.ctx.storage.delete(keysForJob(env.ctx, job).manifest);
      const { status, row } = await restore(env, id);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toMatch(/^The backup failed verification: manifest unreadable: object not found: .*manifest\.json\. Nothing was changed\.$/);
      // A rejection nobody heard surfaces a tick later: Vitest fails the run on one.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await env.cleanup();
    }
  });
});
