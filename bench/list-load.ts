// GET /api/backups?limit=50 on the real app (next start), 100k BackupJob rows, at a fixed
// request rate; latency percentiles from every request's own time.
//
// The rate is an open loop (decision 114): request i is due at start + i / rate, sent then
// on a free keep-alive connection (or as soon as one frees), and its time runs from when
// it was due — so a slow answer delays nothing else's start, and a queue is counted, not
// hidden (no coordinated omission). autocannon's `overallRate` is not that: each
// connection sends its per-second quota back to back as fast as answers come, then waits
// for the next one-second tick — 100 req/s over 10 connections is 10 requests in flight
// from the top of each second until the hundredth answer, then nothing. It stays
// available (`generator: "autocannon"`) to compare with earlier results.
import http from "node:http";
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

export type Generator = "open-loop" | "autocannon";

export interface LoadResult {
  url: string;
  generator: Generator;
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

export interface LoadOptions {
  url: string;
  token: string;
  rate: number;
  durationSeconds: number;
  connections?: number;
  generator?: Generator;
}

export async function loadTest(opts: LoadOptions): Promise<LoadResult> {
  return (opts.generator ?? "open-loop") === "autocannon" ? burstLoad(opts) : openLoopLoad(opts);
}

interface Sample {
  /** ms from when the request was due to its last byte (or its failure). */
  ms: number;
  /** ms from the run's start to when it was due: which quarter it belongs to. */
  dueAt: number;
  status: number;
  outcome: "answer" | "error" | "timeout";
}

/** `rate × durationSeconds` requests, one due every 1000 / rate ms, over `connections` keep-alive connections. */
async function openLoopLoad(opts: LoadOptions): Promise<LoadResult> {
  const connections = opts.connections ?? 10;
  const total = Math.round(opts.rate * opts.durationSeconds);
  const intervalMs = 1000 / opts.rate;
  const timeoutMs = 10_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const url = new URL(opts.url);
  const samples: Sample[] = [];
  const inFlight: Promise<void>[] = [];
  const one = (dueAt: number, due: bigint) =>
    new Promise<void>((resolve) => {
      let settled = false;
      const done = (status: number, outcome: Sample["outcome"]) => {
        if (settled) return;
        settled = true;
        samples.push({ ms: Number(process.hrtime.bigint() - due) / 1e6, dueAt, status, outcome });
        resolve();
      };
      const req = http.get(url, { agent, headers: { authorization: `Bearer ${opts.token}` }, timeout: timeoutMs }, (res) => {
        res.on("data", () => {});
        res.on("end", () => done(res.statusCode ?? 0, "answer"));
        res.on("error", () => done(0, "error"));
      });
      req.on("timeout", () => {
        req.destroy();
        done(0, "timeout");
      });
      req.on("error", () => done(0, "error"));
    });
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const dueAt = i * intervalMs;
    const due = start + BigInt(Math.round(dueAt * 1e6));
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one(dueAt, due));
  }
  await Promise.all(inFlight);
  agent.destroy();
  const times = samples.map((x) => x.ms).sort((a, b) => a - b);
  const quarters: number[][] = [[], [], [], []];
  for (const x of samples) quarters[Math.min(3, Math.floor((x.dueAt / 1000 / opts.durationSeconds) * 4))].push(x.ms);
  const answers = samples.filter((x) => x.outcome === "answer");
  return {
    url: opts.url,
    generator: "open-loop",
    rate: opts.rate,
    durationSeconds: opts.durationSeconds,
    connections,
    requests: samples.length,
    ok: answers.filter((x) => x.status >= 200 && x.status < 300).length,
    non2xx: answers.filter((x) => x.status < 200 || x.status >= 300).length,
    errors: samples.filter((x) => x.outcome === "error").length,
    timeouts: samples.filter((x) => x.outcome === "timeout").length,
    ...summary(times),
    p95ByQuarter: quarters.map((q) => percentile(q.sort((a, b) => a - b), 95)),
  };
}

function summary(sorted: number[]) {
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

/** autocannon with `overallRate`: per-connection quotas sent back to back each second (see the top). */
async function burstLoad(opts: LoadOptions): Promise<LoadResult> {
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
    generator: "autocannon",
    rate: opts.rate,
    durationSeconds: opts.durationSeconds,
    connections,
    requests: times.length,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    ...summary(times),
    p95ByQuarter: quarters.map((q) => percentile(q.sort((a, b) => a - b), 95)),
  };
}
