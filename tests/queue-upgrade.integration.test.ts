// A catalogue whose queue was created by pg-boss 10 (Vaultline before pg-boss 12): the
// app's queue code starts on it, the waiting jobs survive the hand-over, a worker runs
// them, and a second start (another replica) finds nothing left to do.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import PgBoss10 from "pg-boss-10";
import { makeEnv, waitFor, sql, type TestEnv } from "./support/vitest-env";
import { BOSS_SCHEMA, getBoss, LEGACY_BOSS_SCHEMA, QUEUES, stopBosses } from "../lib/queue";
import { startWorker, type WorkerHandle } from "../lib/worker";

describe("queue upgrade from pg-boss 10", () => {
  let env: TestEnv;
  let worker: WorkerHandle | undefined;
  let waiting: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: true });
    // The old Vaultline's queue: pg-boss 10's schema, its queues, a cron, two messages.
    const old = new PgBoss10({ connectionString: env.appUrl, max: 2, supervise: false, schedule: false });
    await old.start();
    for (const q of Object.values(QUEUES)) await old.createQueue(q);
    await old.schedule(QUEUES.schedule, "0 2 * * *", {}, { tz: "UTC" });
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    waiting = job.id;
    await old.send(QUEUES.backup, { jobId: job.id }, { singletonKey: job.id });
    await old.send(QUEUES.verify, { jobId: "gone" });
    const [fetched] = await old.fetch(QUEUES.verify);
    await old.complete(QUEUES.verify, fetched.id);
    await old.stop({ graceful: false, wait: true });
    const [v] = await sql<{ version: number }>(env.appUrl, `SELECT version FROM ${BOSS_SCHEMA}.version`);
    expect(Number(v.version)).toBe(24);
  });

  afterAll(async () => {
    await worker?.stop();
    await stopBosses();
    await env.cleanup();
  });

  it("moves the waiting jobs to pg-boss 12's schema, drops the old one, and a worker runs them", async () => {
    const boss = await getBoss(env.appUrl);
    expect(await boss.schemaVersion()).toBeGreaterThan(24);
    const schemas = await sql<{ nspname: string }>(env.appUrl, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pgboss%' ORDER BY 1");
    expect(schemas.map((s) => s.nspname)).toEqual([BOSS_SCHEMA]);
    const queued = await boss.findJobs<{ jobId: string }>(QUEUES.backup, { queued: true });
    expect(queued.map((j) => j.data.jobId)).toEqual([waiting]);
    // The completed verify message is history, not work: it is not carried over.
    expect(await boss.findJobs(QUEUES.verify, { queued: true })).toEqual([]);
    // Queues carry Vaultline's options (no pg-boss retries; the stale sweep decides).
    expect(await boss.getQueue(QUEUES.backup)).toMatchObject({ retryLimit: 0, expireInSeconds: 23 * 3600 });

    worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
    const job = await waitFor(async () => {
      const j = await env.db.backupJob.findUniqueOrThrow({ where: { id: waiting } });
      return j.status === "SUCCEEDED" || j.status === "FAILED" ? j : null;
    });
    expect({ status: job.status, reason: job.failureReason }).toEqual({ status: "SUCCEEDED", reason: null });
  });

  it("a second process starting on the upgraded catalogue changes nothing", async () => {
    await worker?.stop();
    worker = undefined;
    await stopBosses();
    const boss = await getBoss(env.appUrl);
    expect(await boss.findJobs(QUEUES.backup, { queued: true })).toEqual([]);
    const schemas = await sql<{ nspname: string }>(env.appUrl, "SELECT nspname FROM pg_namespace WHERE nspname = $1", [LEGACY_BOSS_SCHEMA]);
    expect(schemas).toEqual([]);
  });
});
