// pg-boss: the job queue and cron in PostgreSQL (its own `pgboss` schema in Vaultline's
// database). BackupJob/RestoreJob rows stay the truth; queue messages only carry ids.
import PgBoss from "pg-boss";
import { componentLogger } from "./log";

export const QUEUES = {
  backup: "vaultline.backup",
  restore: "vaultline.restore",
  verify: "vaultline.verify",
  drill: "vaultline.drill",
  maintenance: "vaultline.maintenance",
  schedule: "vaultline.schedule",
} as const;

const log = componentLogger("queue");

const g = globalThis as unknown as { __vaultlineBoss?: Map<string, Promise<PgBoss>> };

// Replicas starting together on a fresh database create the same queues at the same
// moment, and pg-boss's create_queue() can deadlock with itself (40P01, one side is
// aborted): retry the victim, since the other side's queue is then there.
async function createQueueOnce(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (await boss.getQueue(name)) return;
      await boss.createQueue(name);
      return;
    } catch (e) {
      const err = e as Error & { code?: string };
      if (/exists/i.test(err.message)) return;
      if (err.code !== "40P01" || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
    }
  }
}

/** One started pg-boss per database URL per process. */
export function getBoss(url: string, opts: { supervise?: boolean; schedule?: boolean } = {}): Promise<PgBoss> {
  g.__vaultlineBoss ??= new Map();
  let p = g.__vaultlineBoss.get(url);
  if (!p) {
    p = (async () => {
      const boss = new PgBoss({
        connectionString: url,
        application_name: "vaultline-queue",
        max: 4,
        supervise: opts.supervise ?? true,
        schedule: opts.schedule ?? true,
        // A job whose worker died is failed by our own sweep (heartbeat), not by expiry.
        retryLimit: 0,
        expireInHours: 23,
      });
      boss.on("error", (e) => log.error({ err: e.message }, "pg-boss error"));
      await boss.start();
      for (const name of Object.values(QUEUES)) await createQueueOnce(boss, name);
      return boss;
    })();
    g.__vaultlineBoss.set(url, p);
    p.catch(() => g.__vaultlineBoss?.delete(url));
  }
  return p;
}

export async function stopBosses(): Promise<void> {
  const all = [...(g.__vaultlineBoss?.values() ?? [])];
  g.__vaultlineBoss?.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => null))?.stop({ graceful: false, wait: true }).catch(() => {})));
}

const w = globalThis as unknown as { __vaultlineWorkers?: Map<string, Set<{ boss: PgBoss; id: string }>> };

/** Records a local worker so a send from this process can wake it at once. */
export function registerLocalWorker(queue: string, boss: PgBoss, id: string): () => void {
  w.__vaultlineWorkers ??= new Map();
  const set = w.__vaultlineWorkers.get(queue) ?? new Set();
  w.__vaultlineWorkers.set(queue, set);
  const entry = { boss, id };
  set.add(entry);
  return () => set.delete(entry);
}

/**
 * Wakes this process's workers for a queue instead of waiting for their next poll (up to a
 * second per job); workers in other processes still pick the job up on their poll.
 */
export function wakeLocalWorkers(queue: string): void {
  for (const { boss, id } of w.__vaultlineWorkers?.get(queue) ?? []) {
    try {
      boss.notifyWorker(id);
    } catch {
      // A stopped worker: its poll loop is gone, nothing to wake.
    }
  }
}
