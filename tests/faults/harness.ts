// The fault runner's bookkeeping: each case records named checks, runs under a time limit,
// and lands as one row of the final table.
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export class Recorder {
  checks: Check[] = [];
  notes: string[] = [];
  /** What the case exercised, e.g. "100 archives" or "10000 requests". */
  units = "";
  check(name: string, ok: boolean, detail?: string): boolean {
    this.checks.push({ name, ok, detail });
    if (!ok) console.log(`    ✗ ${name}${detail ? ` — ${detail}` : ""}`);
    return ok;
  }
  note(s: string): void {
    this.notes.push(s);
    console.log(`    · ${s}`);
  }
}

export interface FaultCase {
  name: string;
  timeoutMs: number;
  run(r: Recorder): Promise<void>;
}

export interface CaseOutcome {
  name: string;
  units: string;
  passed: number;
  failed: number;
  seconds: number;
  error?: string;
  notes: string[];
  failures: Check[];
}

export async function runCase(c: FaultCase): Promise<CaseOutcome> {
  const r = new Recorder();
  const t0 = Date.now();
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  console.log(`\n▶ ${c.name}`);
  try {
    await Promise.race([
      c.run(r),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${c.timeoutMs / 1000} s`)), c.timeoutMs);
      }),
    ]);
  } catch (e) {
    error = e instanceof Error ? e.message.split("\n").slice(0, 3).join(" ") : String(e);
    console.log(`    ✗ error: ${error}`);
  } finally {
    clearTimeout(timer);
  }
  const failed = r.checks.filter((x) => !x.ok);
  return {
    name: c.name,
    units: r.units,
    passed: r.checks.length - failed.length,
    // A case that threw counts as one more failure, whatever it checked before.
    failed: failed.length + (error ? 1 : 0),
    seconds: (Date.now() - t0) / 1000,
    error,
    notes: r.notes,
    failures: failed,
  };
}

export function renderTable(rows: CaseOutcome[]): string {
  const head = ["case", "exercised", "passed", "failed", "time", "result"];
  const body = rows.map((o) => [o.name, o.units, String(o.passed), String(o.failed), `${o.seconds.toFixed(1)} s`, o.failed ? "FAIL" : "ok"]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)].join("\n");
}
