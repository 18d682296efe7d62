// The fault suite (`npm run test:faults [-- --only a,b] [--fuzz N] [--archives N] [--seed S]`). Every case runs on
// loopback (an embedded PostgreSQL, s3rver, the real app on a free port) under its own time
// limit, and prints checks as they fail; the end is a table and `N passed, N failed`.
import { parseArgs } from "node:util";
import { startPg, type PgServer } from "../support/pg";
import { renderTable, runCase, type CaseOutcome, type FaultCase } from "./harness";
import { killMidDump, killMidRestore, killMidUpload } from "./cases/kill";
import { storageOutage } from "./cases/outage";
import { doctoredArchives } from "./cases/doctored";
import { scheduleSlots } from "./cases/schedule";
import { hostileRequests } from "./cases/api";
import { diskFull } from "./cases/disk-full";
import { stopBosses } from "../../lib/queue";

const { values: opt } = parseArgs({
  options: {
    only: { type: "string" },
    fuzz: { type: "string", default: "10000" },
    archives: { type: "string", default: "100" },
    seed: { type: "string" },
    "app-dir": { type: "string" },
  },
});

const seed = opt.seed ? Number(opt.seed) : Math.floor(Math.random() * 2 ** 31);

function cases(pgs: PgServer): FaultCase[] {
  return [
    killMidDump(pgs),
    killMidUpload(pgs),
    killMidRestore(pgs),
    storageOutage(pgs),
    doctoredArchives(pgs, { count: Number(opt.archives), seed }),
    scheduleSlots(pgs, { processes: 2, slots: 30 }),
    diskFull(pgs),
    hostileRequests(pgs, { requests: Number(opt.fuzz), seed, appDir: opt["app-dir"] }),
  ];
}

async function main(): Promise<number> {
  console.log(`fault suite, seed ${seed} (replay with --seed ${seed})`);
  const pgs = await startPg({ label: "faults" });
  const outcomes: CaseOutcome[] = [];
  try {
    const only = opt.only?.split(",").map((s) => s.trim().toLowerCase());
    for (const c of cases(pgs)) {
      if (only && !only.some((o) => c.name.toLowerCase().includes(o))) continue;
      outcomes.push(await runCase(c));
    }
  } finally {
    await stopBosses();
    await pgs.stop();
  }
  console.log("\n" + renderTable(outcomes));
  for (const o of outcomes.filter((o) => o.failed)) {
    console.log(`\n${o.name}:`);
    if (o.error) console.log(`  error: ${o.error}`);
    for (const f of o.failures) console.log(`  ✗ ${f.name}${f.detail ? ` — ${f.detail}` : ""}`);
  }
  const notes = outcomes.filter((o) => o.notes.length);
  if (notes.length) {
    console.log("\nNotes:");
    for (const o of notes) for (const n of o.notes) console.log(`  ${o.name}: ${n}`);
  }
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    console.log("\n0 passed, 1 failed");
    process.exit(1);
  },
);
