// Two processes handle the same 30 schedule slots at the same moment (each slot's tick
// raced through both, three at a time per process): exactly 30 SCHEDULED backups, one per
// slot, each claimed by exactly one process.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PgServer } from "../../support/pg";
import { caseEnv } from "../case-env";
import { sql } from "../../support/pg";
import type { FaultCase } from "../harness";
import { updateSettings } from "../../../lib/settings";
import { latestSlot } from "../../../lib/backup/schedule";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../support/schedule-child.ts");

function runChild(spec: object): Promise<{ claimed: string[]; errors: string[]; reasons: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
      env: { ...process.env, LOG_LEVEL: "error", SCHEDULE_CHILD_SPEC: JSON.stringify(spec) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.includes('"event":"result"'));
      if (!line) return reject(new Error(`schedule child exited ${code} without a result: ${err.slice(-2000)}`));
      resolve({ ...(JSON.parse(line) as { claimed: string[]; errors: string[]; reasons: string[] }), stderr: err });
    });
  });
}

export function scheduleSlots(pgs: PgServer, opts: { processes: number; slots: number }): FaultCase {
  return {
    name: `${opts.processes} processes × ${opts.slots} schedule slots`,
    timeoutMs: 180_000,
    async run(r) {
      r.units = `${opts.processes * opts.slots} slot claims`;
      const env = await caseEnv(pgs, { storage: "local", rows: 10 });
      try {
        const schedule = { enabled: true, cron: "*/5 * * * *", timezone: "Europe/Berlin", kind: "QUICK" as const };
        await updateSettings(env.ctx.db, { schedule }, { type: "system", label: "faults" });
        // The schedule has been in force for a month: the past slots below all belong to it.
        await sql(env.appUrl, `UPDATE "Setting" SET "updatedAt" = now() - interval '30 days' WHERE key = 'schedule'`);
        // The 30 most recent occurrences before now.
        const slots: string[] = [];
        let at = latestSlot(schedule, new Date(Date.now() - 60_000));
        for (let i = 0; i < opts.slots; i++) {
          slots.push(at.toISOString());
          at = latestSlot(schedule, new Date(at.getTime() - 1000));
        }
        const startAt = Date.now() + 4000; // both processes loaded by then
        const results = await Promise.all(
          Array.from({ length: opts.processes }, (_, i) => runChild({ appUrl: env.appUrl, slots, startAt, concurrency: 3, seed: 1000 + i })),
        );
        const errors = results.flatMap((x) => x.errors);
        r.check("no process failed a claim", errors.length === 0, errors.slice(0, 3).join("; "));
        const claims = results.flatMap((x) => x.claimed);
        const reasons = [...new Set(results.flatMap((x) => x.reasons))];
        r.check(
          `the processes claimed ${opts.slots} slots between them`,
          claims.length === opts.slots,
          `${claims.length} claims (${results.map((x) => x.claimed.length).join(" + ")}); handler said: ${reasons.slice(0, 3).join("; ")}`,
        );
        r.check("no slot claimed twice", new Set(claims).size === claims.length);
        const rows = await env.ctx.db.backupJob.findMany({ where: { trigger: "SCHEDULED" }, select: { metadata: true } });
        const bySlot = new Map<string, number>();
        for (const row of rows) {
          const s = (row.metadata as { scheduleSlot?: string }).scheduleSlot ?? "none";
          bySlot.set(s, (bySlot.get(s) ?? 0) + 1);
        }
        r.check(`exactly ${opts.slots} SCHEDULED backups`, rows.length === opts.slots, `${rows.length}`);
        r.check("one backup per slot, every slot", slots.every((s) => bySlot.get(s) === 1), JSON.stringify([...bySlot].filter(([, n]) => n !== 1)));
        r.note(`claims per process: ${results.map((x) => x.claimed.length).join(", ")}`);
      } finally {
        await env.cleanup();
      }
    },
  };
}
