// The Markdown table written beside the JSON result.
type Profile = { file: string; totalMs: number; idleMs: number; hot: { fn: string; where: string; selfMs: number; pct: number }[]; byPackage: Record<string, number> };

interface EndpointLoad {
  rate: number;
  durationSeconds: number;
  p50: number;
  p95: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  completedPct: number;
  runs?: { p95: number; loadAvg1: number }[];
  generator?: string;
}

export interface ReportInput {
  date: string;
  commit?: { sha: string | null; libChanged: boolean };
  machine: { cpus: number; cpuModel?: string; memGiB: number; loadAvgStart: number[]; loadAvgEnd: number[]; node: string };
  sizeMbRequested: number;
  datasetKind?: "app" | "pgbench";
  repeat: number;
  dataset: { sizeMb: number; buildSeconds: number; tables: Record<string, { rows: number; bytes: number }> };
  backup: {
    rawPgDumpMedianSeconds: number;
    rawDumpBytes: number;
    rawMBps: number;
    localEndToEndMedianSeconds: number;
    localMBps: number;
    s3EndToEndMedianSeconds: number | null;
    s3MBps: number | null;
    local: { engineSeconds: number; queueWaitSeconds: number; storedBytes: number; phases: { phase: string; seconds: number }[] }[];
    s3: { engineSeconds: number; phases: { phase: string; seconds: number }[] }[];
  };
  restore: {
    rawPgRestoreMedianSeconds: number | null;
    rawMBps: number | null;
    vaultlineRestoreMedianSeconds: number | null;
    vaultlineMBps: number | null;
    vaultline: { totalSeconds: number; safetyPhaseSeconds: number; safetyBackupSeconds: number; restoreSeconds: number; phases: { phase: string; seconds: number }[] }[];
    rowCountsMatch: boolean | null;
  };
  memory: {
    peakRssMb: number;
    peakRssS3Mb: number | null;
    peakRssRestoreMb: number | null;
    scaling: { sizeMb: number; databaseMb: number; peakRssMb: number; peakRssS3Mb?: number | null; endToEndSeconds: number; rawDumpSeconds: number } | null;
  };
  list: {
    rows: number;
    rate: number;
    durationSeconds: number;
    requests: number;
    p50: number;
    p95: number;
    p99: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    runs?: { p95: number; loadAvg1: number }[];
    completedPct?: number;
    webConcurrency?: number;
    /** Absent in results from before decision 114: autocannon. */
    generator?: string;
  } | null;
  today?: EndpointLoad | null;
  health?: EndpointLoad | null;
  profile: Profile | null;
  profileS3?: Profile | null;
  ratios: { backup_ratio: number | null; backup_ratio_s3: number | null; archive_ratio?: number | null; restore_ratio: number | null };
  targets: { backup_ratio: number; backup_ratio_s3?: number; archive_ratio?: number; restore_ratio: number; peak_rss_mb: number; list_p95_ms: number };
}

const s = (x: number | null | undefined, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));
const verdict = (ok: boolean | null) => (ok === null ? "–" : ok ? "met" : "**missed**");

/**
 * A run's results' name, `<date>-<commit>[-dirty]-<dataset>[-<label>]`: the commit the
 * figures were measured at is in it, and a run never writes over earlier results (committed
 * ones included) — a second run the same day at the same commit gets `-2`, then `-3`.
 */
export function resultName(
  r: { day: string; commit: { sha: string | null; libChanged: boolean }; dataset: string; label?: string },
  taken: ReadonlySet<string>,
): string {
  const name = [r.day, (r.commit.sha ?? "nogit").slice(0, 7) + (r.commit.libChanged ? "-dirty" : ""), r.dataset, r.label].filter(Boolean).join("-");
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    if (!taken.has(`${candidate}.json`) && !taken.has(`${candidate}.md`)) return candidate;
  }
}

export function renderMarkdown(r: ReportInput): string {
  const t = r.targets;
  const last = r.restore.vaultline.at(-1);
  const rows: string[][] = [
    ["Backup → local disk", `pg_dump -Fc: ${s(r.backup.rawPgDumpMedianSeconds)} s (${s(r.backup.rawMBps, 1)} MB/s)`, `${s(r.backup.localEndToEndMedianSeconds)} s (${s(r.backup.localMBps, 1)} MB/s)`, `backup_ratio = ${s(r.ratios.backup_ratio, 3)}`, `≤ ${t.backup_ratio}`, verdict(r.ratios.backup_ratio === null ? null : r.ratios.backup_ratio <= t.backup_ratio)],
    ...(r.ratios.archive_ratio !== undefined && r.ratios.archive_ratio !== null
      ? [[
          "Archive size",
          `pg_dump -Fc: ${(r.backup.rawDumpBytes / 1e6).toFixed(1)} MB`,
          `${((r.backup.local.at(-1)?.storedBytes ?? NaN) / 1e6).toFixed(1)} MB stored`,
          `archive_ratio = ${s(r.ratios.archive_ratio, 3)}`,
          `≤ ${t.archive_ratio ?? "–"}`,
          verdict(t.archive_ratio === undefined ? null : r.ratios.archive_ratio <= t.archive_ratio),
        ]]
      : []),
    ...(r.backup.s3EndToEndMedianSeconds !== null
      ? [["Backup → S3 (s3rver)", `pg_dump -Fc: ${s(r.backup.rawPgDumpMedianSeconds)} s`, `${s(r.backup.s3EndToEndMedianSeconds)} s (${s(r.backup.s3MBps, 1)} MB/s)`, `backup_ratio_s3 = ${s(r.ratios.backup_ratio_s3, 3)}`, `≤ ${t.backup_ratio_s3 ?? t.backup_ratio}`, verdict(r.ratios.backup_ratio_s3 === null ? null : r.ratios.backup_ratio_s3 <= (t.backup_ratio_s3 ?? t.backup_ratio))]]
      : []),
    ...(r.restore.rawPgRestoreMedianSeconds !== null
      ? [[
          "Restore",
          `pg_restore --single-transaction: ${s(r.restore.rawPgRestoreMedianSeconds)} s (${s(r.restore.rawMBps, 1)} MB/s)`,
          `${s(r.restore.vaultlineRestoreMedianSeconds)} s (${s(r.restore.vaultlineMBps, 1)} MB/s) + safety backup ${s(last?.safetyPhaseSeconds)} s`,
          `restore_ratio = ${s(r.ratios.restore_ratio, 3)}`,
          `≤ ${t.restore_ratio}`,
          verdict(r.ratios.restore_ratio === null ? null : r.ratios.restore_ratio <= t.restore_ratio),
        ]]
      : []),
    ...(r.memory.scaling
      ? [[
          `Backup → local disk at 4×N (${r.memory.scaling.databaseMb} MB)`,
          `pg_dump -Fc: ${s(r.memory.scaling.rawDumpSeconds)} s`,
          `${s(r.memory.scaling.endToEndSeconds)} s`,
          `ratio = ${s(r.memory.scaling.endToEndSeconds / r.memory.scaling.rawDumpSeconds, 3)}`,
          `≤ ${t.backup_ratio}`,
          verdict(r.memory.scaling.endToEndSeconds / r.memory.scaling.rawDumpSeconds <= t.backup_ratio),
        ]]
      : []),
    [
      "Peak RSS, backup process → local",
      "–",
      `${s(r.memory.peakRssMb, 0)} MB at ${r.dataset.sizeMb} MB` + (r.memory.scaling ? `; ${s(r.memory.scaling.peakRssMb, 0)} MB at ${r.memory.scaling.databaseMb} MB` : " (no --scaling run)"),
      `peak_rss_mb = ${s(r.memory.peakRssMb, 0)}` + (r.memory.scaling ? `, 4×N: ${s(r.memory.scaling.peakRssMb, 0)}` : ""),
      `≤ ${t.peak_rss_mb}, flat`,
      // Both sizes within the bound, and the larger not above the smaller by more than a quarter.
      verdict(r.memory.peakRssMb <= t.peak_rss_mb && (!r.memory.scaling || (r.memory.scaling.peakRssMb <= t.peak_rss_mb && r.memory.scaling.peakRssMb <= r.memory.peakRssMb * 1.25))),
    ],
    ...(r.memory.peakRssS3Mb !== null
      ? [
          (() => {
            const big = r.memory.scaling?.peakRssS3Mb ?? null;
            return [
              "Peak RSS, backup process → S3",
              "–",
              `${s(r.memory.peakRssS3Mb, 0)} MB at ${r.dataset.sizeMb} MB` + (big !== null ? `; ${s(big, 0)} MB at ${r.memory.scaling!.databaseMb} MB` : ""),
              `peak_rss_mb_s3 = ${s(r.memory.peakRssS3Mb, 0)}` + (big !== null ? `, 4×N: ${s(big, 0)}` : ""),
              `≤ ${t.peak_rss_mb}` + (big !== null ? ", flat" : ""),
              verdict(r.memory.peakRssS3Mb! <= t.peak_rss_mb && (big === null || (big <= t.peak_rss_mb && big <= r.memory.peakRssS3Mb! * 1.25))),
            ];
          })(),
        ]
      : []),
    ...(r.memory.peakRssRestoreMb !== null
      ? [["Peak RSS, restore process", "–", `${s(r.memory.peakRssRestoreMb, 0)} MB (safety backup included)`, "", "–", "–"]]
      : []),
    ...(r.list
      ? [[
          `GET /api/backups?limit=50, ${r.list.rows.toLocaleString("en")} rows, ${r.list.rate} req/s × ${r.list.durationSeconds} s (${r.list.generator ?? "autocannon"}), ${r.list.webConcurrency ?? 1} web process${(r.list.webConcurrency ?? 1) > 1 ? "es" : ""}`,
          "–",
          `p50 ${s(r.list.p50, 0)} ms · p95 ${s(r.list.p95, 0)} ms · p99 ${s(r.list.p99, 0)} ms · ${r.list.requests} requests, ${r.list.non2xx} non-2xx, ${r.list.errors} errors, ${r.list.timeouts} timeouts` +
            (r.list.runs && r.list.runs.length > 1 ? ` (median of ${r.list.runs.length} runs; p95 of each: ${r.list.runs.map((x) => `${x.p95.toFixed(0)} ms at load ${x.loadAvg1}`).join(", ")})` : ""),
          `list_p95_ms = ${s(r.list.p95, 0)}`,
          `≤ ${t.list_p95_ms}`,
          verdict(r.list.p95 <= t.list_p95_ms && r.list.errors === 0 && r.list.non2xx === 0),
        ]]
      : []),
    ...([["today", r.today], ["health", r.health]] as const).flatMap(([name, x]) =>
      x
        ? [[
            `GET /api/${name}, ${x.rate} req/s × ${x.durationSeconds} s (${x.generator ?? "autocannon"})`,
            "–",
            `p50 ${s(x.p50, 0)} ms · p95 ${s(x.p95, 0)} ms · p99 ${s(x.p99, 0)} ms · ${x.requests} requests, ${x.non2xx} non-2xx, ${x.errors} errors, ${s(x.completedPct, 1)} % completed` +
              (x.runs && x.runs.length > 1 ? ` (median of ${x.runs.length} runs; p95 of each: ${x.runs.map((y) => `${y.p95.toFixed(0)} ms at load ${y.loadAvg1}`).join(", ")})` : ""),
            `${name}_p95_ms = ${s(x.p95, 0)}`,
            `≤ ${t.list_p95_ms}`,
            verdict(x.p95 <= t.list_p95_ms && x.errors === 0 && x.non2xx === 0),
          ]]
        : [],
    ),
  ];
  const table = (head: string[], body: string[][]) =>
    [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...body.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  const phases = (label: string, ps: { phase: string; seconds: number }[] | undefined) =>
    ps?.length ? `- ${label}: ${ps.map((p) => `${p.phase} ${p.seconds.toFixed(2)} s`).join(" · ")}` : "";
  const out = [
    `# Vaultline benchmark — ${r.date.slice(0, 16).replace("T", " ")} UTC` + (r.commit?.sha ? ` — commit ${r.commit.sha}${r.commit.libChanged ? " (+ uncommitted changes in lib/app/scripts)" : ""}` : ""),
    "",
    `${r.datasetKind === "pgbench" ? "Dataset pgbench + random bytes: database" : "Database"} ${r.dataset.sizeMb} MB (requested ${r.sizeMbRequested} MB; ${Object.entries(r.dataset.tables).map(([k, v]) => `${k} ${v.rows.toLocaleString("en")} rows`).join(", ")}), ` +
      `pg_dump archive ${(r.backup.rawDumpBytes / 1e6).toFixed(1)} MB. ${r.machine.cpus} CPUs (${r.machine.cpuModel ?? "?"}), ${r.machine.memGiB} GiB, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadAvgStart.join(" / ")} at start, ${r.machine.loadAvgEnd.join(" / ")} at end` + (r.repeat > 1 ? `; medians of ${r.repeat} runs` : "") + ".",
    "",
    table(["Measure", "Raw PostgreSQL tools", "Vaultline", "Ratio / figure", "Target", "Verdict"], rows),
    "",
    "Where the time goes (phases from BackupJob.metadata.phases and the polled RestoreJob phase):",
    "",
    `- without the queue pick-up (BackupJob startedAt → completedAt, the engine alone): local ${s(r.backup.local.at(-1)?.engineSeconds)} s (ratio ${s((r.backup.local.at(-1)?.engineSeconds ?? NaN) / r.backup.rawPgDumpMedianSeconds, 3)})` +
      (r.backup.s3.length ? `, S3 ${s(r.backup.s3.at(-1)!.engineSeconds)} s (ratio ${s(r.backup.s3.at(-1)!.engineSeconds / r.backup.rawPgDumpMedianSeconds, 3)})` : ""),
    phases("backup → local", r.backup.local.at(-1)?.phases),
    phases("backup → S3", r.backup.s3.at(-1)?.phases),
    phases("restore", last?.phases),
    last ? `- restore total ${last.totalSeconds.toFixed(2)} s; its safety backup's own durationSeconds ${last.safetyBackupSeconds.toFixed(2)} s` : "",
    r.restore.rowCountsMatch === null ? "" : `- row counts after the Vaultline restore ${r.restore.rowCountsMatch ? "match the source" : "DIFFER from the source"}`,
  ].filter((l, i, a) => l !== "" || a[i - 1] !== "");
  if (r.profile) {
    out.push("", `CPU profile of the backup process (\`${r.profile.file}\`, ${(r.profile.totalMs / 1000).toFixed(1)} s, idle ${(r.profile.idleMs / 1000).toFixed(1)} s):`, "");
    out.push(table(["Function", "Where", "Self ms", "%"], r.profile.hot.map((h) => [h.fn, `\`${h.where}\``, h.selfMs.toFixed(0), h.pct.toFixed(1)])));
    const byPkg = (p: Profile) =>
      Object.entries(p.byPackage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
        .join(", ");
    out.push("", `Self time by package (local): ${byPkg(r.profile)}`);
    if (r.profileS3) out.push("", `Self time by package (S3, \`${r.profileS3.file}\`): ${byPkg(r.profileS3)}`);
  }
  return out.join("\n") + "\n";
}

// `npx tsx bench/report.ts bench/results/<date>.json` re-renders the Markdown from a result.
if (process.argv[1]?.endsWith("report.ts") && process.argv[2]) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const file = process.argv[2];
  const md = renderMarkdown(JSON.parse(readFileSync(file, "utf8")) as ReportInput);
  writeFileSync(file.replace(/\.json$/, ".md"), md);
  console.log(md);
}
