// GET /api/backups?limit=50 on the real app (next start), 100k BackupJob rows, at a fixed
// request rate with autocannon; latency percentiles from every response's own time.
import autocannon, { type Result } from "autocannon";
import { sql } from "../tests/support/pg";
import { createApiToken, createDb, createUser } from "../tests/support/app";

/**
 * A catalogue to load: an ADMIN, a `backups:read` token for it, and `rows` backup rows.
 * Answers the token's secret.
 */
export async function seedCatalogue(appUrl: string, rows: number, label: string): Promise<string> {
  const db = createDb(appUrl);
  const admin = await createUser(db, "ADMIN", `${label.replace(/\W+/g, "-")}-admin@bench.local`);
  const token = await createApiToken(db, admin.id, ["backups:read"], label);
  await db.$disconnect();
  await seedBackupRows(appUrl, rows, admin.id);
  return token;
}

/** 100k catalogue rows shaped like real ones (ids, keys, checksums, phases metadata). */
export async function seedBackupRows(appUrl: string, rows: number, initiatedById: string): Promise<void> {
  await sql(
    appUrl,
    `INSERT INTO "BackupJob" (id, kind, trigger, status, "initiatedById", "storageKey", "sizeBytes", "checksumSha256", encrypted,
                              "durationSeconds", "startedAt", "completedAt", "heartbeatAt", "progressBytes", phase, "failureReason",
                              "commitSha", note, attempt, metadata, "createdAt", "updatedAt")
     SELECT id, kind, trigger, status, CASE WHEN g % 3 = 0 THEN $2 ELSE NULL END,
            'backups/prod/' || to_char(created, 'YYYY/MM') || '/' || id || '/archive.dump.gpg',
            CASE WHEN status = 'SUCCEEDED' THEN 500000000 + (g::bigint * 7919) % 100000000 END,
            CASE WHEN status = 'SUCCEEDED' THEN encode(sha256(id::bytea), 'hex') END, true,
            30 + g % 90, created + interval '1 second', created + (30 + g % 90) * interval '1 second', created + (30 + g % 90) * interval '1 second',
            500000000 + (g::bigint * 7919) % 100000000, CASE WHEN status = 'SUCCEEDED' THEN 'done' ELSE 'failed' END,
            CASE WHEN status = 'FAILED' THEN 'Storage unavailable: S3 endpoint unreachable: ECONNREFUSED' END,
            substr(md5(g::text), 1, 12), CASE WHEN g % 7 = 0 THEN 'before release ' || g END, 1,
            jsonb_build_object('includeFiles', false, 'manifestKey', 'backups/prod/' || id || '/manifest.json',
              'phases', jsonb_build_array(
                 jsonb_build_object('phase', 'queued', 'at', created::text), jsonb_build_object('phase', 'inspecting database', 'at', created::text),
                 jsonb_build_object('phase', 'dumping', 'at', created::text), jsonb_build_object('phase', 'writing manifest', 'at', created::text),
                 jsonb_build_object('phase', 'confirming', 'at', created::text), jsonb_build_object('phase', 'done', 'at', created::text)),
              'schemaHash', md5(id), 'pgDumpVersion', '15.18', 'serverVersion', '15.18'),
            created, created
       FROM (SELECT g, 'c' || substr(md5('bench' || g), 1, 24) AS id,
                    (CASE WHEN g % 10 = 0 THEN 'QUICK' ELSE 'FULL' END)::"BackupKind" AS kind,
                    ((ARRAY['SCHEDULED','SCHEDULED','MANUAL','API','PRE_DEPLOY'])[1 + g % 5])::"BackupTrigger" AS trigger,
                    (CASE WHEN g % 20 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END)::"JobStatus" AS status,
                    (now() - g * interval '15 minutes')::timestamp(3) AS created
               FROM generate_series(1, $1::int) g) s`,
    [rows, initiatedById],
  );
  // A catalogue that has grown over years has been vacuumed: its visibility map is set.
  await sql(appUrl, `VACUUM (ANALYZE) "BackupJob"`);
}

export interface LoadResult {
  url: string;
  rate: number;
  durationSeconds: number;
  connections: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** p95 of each quarter of the run, in the order the responses came: a tail that shrinks is warm-up. */
  p95ByQuarter: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function loadTest(opts: { url: string; token: string; rate: number; durationSeconds: number; connections?: number }): Promise<LoadResult> {
  const times: number[] = [];
  let ok = 0;
  const started = Date.now();
  const quarters: number[][] = [[], [], [], []];
  const connections = opts.connections ?? 10;
  const result = await new Promise<Result>((resolve, reject) => {
    const inst = autocannon(
      { url: opts.url, connections, duration: opts.durationSeconds, overallRate: opts.rate, timeout: 10, headers: { authorization: `Bearer ${opts.token}` } },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on("response", (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      times.push(responseTime);
      quarters[Math.min(3, Math.floor(((Date.now() - started) / 1000 / opts.durationSeconds) * 4))].push(responseTime);
      if (status >= 200 && status < 300) ok++;
    });
  });
  times.sort((a, b) => a - b);
  return {
    url: opts.url,
    rate: opts.rate,
    durationSeconds: opts.durationSeconds,
    connections,
    requests: times.length,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    max: times.at(-1) ?? NaN,
    mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    p95ByQuarter: quarters.map((q) => percentile(q.sort((a, b) => a - b), 95)),
  };
}
