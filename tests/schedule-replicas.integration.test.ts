// Two real worker processes (`npx tsx scripts/worker.ts`, i.e. `npm run worker`) on one
// catalogue, cron "* * * * *": from the save until two slots after both processes are up,
// every slot yields exactly one SCHEDULED backup — pg-boss's cron ticks, duplicate ticks
// raced by both processes, and each process's start-up catch-up all go through the same
// slot claim. The slots watched are read off the clock as the test goes, so it passes
// wherever in a minute it starts (3–4 minutes in all).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, createMigratedDatabase, dropDatabase, PASSPHRASE, seedTarget, waitFor } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { updateSettings } from "../lib/settings";
import { getBoss, QUEUES, stopBosses } from "../lib/queue";

/** pg-boss ticks within ~36 s of a slot (cron monitor 30 s, send-it 5 s, our poll 1 s). */
const TICK_LATENCY_MS = 45_000;
const MINUTE = 60_000;
const admin = { type: "user" as const, label: "admin@example.com" };

interface Replica {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: boolean;
}

function startReplica(env: NodeJS.ProcessEnv): Replica {
  // Its own process group, so stopping it stops npx and the node process under it.
  const child = spawn("npx", ["tsx", "scripts/worker.ts"], { cwd: process.cwd(), env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const r: Replica = { child, lines: [], exited: false };
  let buf = "";
  child.stdout!.on("data", (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        r.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        r.lines.push({ msg: line });
      }
    }
  });
  child.stderr!.on("data", (c: Buffer) => r.lines.push({ stderr: c.toString() }));
  child.on("exit", () => (r.exited = true));
  return r;
}

async function stopReplica(r: Replica) {
  if (r.exited || r.child.pid === undefined) return;
  process.kill(-r.child.pid, "SIGTERM");
  await waitFor(async () => r.exited, 20_000).catch(() => {
    if (!r.exited) process.kill(-r.child.pid!, "SIGKILL");
  });
}

const slotOf = (row: { metadata: unknown }) => (row.metadata as { scheduleSlot?: string }).scheduleSlot ?? null;
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

describe("scheduled backups with two worker processes", () => {
  let appUrl: string;
  let targetUrl: string;
  let storageDir: string;
  let db: Db;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    appUrl = await createMigratedDatabase("app");
    targetUrl = await createDatabase("target");
    await seedTarget(targetUrl, { rows: 100 });
    storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-replicas-"));
    db = createDb(appUrl);
  });

  afterAll(async () => {
    await Promise.all(replicas.map(stopReplica));
    await stopBosses();
    await db.$disconnect();
    await dropDatabase(appUrl).catch(() => {});
    await dropDatabase(targetUrl).catch(() => {});
    await rm(storageDir, { recursive: true, force: true });
  });

  it(
    "one backup per slot, every slot from the save on, never two",
    async () => {
      await updateSettings(db, { schedule: { enabled: true, cron: "* * * * *", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
      const savedAt = (await db.setting.findUniqueOrThrow({ where: { key: "schedule" } })).updatedAt.getTime();
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: "production",
        DATABASE_URL: appUrl,
        TARGET_DATABASE_URL: targetUrl,
        BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
        NEXTAUTH_SECRET: "replica-test-secret-0123456789",
        STORAGE: "local",
        LOCAL_STORAGE_DIR: storageDir,
        DATA_DIR: storageDir,
        STORAGE_PREFIX: "backups",
        BACKUP_ENV: "replicas",
        LOG_LEVEL: "info",
      };
      replicas.push(startReplica(env), startReplica(env));
      await waitFor(async () => replicas.every((r) => r.lines.some((l) => l.msg === "worker started")), 90_000, 250).catch((e: Error) => {
        throw new Error(`${e.message}; replica output: ${JSON.stringify(replicas.map((r) => r.lines.slice(-5)))}`);
      });
      const upAt = Date.now();

      // The slot boundaries are taken from the clock once both processes run, not assumed
      // from when the test began: the first one after that is raced by duplicate ticks, the
      // one after it is left to pg-boss's own cron. Wherever in the minute the test starts and
      // however long the processes took to start, both are at most two minutes away.
      const racedSlot = Math.floor(upAt / MINUTE) * MINUTE + MINUTE;
      const cronSlot = racedSlot + MINUTE;
      await sleepUntil(racedSlot + 1000);
      const boss = await getBoss(appUrl);
      const duplicates = new Set<string>();
      for (let i = 0; i < 6; i++) duplicates.add((await boss.send(QUEUES.schedule, {}))!);

      // Every slot from the save on that a process was up for, or that was the latest one
      // when they started (caught up at start, decision 49): these must each have a backup.
      // Older slots that passed while no process had started yet are not replayed.
      const required: number[] = [];
      for (let b = Math.max(Math.floor(savedAt / MINUTE) * MINUTE + MINUTE, Math.floor(upAt / MINUTE) * MINUTE); b <= cronSlot; b += MINUTE) required.push(b);
      expect(required.slice(-2)).toEqual([racedSlot, cronSlot]);

      await sleepUntil(cronSlot);
      await waitFor(
        async () => {
          const rows = await db.backupJob.findMany({ where: { trigger: "SCHEDULED" } });
          const slots = new Set(rows.map(slotOf));
          return required.every((b) => slots.has(new Date(b).toISOString()));
        },
        Math.max(1000, cronSlot + TICK_LATENCY_MS - Date.now()),
        500,
      ).catch(() => null);
      await updateSettings(db, { schedule: { enabled: false, cron: "* * * * *", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
      await waitFor(async () => (await db.backupJob.count({ where: { status: { in: ["QUEUED", "RUNNING"] } } })) === 0, 60_000, 500);
      expect(replicas.every((r) => !r.exited)).toBe(true);
      await Promise.all(replicas.map(stopReplica));

      const rows = await db.backupJob.findMany({ orderBy: { createdAt: "asc" } });
      const claimedBy = new Map<string, { worker: number; tick: string }>();
      const already: number[] = [];
      replicas.forEach((r, i) => {
        for (const l of r.lines) {
          const tick = l.tickId ? (duplicates.has(l.tickId as string) ? "duplicate tick" : "pg-boss cron tick") : "start-up catch-up";
          if (l.msg === "scheduled backup claimed") claimedBy.set(l.jobId as string, { worker: i + 1, tick });
          if (l.msg === "slot already claimed") already.push(i + 1);
        }
      });
      console.log(
        [
          `saved ${new Date(savedAt).toISOString()}, both up ${new Date(upAt).toISOString()}; required slots ${required.map((b) => new Date(b).toISOString().slice(11, 19)).join(", ")}`,
          ...rows.map(
            (r) =>
              `slot ${slotOf(r)?.slice(11, 19)}  claimed ${r.createdAt.toISOString().slice(11, 23)} by worker ${claimedBy.get(r.id)?.worker ?? "?"} (${claimedBy.get(r.id)?.tick ?? "?"})` +
              `  started ${r.startedAt?.toISOString().slice(11, 23)}  ${r.status} in ${r.durationSeconds?.toFixed(2)} s`,
          ),
          `"slot already claimed" answers: ${already.length} (worker 1: ${already.filter((w) => w === 1).length}, worker 2: ${already.filter((w) => w === 2).length})`,
        ].join("\n"),
      );

      // Only scheduled backups, each for a minute boundary after the save, never two for one slot.
      expect(rows.every((r) => r.trigger === "SCHEDULED")).toBe(true);
      const slots = rows.map(slotOf);
      expect(new Set(slots).size).toBe(rows.length);
      for (const r of rows) {
        const s = new Date(slotOf(r)!).getTime();
        expect(s % MINUTE).toBe(0);
        expect(s).toBeGreaterThan(savedAt);
        expect(r.createdAt.getTime() - s).toBeGreaterThanOrEqual(0);
        const source = (r.metadata as { scheduleSource?: string }).scheduleSource;
        // A tick comes within seconds of its slot; a catch-up when its process started.
        if (source === "catch-up") expect(r.createdAt.getTime()).toBeLessThanOrEqual(upAt);
        else expect(r.createdAt.getTime() - s).toBeLessThan(TICK_LATENCY_MS);
        expect(r.status).toBe("SUCCEEDED");
      }
      // Every required slot, exactly once; nothing beyond the watched slots.
      const bySlot = new Set(slots);
      expect(required.filter((b) => !bySlot.has(new Date(b).toISOString())).map((b) => new Date(b).toISOString())).toEqual([]);
      expect(rows.filter((r) => new Date(slotOf(r)!).getTime() > cronSlot)).toEqual([]);
      // The duplicate ticks were answered by the claim, not by a second backup.
      expect(already.length).toBeGreaterThanOrEqual(1);
      // The slot after the raced one was claimed by pg-boss's own cron tick.
      const cronRow = rows.find((r) => slotOf(r) === new Date(cronSlot).toISOString())!;
      expect(claimedBy.get(cronRow.id)?.tick).toBe("pg-boss cron tick");
      // Both processes ran the whole time.
      expect(replicas.every((r) => r.lines.some((l) => l.msg === "worker started"))).toBe(true);
    },
    330_000,
  );
});
