// One "replica" for the schedule case: at a shared start time, hands every slot's cron tick
// to the real handler (lib/backup/schedule.ts handleTick), a few at a time, in its own
// shuffled order, and reports which slots it claimed.
import { tmpdir } from "node:os";
import { makeContext } from "./context";
import { handleTick } from "../../lib/backup/schedule";
import { stopBosses } from "../../lib/queue";

const spec = JSON.parse(process.env.SCHEDULE_CHILD_SPEC!) as { appUrl: string; slots: string[]; startAt: number; concurrency: number; seed: number };
const ctx = makeContext({ appUrl: spec.appUrl, targetUrl: spec.appUrl, storage: { kind: "local", dir: tmpdir() } });

let s = spec.seed >>> 0;
const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32);
const order = [...spec.slots].sort(() => rnd() - 0.5);

await new Promise((r) => setTimeout(r, Math.max(0, spec.startAt - Date.now())));
const claimed: string[] = [];
const errors: string[] = [];
const reasons: string[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: spec.concurrency }, async () => {
    while (next < order.length) {
      const slot = new Date(order[next++]);
      try {
        // The tick pg-boss would create one second after the slot, handled a second later.
        const res = await handleTick(ctx, new Date(slot.getTime() + 1000), new Date(slot.getTime() + 2000));
        if (res.claimed) claimed.push(slot.toISOString());
        else if ("reason" in res) reasons.push(res.reason);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  }),
);
process.stdout.write(JSON.stringify({ event: "result", pid: process.pid, claimed, errors, reasons }) + "\n");
await stopBosses();
await ctx.db.$disconnect();
process.exit(0);
