// Two real worker processes (`npx tsx scripts/worker.ts`, i.e. `npm run worker`) on one
// catalogue, cron "* * * * *": for ~2.5 minutes every slot yields exactly one SCHEDULED
// backup — pg-boss's cron ticks, duplicate ticks raced by both processes, and each
// process's start-up catch-up all go through the same slot claim.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, createMigratedDatabase, dropDatabase, PASSPHRASE, seedTarget, waitFor } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { updateSettings } from "../lib/settings";
import { getBoss, QUEUES, stopBosses } from "../lib/queue";

const WINDOW_MS = 150_000;
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
    "one backup per slot, every slot, never two",
    async () => {
      await updateSettings(db, { schedule: { enabled: true, cron: "* * * * *", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
      const windowStart = Date.now();
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
      await waitFor(async () => replicas.every((r) => r.lines.some((l) => l.msg === "worker started")), 60_000, 250).catch((e: Error) => {
        throw new Error(`${e.message}; replica output: ${JSON.stringify(replicas.map((r) => r.lines.slice(-5)))}`);
      });

      // Mid-window, race six duplicate ticks through both processes right after a slot.
      const firstSlot = Math.ceil(Date.now() / MINUTE) * MINUTE;
      await new Promise((r) => setTimeout(r, firstSlot + 1000 - Date.now()));
      const boss = await getBoss(appUrl);
      const duplicates = new Set<string>();
      for (let i = 0; i < 6; i++) duplicates.add((await boss.send(QUEUES.schedule, {}))!);

      const windowEnd = windowStart + WINDOW_MS;
      const expected: number[] = [];
      for (let b = Math.floor(windowStart / MINUTE) * MINUTE + MINUTE; b <= windowEnd; b += MINUTE) expected.push(b);
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect(expected.length).toBeLessThanOrEqual(3);

      await new Promise((r) => setTimeout(r, Math.max(0, windowEnd - Date.now())));
      // Every slot of the window has been claimed (pg-boss ticks lag the slot by seconds).
      await waitFor(
        async () => {
          const rows = await db.backupJob.findMany({ where: { trigger: "SCHEDULED" } });
          const slots = new Set(rows.map(slotOf));
          return expected.every((b) => slots.has(new Date(b).toISOString()));
        },
        Math.max(1000, windowEnd + TICK_LATENCY_MS - Date.now()),
        500,
      ).catch(() => null);
      await updateSettings(db, { schedule: { enabled: false, cron: "* * * * *", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
      await waitFor(async () => (await db.backupJob.count({ where: { status: { in: ["QUEUED", "RUNNING"] } } })) === 0, 30_000, 500);
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
          `window ${new Date(windowStart).toISOString()} .. ${new Date(windowEnd).toISOString()}; expected slots ${expected.map((b) => new Date(b).toISOString().slice(11, 19)).join(", ")}`,
          ...rows.map(
            (r) =>
              `slot ${slotOf(r)?.slice(11, 19)}  claimed ${r.createdAt.toISOString().slice(11, 23)} by worker ${claimedBy.get(r.id)?.worker ?? "?"} (${claimedBy.get(r.id)?.tick ?? "?"})` +
              `  started ${r.startedAt?.toISOString().slice(11, 23)}  ${r.status} in ${r.durationSeconds?.toFixed(2)} s`,
          ),
          `"slot already claimed" answers: ${already.length} (worker 1: ${already.filter((w) => w === 1).length}, worker 2: ${already.filter((w) => w === 2).length})`,
        ].join("\n"),
      );

      // Only scheduled backups, each for a minute boundary, never two for one slot.
      expect(rows.every((r) => r.trigger === "SCHEDULED")).toBe(true);
      const slots = rows.map(slotOf);
      expect(new Set(slots).size).toBe(rows.length);
      for (const r of rows) {
        const s = new Date(slotOf(r)!).getTime();
        expect(s % MINUTE).toBe(0);
        expect(s).toBeGreaterThan(windowStart);
        expect(r.createdAt.getTime() - s).toBeGreaterThanOrEqual(0);
        expect(r.createdAt.getTime() - s).toBeLessThan(TICK_LATENCY_MS);
        expect(r.status).toBe("SUCCEEDED");
      }
      // Every slot of the window, exactly once: 2-3 backups in ~2.5 minutes.
      const inWindow = rows.filter((r) => new Date(slotOf(r)!).getTime() <= windowEnd);
      expect(inWindow.map(slotOf).sort()).toEqual(expected.map((b) => new Date(b).toISOString()));
      expect(inWindow.length).toBeGreaterThanOrEqual(2);
      expect(inWindow.length).toBeLessThanOrEqual(3);
      // The duplicate ticks were answered by the claim, not by a second backup.
      expect(already.length).toBeGreaterThanOrEqual(1);
      // Slots after the raced one were claimed by pg-boss's own cron ticks.
      const later = inWindow.filter((r) => new Date(slotOf(r)!).getTime() > firstSlot);
      expect(later.length).toBeGreaterThanOrEqual(1);
      for (const r of later) expect(claimedBy.get(r.id)?.tick).toBe("pg-boss cron tick");
      // Both processes ran the whole time.
      expect(replicas.every((r) => r.lines.some((l) => l.msg === "worker started"))).toBe(true);
    },
    240_000,
  );
});
