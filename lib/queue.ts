// pg-boss: the job queue and cron in PostgreSQL (its own `pgboss` schema in Vaultline's
// database). BackupJob/RestoreJob rows stay the truth; queue messages only carry ids.
import { PgBoss, type JobWithMetadata } from "pg-boss";
import type pg from "pg";
import { newClient } from "./backup/pg-client";
import { poolConfig } from "./backup/pg-url";
import { componentLogger } from "./log";

export const QUEUES = {
  backup: "vaultline.backup",
  restore: "vaultline.restore",
  verify: "vaultline.verify",
  drill: "vaultline.drill",
  maintenance: "vaultline.maintenance",
  schedule: "vaultline.schedule",
  drillSchedule: "vaultline.drill-schedule",
  reencrypt: "vaultline.reencrypt",
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** pg-boss's schema in Vaultline's database (also left out of backups of that database). */
export const BOSS_SCHEMA = "pgboss";
/** Where a pg-boss 10 schema is parked while its waiting jobs move to the current one. */
export const LEGACY_BOSS_SCHEMA = "pgboss_v10";
/** The last schema version written by pg-boss 10.x; pg-boss 12 migrates only from 25 (11.x) up. */
const LAST_V10_SCHEMA_VERSION = 24;
/** Serialises the pg-boss 10 hand-over between replicas starting together. */
const LEGACY_LOCK_KEY = 7_262_736_710;

// A job whose worker died is failed by our own sweep (heartbeat), not by pg-boss's expiry
// or retries: pg-boss would run a backup a second time behind the sweep's back.
const QUEUE_OPTIONS = { retryLimit: 0, expireInSeconds: 23 * 3600 } as const;

const log = componentLogger("queue");

// Replicas starting together on a fresh database create the same queues at the same
// moment, and pg-boss's create_queue() can deadlock with itself (40P01, one side is
// aborted): retry the victim, since the other side's queue is then there.
async function createQueueOnce(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await boss.getQueue(name);
      if (!existing) await boss.createQueue(name, QUEUE_OPTIONS);
      else if (existing.retryLimit !== QUEUE_OPTIONS.retryLimit || existing.expireInSeconds !== QUEUE_OPTIONS.expireInSeconds) {
        await boss.updateQueue(name, QUEUE_OPTIONS);
      }
      return;
    } catch (e) {
      const err = e as Error & { code?: string };
      if (/exists/i.test(err.message)) return;
      if (err.code !== "40P01" || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
    }
  }
}

async function schemaVersion(client: pg.ClientBase, schema: string): Promise<number | null> {
  const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [`${schema}.version`]);
  if (!rows[0]?.t) return null;
  const v = await client.query<{ version: number }>(`SELECT version FROM "${schema}".version`);
  return v.rows[0] ? Number(v.rows[0].version) : null;
}

/**
 * pg-boss 11 and 12 cannot migrate a pg-boss 10 schema (they start from version 25), so a
 * catalogue from an older Vaultline is handed over here: the old schema is renamed out of
 * the way before pg-boss installs its own, and {@link adoptLegacyJobs} then moves the jobs
 * that were still waiting. Cron schedules are not moved: the scheduler re-applies them from
 * the settings. Returns whether a legacy schema is waiting to be adopted.
 */
async function parkLegacySchema(url: string): Promise<boolean> {
  const client = await newClient(url, { application_name: "vaultline-queue" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LEGACY_LOCK_KEY]);
    const version = await schemaVersion(client, BOSS_SCHEMA);
    if (version !== null && version <= LAST_V10_SCHEMA_VERSION) {
      const parked = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [LEGACY_BOSS_SCHEMA]);
      // A second legacy copy would mean a first hand-over never finished: keep both, refuse.
      if (parked.rowCount) throw new Error(`both ${BOSS_SCHEMA} (pg-boss 10) and ${LEGACY_BOSS_SCHEMA} exist; drop one of them`);
      await client.query(`ALTER SCHEMA "${BOSS_SCHEMA}" RENAME TO "${LEGACY_BOSS_SCHEMA}"`);
      log.warn({ version }, `pg-boss 10 schema renamed to ${LEGACY_BOSS_SCHEMA}; its waiting jobs move to the new queue`);
    }
    const { rowCount } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [LEGACY_BOSS_SCHEMA]);
    return !!rowCount;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LEGACY_LOCK_KEY]).catch(() => {});
    await client.end().catch(() => {});
  }
}

/**
 * Re-sends the jobs a pg-boss 10 schema still held (created or retry, on Vaultline's
 * queues) and drops that schema, in one transaction: a crash half-way leaves it to the next
 * start, and a second replica waits on the lock and then finds nothing to do.
 */
async function adoptLegacyJobs(url: string, boss: PgBoss): Promise<number> {
  const client = await newClient(url, { application_name: "vaultline-queue" });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [LEGACY_LOCK_KEY]);
    const { rowCount } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [LEGACY_BOSS_SCHEMA]);
    if (!rowCount) {
      await client.query("ROLLBACK");
      return 0;
    }
    const { rows } = await client.query<{ name: string; data: object | null; singleton_key: string | null; start_after: Date; priority: number }>(
      `SELECT name, data, singleton_key, start_after, priority FROM "${LEGACY_BOSS_SCHEMA}".job
        WHERE state IN ('created', 'retry') AND name = ANY($1::text[]) ORDER BY created_on`,
      [Object.values(QUEUES).filter((q) => q !== QUEUES.schedule && q !== QUEUES.drillSchedule)],
    );
    const db = { executeSql: (text: string, values?: unknown[]) => client.query(text, values as unknown[]) };
    for (const r of rows) {
      await boss.send(r.name, r.data ?? {}, {
        ...(r.singleton_key ? { singletonKey: r.singleton_key } : {}),
        ...(r.start_after > new Date() ? { startAfter: r.start_after } : {}),
        priority: r.priority,
        db,
      });
    }
    await client.query(`DROP SCHEMA "${LEGACY_BOSS_SCHEMA}" CASCADE`);
    await client.query("COMMIT");
    log.warn({ jobs: rows.length }, `pg-boss 10 jobs moved; ${LEGACY_BOSS_SCHEMA} dropped`);
    return rows.length;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    await client.end().catch(() => {});
  }
}

interface BossEntry {
  boss: Promise<PgBoss>;
  /** This process's workers per queue, so a local send can wake them (see wakeLocalWorkers). */
  workers: Map<string, Set<string>>;
}

// The queue connection is the one thing on globalThis besides Prisma: Next bundles
// instrumentation and route handlers separately, and both must share it.
const g = globalThis as unknown as { __vaultlineQueue?: Map<string, BossEntry> };

function entry(url: string, opts: { supervise?: boolean; schedule?: boolean }): BossEntry {
  g.__vaultlineQueue ??= new Map();
  let e = g.__vaultlineQueue.get(url);
  if (!e) {
    const boss = (async () => {
      const legacy = await parkLegacySchema(url);
      const b = new PgBoss({
        ...poolConfig(url),
        schema: BOSS_SCHEMA,
        application_name: "vaultline-queue",
        max: 4,
        supervise: opts.supervise ?? true,
        schedule: opts.schedule ?? true,
      });
      b.on("error", (err) => log.error({ err: err.message }, "pg-boss error"));
      await b.start();
      for (const name of Object.values(QUEUES)) await createQueueOnce(b, name);
      if (legacy) await adoptLegacyJobs(url, b);
      return b;
    })();
    e = { boss, workers: new Map() };
    g.__vaultlineQueue.set(url, e);
    boss.catch(() => g.__vaultlineQueue?.delete(url));
  }
  return e;
}

/** One started pg-boss per database URL per process. */
export function getBoss(url: string, opts: { supervise?: boolean; schedule?: boolean } = {}): Promise<PgBoss> {
  return entry(url, opts).boss;
}

export async function stopBosses(): Promise<void> {
  const all = [...(g.__vaultlineQueue?.values() ?? [])];
  g.__vaultlineQueue?.clear();
  await Promise.all(all.map(async (e) => (await e.boss.catch(() => null))?.stop({ graceful: false }).catch(() => {})));
}

/** A queue handler's handle. */
export interface QueueWorker {
  queue: QueueName;
  stop(): Promise<void>;
}

/**
 * Works a queue of the database at `url`, one job at a time per handler (`concurrency`
 * handlers, default 1), polled every second and woken at once by sends from this process.
 */
export async function workQueue<T extends object>(
  url: string,
  queue: QueueName,
  handler: (job: { id: string; data: T; createdOn: Date }) => Promise<unknown>,
  opts: { concurrency?: number } = {},
): Promise<QueueWorker> {
  const e = entry(url, {});
  const boss = await e.boss;
  const options = { batchSize: 1, pollingIntervalSeconds: 1, includeMetadata: true, localConcurrency: opts.concurrency ?? 1 } as const;
  const id = await boss.work<T, unknown, typeof options>(queue, options, async (jobs: JobWithMetadata<T>[]) => {
    const [job] = jobs;
    await handler({ id: job.id, data: job.data, createdOn: job.createdOn });
  });
  const set = e.workers.get(queue) ?? new Set<string>();
  e.workers.set(queue, set);
  set.add(id);
  return {
    queue,
    async stop() {
      set.delete(id);
      await boss.offWork(queue, { id }).catch(() => {});
    },
  };
}

/**
 * Wakes this process's workers for a queue instead of waiting for their next poll (up to a
 * second per job); workers in other processes still pick the job up on their poll.
 */
export function wakeLocalWorkers(queue: string): void {
  for (const e of g.__vaultlineQueue?.values() ?? []) {
    const ids = e.workers.get(queue);
    if (!ids?.size) continue;
    void e.boss.then(
      (boss) => {
        for (const id of ids) {
          try {
            boss.notifyWorker(id);
          } catch {
            // A stopped worker: its poll loop is gone, nothing to wake.
          }
        }
      },
      () => {},
    );
  }
}
