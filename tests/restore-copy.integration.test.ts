// A restore into a copy beside the live database (decision 169). The night a migration
// dropped a column (or a script deleted the wrong rows) an hour ago, and users have written
// since: replacing the database would bring the column back and lose every write since.
// What the careful operator does is restore the backup beside the live database and read
// the lost data back from it. Now Vaultline does that: the backup is restored into
// `<db>__copy_<id>` on the target's server, checked as a swap's copy is, and kept for
// RESTORE_KEEP_PREVIOUS_HOURS; the live database is not touched, and no safety backup is
// taken. Judged by catalogue-and-data fingerprints of both databases, on the application
// fixture and its later migration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { asAppRole, buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";
import { fullBackup } from "./support/restore-steps";
import { dropExpiredPrevious, dropKeptDatabase, keepKeptDatabaseLonger, runRestore, startCopyRestore, startRestore, undoRestore } from "../lib/backup/restore";
import { copyProblems, type TargetCapabilities } from "../lib/backup/restore-plan";
import { databaseOf, withDatabase } from "../lib/backup/swap";
import { previewRestore } from "../lib/backup/preview";
import { restoreKey } from "../lib/backup/mirror";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const fingerprint = (url: string) => catalogFingerprint(sql, url);
const exists = async (name: string) => (await sql(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = $1", [name])).length === 1;
/** Everything but the database's own line (its name, comment and grants are the live one's, not a copy's). */
const objects = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).filter(([k]) => k !== "database"));

afterAll(async () => {
  await stopBosses();
});

describe.each(["auto", "in-place"] as const)("a restore into a copy beside the live database (RESTORE_STRATEGY=%s)", (setting) => {
  let env: TestEnv;
  let backupId: string;
  let atBackup: Record<string, string>;
  let liveNow: Record<string, string>;

  beforeAll(async () => {
    // The copy is made the same way whatever the live database's restores are set to do.
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: setting, restoreJobs: 2 } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    atBackup = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    // The bad migration, and the writes since.
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    await sql(env.targetUrl, "INSERT INTO public.audit_log (what) SELECT 'after the migration ' || g FROM generate_series(1, 500) g");
    liveNow = await fingerprint(env.targetUrl);
    expect(liveNow).not.toEqual(atBackup);
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
  });

  it("the preview warns a copy of nothing the live database would lose: the copy changes none of it", async () => {
    const p = await previewRestore(env.ctx, backupId);
    const liveOnly = [/^Tables that exist now and will be DROPPED: .*reports\.daily/, /^Functions that exist now and will be REMOVED/, /^Owners go back|^Schemas that exist now/];
    expect(p.warnings.some((w) => liveOnly[0].test(w))).toBe(true);
    expect(p.warnings.some((w) => liveOnly[1].test(w))).toBe(true);
    for (const re of liveOnly) expect(p.copyWarnings.filter((w) => re.test(w))).toEqual([]);
    // What concerns a copy too is said to both.
    expect(p.copyWarnings.every((w) => p.warnings.includes(w))).toBe(true);
  });

  it("restores the backup exactly into <db>__copy_<id>, leaves the live database as it is, and takes no safety backup", async () => {
    const before = await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE" } });
    const { restoreId, preRestoreBackupId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(preRestoreBackupId).toBeNull();
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    const copy = `${databaseOf(env.targetUrl)}__copy_${restoreId}`;
    expect(row).toMatchObject({ strategy: "copy", safetyBackupId: null, previousDatabase: copy, failureReason: null, swapSeconds: null, checks: null });
    expect(row.keepUntil!.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE" } })).toBe(before);
    // The live database: every write since the backup, the migration included.
    expect(await fingerprint(env.targetUrl)).toEqual(liveNow);
    // The copy: the backup, every object with its owner and grants, every row.
    expect(objects(await fingerprint(withDatabase(env.targetUrl, copy)))).toEqual(objects(atBackup));
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.requested" }, orderBy: { at: "desc" } });
    expect(audit.details).toMatchObject({ restoreId, into: "copy", safetyBackupId: null });
  });

  it("cannot be undone (nothing live changed); its copy is dropped once its time is up", async () => {
    const row = await env.db.restoreJob.findFirstOrThrow({ where: { strategy: "copy" }, orderBy: { createdAt: "desc" } });
    await expect(undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" })).rejects.toThrow(
      "This restore cannot be undone: it restored a copy beside the live database, which it never changed",
    );
    expect(await dropExpiredPrevious(env.ctx, new Date(Date.now() + 48 * 3600_000))).toEqual([row.previousDatabase]);
    expect(await exists(row.previousDatabase!)).toBe(false);
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: row.id } })).previousDroppedAt).not.toBeNull();
    const dropped = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.copy_dropped" } });
    expect(dropped.details).toMatchObject({ restoreId: row.id, database: row.previousDatabase });
    expect(await fingerprint(env.targetUrl)).toEqual(liveNow);
  });
});

describe("dropping a kept database now (decision 170)", () => {
  let env: TestEnv;
  let backupId: string;
  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    backupId = await fullBackup(env);
  }, 300_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("a copy: only with the word; dropped, audited with who asked; a second time answers what happened", async () => {
    const { restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const copy = `${databaseOf(env.targetUrl)}__copy_${restoreId}`;
    await expect(dropKeptDatabase(env.ctx, restoreId, SYSTEM, { confirm: "drop" })).rejects.toMatchObject({ code: "CONFIRMATION_REQUIRED" });
    expect(await exists(copy)).toBe(true);
    const live = await fingerprint(env.targetUrl);
    const r = await dropKeptDatabase(env.ctx, restoreId, { type: "user", id: null, label: "ops@example.com" }, { confirm: "DROP" });
    expect(r).toEqual({ restoreId, database: copy, droppedAt: expect.any(String) });
    expect(await exists(copy)).toBe(false);
    expect(await fingerprint(env.targetUrl)).toEqual(live);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.copy_dropped" } });
    expect(audit).toMatchObject({ actorType: "user", actorLabel: "ops@example.com" });
    expect(audit.details).toMatchObject({ restoreId, database: copy });
    await expect(dropKeptDatabase(env.ctx, restoreId, SYSTEM, { confirm: "DROP" })).rejects.toThrow(`The database this restore kept (${copy}) was already dropped`);
    // The sweep finds nothing left to drop.
    expect(await dropExpiredPrevious(env.ctx, new Date(Date.now() + 48 * 3600_000))).toEqual([]);
  });

  it("a copy kept longer (decision 172): the sweep leaves it until then, never sooner than it was kept, and drops it after", async () => {
    const { restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    const copy = row.previousDatabase!;
    const ops = { type: "user" as const, id: null, label: "ops@example.com" };
    const r = await keepKeptDatabaseLonger(env.ctx, restoreId, ops, { hours: 72 });
    expect(r).toEqual({ restoreId, database: copy, keepUntil: expect.any(String), before: row.keepUntil!.toISOString() });
    expect(new Date(r.keepUntil).getTime() - Date.now()).toBeGreaterThan(71 * 3600_000);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.kept_longer" } });
    expect(audit).toMatchObject({ actorType: "user", actorLabel: "ops@example.com" });
    expect(audit.details).toMatchObject({ restoreId, database: copy, hours: 72, before: row.keepUntil!.toISOString(), keepUntil: r.keepUntil });
    // At 48 h the sweep would have dropped it (kept 24 h): it stays.
    expect(await dropExpiredPrevious(env.ctx, new Date(Date.now() + 48 * 3600_000))).toEqual([]);
    expect(await exists(copy)).toBe(true);
    // Asking for less than it is kept shortens nothing.
    expect((await keepKeptDatabaseLonger(env.ctx, restoreId, SYSTEM, { hours: 1 })).keepUntil).toBe(r.keepUntil);
    // The record in storage, from which a rebuilt catalogue is read, says it too.
    const stored = JSON.parse((await env.ctx.storage.getBytes(restoreKey(env.ctx, restoreId))).toString("utf8")) as { keepUntil: string };
    expect(stored.keepUntil).toBe(r.keepUntil);
    // Past it, the sweep drops it as before; then there is nothing to keep.
    expect(await dropExpiredPrevious(env.ctx, new Date(Date.now() + 73 * 3600_000))).toEqual([copy]);
    expect(await exists(copy)).toBe(false);
    await expect(keepKeptDatabaseLonger(env.ctx, restoreId, SYSTEM, { hours: 24 })).rejects.toThrow(`The database this restore kept (${copy}) was already dropped`);
  });

  it("a swap's previous database: dropped, and the restore can no longer be undone", async () => {
    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.strategy).toBe("swap");
    await dropKeptDatabase(env.ctx, restoreId, SYSTEM, { confirm: "DROP" });
    expect(await exists(row.previousDatabase!)).toBe(false);
    await expect(undoRestore(env.ctx, restoreId, SYSTEM, { confirm: "UNDO" })).rejects.toThrow("This restore cannot be undone: the previous database is no longer kept");
    expect((await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.previous_dropped" } })).details).toMatchObject({ restoreId, database: row.previousDatabase });
  });

  it("a restore that keeps nothing answers so", async () => {
    const env2 = await makeEnv({ seed: true, overrides: { restoreStrategy: "in-place" } });
    try {
      const id = await fullBackup(env2);
      const { restoreId } = await startRestore(env2.ctx, id, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(env2.ctx, restoreId)).toBe("SUCCEEDED");
      await expect(dropKeptDatabase(env2.ctx, restoreId, SYSTEM, { confirm: "DROP" })).rejects.toThrow("This restore keeps no database beside the live one");
      await expect(keepKeptDatabaseLonger(env2.ctx, restoreId, SYSTEM, { hours: 24 })).rejects.toThrow("This restore keeps no database beside the live one");
    } finally {
      await env2.cleanup();
    }
  });
});

describe("a restore into a copy where the live database is gone", () => {
  it("is refused with what to do instead, and nothing is made", async () => {
    const env = await makeEnv({ seed: true });
    try {
      const id = await fullBackup(env);
      const db = databaseOf(env.targetUrl);
      await sql(adminUrl(), `DROP DATABASE "${db}" WITH (FORCE)`);
      expect((await previewRestore(env.ctx, id)).copyWarnings).toEqual([
        `The database ${db} does not exist on the target's server, so there is nothing to restore a copy beside: restore the backup itself, which creates it.`,
      ]);
      const { restoreId } = await startCopyRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.failureReason).toBe(
        `The database ${db} does not exist on the target's server, so there is nothing to restore a copy beside: restore the backup itself, which creates it. Nothing was changed.`,
      );
      expect(await exists(db)).toBe(false);
      expect(await exists(`${db}__copy_${restoreId}`)).toBe(false);
    } finally {
      await env.cleanup();
    }
  });
});

describe("a restore into a copy through a role that may not create databases", () => {
  it("the preview's copy warnings say so before it is asked for (they said nothing), and the copy is refused with the same words", async () => {
    const role = "vl_copy_nocreate";
    await sql(adminUrl(), `DO $$ BEGIN CREATE ROLE ${role} LOGIN PASSWORD '${role}-pw' NOCREATEDB; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    const env = await makeEnv({ seed: false });
    try {
      await sql(adminUrl(), `ALTER DATABASE "${databaseOf(env.targetUrl)}" OWNER TO ${role}`);
      const u = new URL(env.targetUrl);
      u.username = role;
      u.password = `${role}-pw`;
      const ctx = { ...env.ctx, targetUrl: u.toString() };
      await sql(ctx.targetUrl, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 100) g");
      const backupId = await fullBackup({ ...env, ctx });
      const words = `A copy is restored into a database of its own beside the live one, and ${role} may not create databases (ALTER ROLE "${role}" CREATEDB;)`;
      const copyWarnings = (await previewRestore(ctx, backupId)).copyWarnings;
      expect(copyWarnings, JSON.stringify(copyWarnings)).toContain(`${words}. Until then a copy is refused.`);
      const { restoreId } = await startCopyRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(ctx, restoreId)).toBe("FAILED");
      expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toBe(`${words}. Nothing was changed.`);
    } finally {
      await env.cleanup();
    }
  });
});

describe("what a copy needs of the connecting role", () => {
  const cap = (over: Partial<TargetCapabilities>) => ({ user: "app", database: "shop", tablespace: "pg_default", createDb: true, tablespaceCreate: true, ...over }) as TargetCapabilities;
  it("only to create a database in the live one's tablespace: not to own the live database, nor to set its settings", () => {
    expect(copyProblems(cap({}))).toBeNull();
    expect(copyProblems(cap({ createDb: false }))).toBe('A copy is restored into a database of its own beside the live one, and app may not create databases (ALTER ROLE "app" CREATEDB;)');
    expect(copyProblems(cap({ tablespaceCreate: false, tablespace: "fast" }))).toBe(
      'A copy is restored into a database of its own beside the live one, and app may not create a database in shop\'s tablespace fast (GRANT CREATE ON TABLESPACE "fast" TO "app";)',
    );
  });
});
