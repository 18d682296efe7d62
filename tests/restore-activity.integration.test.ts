// Decision 157: a running restore says what the server is doing for it. A restore that waits
// for another session's lock looked exactly like one that works (the bar stood still, the
// phase said "restoring database"), and after the rows were in the bar said nothing until
// every index was built. Sampled from the restore's row while real restores run, on a
// database shaped like an application's: an owner role, a schema of its own, foreign keys, an
// expression index, and a report that keeps a transaction open on a table the restore replaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { urlAs } from "./support/pg";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { startRestore, runRestore } from "../lib/backup/restore";
import { getRestore } from "../lib/backup/restores-catalog";
import { swapNames, databaseOf } from "../lib/backup/swap";
import type { RestoreActivityDto } from "../lib/validation/restores";
import { SYSTEM } from "../lib/audit";
import { END_BLOCKING_AFTER_SECONDS } from "../lib/validation/restores";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

async function buildDatabase(url: string, rows: number) {
  await sql(url, `DO $$ BEGIN CREATE ROLE ledger_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await sql(
    url,
    `CREATE SCHEMA ledger AUTHORIZATION ledger_owner;
     CREATE TABLE ledger.accounts (id bigint PRIMARY KEY, email text NOT NULL, opened date NOT NULL);
     CREATE TABLE ledger.entries (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES ledger.accounts, amount numeric(12,2) NOT NULL, memo text NOT NULL);
     INSERT INTO ledger.accounts SELECT g, 'user' || g || '@example.com', date '2020-01-01' + (g % 1500) FROM generate_series(1, ${Math.max(1, rows / 10)}) g;
     INSERT INTO ledger.entries SELECT g, 1 + g % ${Math.max(1, rows / 10)}, (g % 100000) / 100.0, md5(g::text) FROM generate_series(1, ${rows}) g;
     CREATE UNIQUE INDEX accounts_email_lower ON ledger.accounts (lower(email));
     CREATE INDEX entries_account_idx ON ledger.entries (account_id);
     CREATE INDEX entries_memo_idx ON ledger.entries (memo);
     ALTER TABLE ledger.accounts OWNER TO ledger_owner;
     ALTER TABLE ledger.entries OWNER TO ledger_owner;`,
  );
}

/** Samples the restore's row until the restore ends. */
async function sampleWhile(env: TestEnv, restoreId: string, run: Promise<unknown>) {
  const samples: { phase: string | null; activity: RestoreActivityDto | null }[] = [];
  let done = false;
  void run.finally(() => (done = true));
  while (!done) {
    const r = await env.db.restoreJob.findUnique({ where: { id: restoreId } });
    if (r) samples.push({ phase: r.phase, activity: (r.activity as RestoreActivityDto | null) ?? null });
    await new Promise((res) => setTimeout(res, 20));
  }
  return samples;
}

/** A report that reads a table and leaves its transaction open: it holds ACCESS SHARE until it ends. */
async function openReport(url: string, application = "nightly-report") {
  const c = new pg.Client({ connectionString: url, application_name: application });
  // Ended from the server's side (decision 185): an 'error' event, not a crash of the test.
  c.on("error", () => undefined);
  await c.connect();
  await c.query("BEGIN; SELECT count(*) FROM ledger.accounts");
  const pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  return { pid, client: c };
}

describe("an in-place restore that waits for a session's lock", () => {
  let env: TestEnv;
  let backupId: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place", heartbeatMs: 40, restoreLockTimeoutSeconds: 30 } });
    await buildDatabase(env.targetUrl, 2000);
    before = await catalogFingerprint(sql, env.targetUrl);
    backupId = await fullBackup(env);
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 3 = 0");
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("names the session it waits for while it waits, and goes on once that session commits", async () => {
    const report = await openReport(env.targetUrl);
    try {
      const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      const run = runRestore(env.ctx, restoreId);
      // The report lets go once the restore has been seen waiting for it for a while.
      let seenWaiting: RestoreActivityDto["sessions"][number] | undefined;
      const released = (async () => {
        for (let i = 0; i < 1500 && !seenWaiting; i++) {
          const r = await env.db.restoreJob.findUnique({ where: { id: restoreId } });
          const a = r?.activity as RestoreActivityDto | null;
          seenWaiting = a?.sessions.find((s) => s.waitingFor.some((b) => b.pid === report.pid) && s.seconds >= 1);
          if (!seenWaiting) await new Promise((res) => setTimeout(res, 20));
        }
        // What the restore's page gets meanwhile.
        const dto = await getRestore(env.db, restoreId);
        await report.client.query("COMMIT");
        return dto;
      })();
      const [status, dto] = await Promise.all([run, released]);
      expect(seenWaiting, "the restore was seen waiting for the report").toBeDefined();
      expect(seenWaiting!.waitingFor).toEqual([
        expect.objectContaining({ pid: report.pid, application: "nightly-report", state: "idle in transaction", kind: "client backend" }),
      ]);
      expect(seenWaiting!.waitingFor[0].transactionSeconds).toBeGreaterThanOrEqual(1);
      expect(dto.activity?.sessions.some((s) => s.waitingFor.some((b) => b.pid === report.pid))).toBe(true);

      expect(status).toBe("SUCCEEDED");
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
      // Live state only: gone once the database part ended.
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.activity).toBeNull();
      expect((await getRestore(env.db, restoreId)).activity).toBeNull();
    } finally {
      await report.client.end();
    }
  });

  it("fails at its lock timeout, rolled back, and the reason names the session that held the lock", async () => {
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 5 = 0");
    const changed = await catalogFingerprint(sql, env.targetUrl);
    const report = await openReport(env.targetUrl);
    try {
      const ctx = { ...env.ctx, restoreLockTimeoutSeconds: 2 };
      const { restoreId } = await startRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(ctx, restoreId)).toBe("FAILED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.failureReason).toMatch(/lock timeout/);
      expect(row.failureReason).toMatch(/rolled back: the database is exactly as it was/);
      expect(row.failureReason).toContain(`for a lock held by pid ${report.pid} (user `);
      expect(row.failureReason).toContain(`application "nightly-report"`);
      expect(row.failureReason).toMatch(/idle in transaction \(transaction open \d+ s\)/);
      // The report's query text never reaches the reason.
      expect(row.failureReason).not.toContain("count(*)");
      expect(row.activity).toBeNull();
      const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.failed", details: { path: ["restoreId"], equals: restoreId } } });
      expect(JSON.stringify(audit.details)).toContain(`pid ${report.pid}`);
    } finally {
      await report.client.end();
    }
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(changed);
  });
});

describe("a swap restore's indexes and constraints", () => {
  let env: TestEnv;
  let backupId: string;
  let before: Record<string, string>;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, heartbeatMs: 40 } });
    // Enough rows that each index takes a while to build, so a sample catches one building.
    await buildDatabase(env.targetUrl, 1_500_000);
    before = await catalogFingerprint(sql, env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
  });

  it("are counted as they are made, and each build in progress is named with its phase", async () => {
    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    const run = runRestore(env.ctx, restoreId);
    const samples = await sampleWhile(env, restoreId, run);
    expect(await run).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);

    // Two primary keys, the unique expression index, two indexes and the foreign key.
    const counted = samples.flatMap((s) => (s.activity?.items ? [s.activity.items] : []));
    expect(counted.length).toBeGreaterThan(3);
    for (const c of counted) expect(c.of).toBe(6);
    for (let i = 1; i < counted.length; i++) expect(counted[i].made, `sample ${i}`).toBeGreaterThanOrEqual(counted[i - 1].made);
    expect(counted[0].made).toBeLessThan(6);
    // The count's end (6 of 6) is a moment before the copy is checked and the column cleared, and
    // a sample may miss it; streamed-restore's test reads it where it is set.
    expect(counted[counted.length - 1].made).toBeLessThanOrEqual(6);
    expect(counted.some((c) => c.made > 0)).toBe(true);

    const builds = samples.flatMap((s) => s.activity?.sessions ?? []).filter((s) => s.doing === "index" || s.doing === "constraint");
    expect(builds.length).toBeGreaterThan(0);
    const names = new Set(["accounts_pkey", "entries_pkey", "accounts_email_lower", "entries_account_idx", "entries_memo_idx", "entries_account_id_fkey"]);
    for (const b of builds) {
      expect(names.has(b.name!), `named ${b.name}`).toBe(true);
      expect(b.table).toMatch(/^ledger\.(accounts|entries)$/);
      if (b.total !== null && b.done !== null) expect(b.done).toBeLessThanOrEqual(b.total);
    }
    // pg_stat_progress_create_index's phases came through for at least one build.
    expect(builds.some((b) => b.phase !== null && /index|scanning|sorting|loading/.test(b.phase))).toBe(true);
    // Nothing else holds the fresh copy: no sample names a blocker.
    expect(samples.some((s) => s.activity?.sessions.some((x) => x.waitingFor.length > 0))).toBe(false);
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).activity).toBeNull();
  });
});

/** Resolves once the session `pid` is gone from the server. */
async function gone(pid: number) {
  for (let i = 0; i < 200; i++) {
    const [{ n }] = await sql<{ n: number }>(adminUrl(), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [pid]);
    if (n === 0) return true;
    await new Promise((res) => setTimeout(res, 50));
  }
  return false;
}

// Decision 185: asked to, the restore ends a session that holds a lock it waits for once it
// has held it for END_BLOCKING_AFTER_SECONDS, and says so; where PostgreSQL refuses (a
// superuser's session, a role without the right), it says that and waits as before.
describe("an in-place restore asked to end the sessions that block it", () => {
  let env: TestEnv;
  let backupId: string;
  let before: Record<string, string>;
  const OWNER = "ledger_owner";

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place", heartbeatMs: 40, restoreLockTimeoutSeconds: 60 } });
    await buildDatabase(env.targetUrl, 2000);
    before = await catalogFingerprint(sql, env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("ends the report's session after the grace period, restores exactly, and names it in the warnings and the audit log", async () => {
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 3 = 0; DROP INDEX ledger.entries_memo_idx");
    const report = await openReport(env.targetUrl);
    try {
      const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE", endBlockingSessions: true });
      expect((await getRestore(env.db, restoreId)).endBlockingSessions).toBe(true);
      const t0 = Date.now();
      expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
      // Waited its grace period, not its lock timeout (60 s).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(END_BLOCKING_AFTER_SECONDS * 1000);
      expect(Date.now() - t0).toBeLessThan(45_000);
      expect(await gone(report.pid)).toBe(true);
      await expect(report.client.query("SELECT 1")).rejects.toThrow();
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);

      const row = await getRestore(env.db, restoreId);
      const said = row.warnings.find((w) => w.startsWith("Ended pid"));
      expect(said).toContain(`Ended pid ${report.pid} (user `);
      expect(said).toContain(`application "nightly-report"`);
      expect(said).toMatch(/idle in transaction \(transaction open \d+ s\): it held a lock the restore waited for/);
      expect(said).not.toContain("count(*)");
      const ended = await env.db.auditEvent.findMany({ where: { action: "restore.session_ended", details: { path: ["restoreId"], equals: restoreId } } });
      expect(ended).toHaveLength(1);
      expect(ended[0].details).toMatchObject({ session: { pid: report.pid, application: "nightly-report", state: "idle in transaction" } });
    } finally {
      await report.client.end().catch(() => undefined);
    }
  });

  it("through a role that may not end it (a superuser's session): says why, waits for it as before, then restores exactly", async () => {
    await sql(adminUrl(), `ALTER ROLE ${OWNER} LOGIN PASSWORD '${OWNER}-pw'; ALTER DATABASE "${databaseOf(env.targetUrl)}" OWNER TO ${OWNER}`);
    await sql(env.targetUrl, `ALTER SCHEMA public OWNER TO ${OWNER}`);
    const ctx = { ...env.ctx, targetUrl: urlAs(env.targetUrl, OWNER, `${OWNER}-pw`) };
    // The database's new owner may not give it back to the backup's (a superuser): the restore
    // says so and keeps the owner, with its own privileges (decision 194).
    const expected = { ...before, database: (await catalogFingerprint(sql, env.targetUrl)).database };
    expect(expected.database).toMatch(/^ledger_owner \|/);
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 7 = 0");
    // The report runs as the superuser (env.targetUrl's role): the owner may not end it.
    const report = await openReport(env.targetUrl);
    try {
      const { restoreId } = await startRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE", endBlockingSessions: true });
      const run = runRestore(ctx, restoreId);
      // The refusal is audited while the restore still waits; then the report commits.
      let refused: { details: unknown } | null = null;
      for (let i = 0; i < 600 && !refused; i++) {
        refused = await env.db.auditEvent.findFirst({ where: { action: "restore.session_not_ended", details: { path: ["restoreId"], equals: restoreId } } });
        if (!refused) await new Promise((res) => setTimeout(res, 50));
      }
      expect(refused, "the refused attempt is audited").not.toBeNull();
      expect(refused!.details).toMatchObject({ session: { pid: report.pid }, reason: expect.stringMatching(/superuser.*terminate|terminate.*superuser/i) });
      await report.client.query("COMMIT");
      expect(await run).toBe("SUCCEEDED");
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(expected);
      const row = await getRestore(env.db, restoreId);
      expect(row.warnings.join(" ")).toMatch(new RegExp(`Could not end pid ${report.pid} .*terminate superuser process.*The restore waited for it instead\\.`));
      expect(row.warnings.join(" ")).toMatch(/backup's owner, grants, comment and settings: ALTER DATABASE "[^"]+" OWNER TO "[^"]+" \(must be [^)]*\); still different: Owner: ledger_owner → /);
      // The report's session was not touched.
      expect((await report.client.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    } finally {
      await report.client.end().catch(() => undefined);
    }
  });

  it("spares Vaultline's own pool by the application_name DATABASE_URL gives it (decision 188)", async () => {
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 5 = 0");
    // Vaultline restoring its own database, its pool named by its URL, one of whose sessions holds a lock.
    const appUrl = new URL(env.ctx.appDatabaseUrl);
    appUrl.searchParams.set("application_name", "ops-dashboard");
    const ctx = { ...env.ctx, appDatabaseUrl: appUrl.toString() };
    const pool = await openReport(env.targetUrl, "ops-dashboard");
    try {
      const { restoreId } = await startRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE", endBlockingSessions: true });
      const run = runRestore(ctx, restoreId);
      // Past the grace period, and then some: the session is still there.
      await new Promise((res) => setTimeout(res, (END_BLOCKING_AFTER_SECONDS + 4) * 1000));
      expect((await pool.client.query("SELECT 1 AS one")).rows[0].one).toBe(1);
      await pool.client.query("COMMIT");
      expect(await run).toBe("SUCCEEDED");
      const row = await getRestore(env.db, restoreId);
      expect(row.warnings.join(" ")).not.toMatch(/Ended pid|Could not end pid/);
      expect(await env.db.auditEvent.count({ where: { action: { in: ["restore.session_ended", "restore.session_not_ended"] }, details: { path: ["restoreId"], equals: restoreId } } })).toBe(0);
      const expected = { ...before, database: (await catalogFingerprint(sql, env.targetUrl)).database };
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(expected);
    } finally {
      await pool.client.end().catch(() => undefined);
    }
  });

  it("is refused for a restore into a copy, which nothing else uses", async () => {
    const { startCopyRestore } = await import("../lib/backup/restore");
    await expect(startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE", endBlockingSessions: true })).rejects.toThrow(/a restore into a copy waits for none/);
  });
});
