// The sessions that hold Vaultline's locks live on Vaultline's own database, idle for the
// whole of a backup or a restore. That database may end them: a restart or failover, its
// idle_session_timeout, a DBA's pg_terminate_backend (decision 143). Before, each such end
// was an 'error' event with no listener — an uncaught exception, which ends the worker in
// the middle of its work — and the lock was silently free for a second operation on the
// same target. Now the holder takes its lock back, and when another took it first, the
// operation stops before it changes anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { databaseOf } from "../lib/backup/swap";
import { destructiveKeys, LOCK_BACKUP_TARGET, LockLostError, lockKeys, tryLock } from "../lib/backup/locks";
import { runBackup } from "../lib/backup/run-backup";
import { runRestore, startRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import { createDb, poolOf } from "../lib/db";

const NS = 0x7661_00ff; // a namespace of the test's own

afterAll(async () => {
  await stopBosses();
});

/** The pid holding advisory lock [a, b] in the database at url, or null. */
async function holderOf(url: string, [a, b]: [number, number]): Promise<number | null> {
  const rows = await sql<{ pid: number }>(
    url,
    `SELECT l.pid FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = ($1::bigint & 4294967295)::oid AND l.objid = ($2::bigint & 4294967295)::oid`,
    [a, b],
  );
  return rows[0]?.pid ?? null;
}

async function terminate(url: string, pid: number) {
  await sql(url, "SELECT pg_terminate_backend($1)", [pid]);
}

/** Another client waiting in pg_advisory_lock: the server grants it the moment the holder's session ends. */
async function waitingTaker(url: string, [a, b]: [number, number]) {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => undefined);
  await c.connect();
  const pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  const granted = c.query("SELECT pg_advisory_lock($1, $2)", [a, b]);
  granted.catch(() => undefined);
  await waitFor(async () => (await sql<{ w: boolean }>(url, "SELECT wait_event_type = 'Lock' AS w FROM pg_stat_activity WHERE pid = $1", [pid]))[0]?.w, 10_000, 50, "the taker waits");
  return { pid, granted, end: () => c.end().catch(() => undefined) };
}

describe("a lock whose session Vaultline's database ends", () => {
  let env: TestEnv;
  const unhandled: unknown[] = [];
  const onUncaught = (e: unknown) => unhandled.push(e);

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    process.on("uncaughtException", onUncaught);
  }, 120_000);

  afterAll(async () => {
    process.off("uncaughtException", onUncaught);
    await env.cleanup();
  });

  it("is taken back on a new session, held against others, and freed by release", async () => {
    const url = env.ctx.appDatabaseUrl;
    const k = lockKeys(NS, "taken back");
    const held = await tryLock(url, NS, "taken back");
    expect(held).not.toBeNull();
    const first = await holderOf(url, k);
    expect(first).not.toBeNull();

    await terminate(url, first!);
    const second = await waitFor(async () => {
      const pid = await holderOf(url, k);
      return pid !== null && pid !== first ? pid : null;
    }, 10_000, 50, "the lock taken back");
    expect(second).not.toBe(first);
    expect(held!.lost.aborted).toBe(false);
    expect(await tryLock(url, NS, "taken back")).toBeNull();

    // Again: the new session is watched as the first was.
    await terminate(url, second);
    await waitFor(async () => {
      const pid = await holderOf(url, k);
      return pid !== null && pid !== second ? pid : null;
    }, 10_000, 50, "the lock taken back a second time");

    await held!.release();
    const again = await tryLock(url, NS, "taken back");
    expect(again).not.toBeNull();
    await again!.release();
    expect(unhandled).toEqual([]);
  });

  it("taken by another operation before it could be taken back: lost aborts, and the other keeps it", async () => {
    const url = env.ctx.appDatabaseUrl;
    const k = lockKeys(NS, "taken over");
    const held = await tryLock(url, NS, "taken over");
    const taker = await waitingTaker(url, k);
    try {
      await terminate(url, (await holderOf(url, k))!);
      await taker.granted;
      await waitFor(async () => held!.lost.aborted, 10_000, 50, "lost aborts");
      expect(held!.lost.reason).toBeInstanceOf(LockLostError);
      expect(await holderOf(url, k)).toBe(taker.pid);
      await held!.release();
      expect(await holderOf(url, k)).toBe(taker.pid);
    } finally {
      await taker.end();
    }
    expect(unhandled).toEqual([]);
  });

  it("released while its session is gone: nothing is left holding it", async () => {
    const url = env.ctx.appDatabaseUrl;
    const k = lockKeys(NS, "released");
    const held = await tryLock(url, NS, "released");
    await terminate(url, (await holderOf(url, k))!);
    await held!.release();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await holderOf(url, k)).toBeNull();
    expect(unhandled).toEqual([]);
  });
});

describe("the application's pool when Vaultline's database ends an idle connection", () => {
  // The health probe and the bearer-token lookup read through the pool itself (poolOf),
  // before Prisma has connected (and added its own listener) in a process that has served
  // nothing else yet.
  it("drops the connection and answers the next query on a new one; the process lives", async () => {
    const unhandled: unknown[] = [];
    const onUncaught = (e: unknown) => unhandled.push(e);
    process.on("uncaughtException", onUncaught);
    const env = await makeEnv({ seed: false });
    const db = createDb(env.ctx.appDatabaseUrl);
    const pool = poolOf(db);
    try {
      const { rows: [{ pid }] } = await pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      expect(pool.idleCount).toBe(1);
      await terminate(env.ctx.appDatabaseUrl, pid);
      await waitFor(async () => pool.totalCount === 0, 5_000, 20, "the pool drops the ended connection");
      const { rows: [{ again }] } = await pool.query<{ again: number }>("SELECT pg_backend_pid() AS again");
      expect(again).not.toBe(pid);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await db.$disconnect();
      await env.cleanup();
    }
  });
});

describe("backups and restores while Vaultline's database ends sessions", () => {
  let env: TestEnv;
  const unhandled: unknown[] = [];
  const onUncaught = (e: unknown) => unhandled.push(e);
  const ROWS = 900_000;
  // The sessions' timeout is half a second; the backup (about 2 s here) must outlast two of
  // them. The margin no longer hangs on how fast the machine is this hour: a 1 s timeout
  // against a 1.5 s floor once measured 1.45 s on a clean clone.
  const IDLE_TIMEOUT_MS = 500;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    await sql(
      env.targetUrl,
      `DO $$ BEGIN CREATE ROLE lock_app_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
       CREATE SCHEMA app AUTHORIZATION lock_app_owner;
       CREATE TABLE app.events (id int PRIMARY KEY, body text); ALTER TABLE app.events OWNER TO lock_app_owner;
       INSERT INTO app.events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, ${ROWS}) g;
       CREATE VIEW app.recent AS SELECT id FROM app.events WHERE id > ${ROWS - 100}; ALTER VIEW app.recent OWNER TO lock_app_owner;`,
    );
    process.on("uncaughtException", onUncaught);
  }, 300_000);

  afterAll(async () => {
    process.off("uncaughtException", onUncaught);
    await env.cleanup();
  });

  it("with an idle_session_timeout shorter than the work: the backup and the restore run to the end, exact, and the process lives", async () => {
    const db = databaseOf(env.ctx.appDatabaseUrl);
    await sql(env.ctx.appDatabaseUrl, `ALTER DATABASE "${db}" SET idle_session_timeout = '${IDLE_TIMEOUT_MS}ms'`);
    try {
      const before = await catalogFingerprint(sql, env.targetUrl);
      const id = await fullBackup(env);
      const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
      expect(job.completedAt!.getTime() - job.startedAt!.getTime(), "the backup must outlast the timeout for this test to mean anything").toBeGreaterThan(2 * IDLE_TIMEOUT_MS);
      await sql(env.targetUrl, "DELETE FROM app.events WHERE id % 3 = 0; DROP VIEW app.recent;");
      const { status, row } = await restore(env, id);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
      expect(unhandled).toEqual([]);
    } finally {
      await sql(env.ctx.appDatabaseUrl, `ALTER DATABASE "${db}" RESET idle_session_timeout`);
    }
  });

  it("a backup whose lock another backup of the target took while its session was gone stops, and says why", async () => {
    const url = env.ctx.appDatabaseUrl;
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const running = runBackup(env.ctx, job.id);
    const k = lockKeys(LOCK_BACKUP_TARGET, "default");
    const holder = await waitFor(() => holderOf(url, k), 20_000, 20, "the backup holds its lock");
    const taker = await waitingTaker(url, k);
    try {
      await terminate(url, holder);
      const r = await running;
      expect(r.failureReason).toMatch(/lock was lost/);
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.status).toBe("FAILED");
    } finally {
      await taker.end();
    }
    expect(unhandled).toEqual([]);
  });

  it("a swap restore whose lock another operation took stops before the swap: the live database is as it was", async () => {
    const url = env.ctx.appDatabaseUrl;
    const id = await fullBackup(env);
    await sql(env.targetUrl, "UPDATE app.events SET body = 'changed since' WHERE id <= 10");
    const before = await catalogFingerprint(sql, env.targetUrl);
    const { restoreId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
    const running = runRestore(env.ctx, restoreId);
    const k = destructiveKeys("default");
    await waitFor(async () => {
      const r = await env.db.restoreJob.findUnique({ where: { id: restoreId } });
      return r?.phase === "restoring beside the live database";
    }, 60_000, 20, "the restore loads the copy");
    const taker = await waitingTaker(url, k);
    try {
      await terminate(url, (await holderOf(url, k))!);
      expect(await running).toBe("FAILED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.failureReason).toMatch(/lock was lost.*live database was never touched/);
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
      const leftovers = await sql<{ n: number }>(env.targetUrl, "SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1", [`%${restoreId}%`]);
      expect(leftovers[0].n).toBe(0);
    } finally {
      await taker.end();
    }
    expect(unhandled).toEqual([]);
  });
});
