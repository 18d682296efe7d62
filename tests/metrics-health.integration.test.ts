// GET /api/metrics' text and the backup health checks, against a real catalogue: every
// value is compared with what SQL says directly, and each check turns "degraded" for
// the real condition it watches (storage down, old pg_dump, stale backups, full store).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { runBackup } from "../lib/backup/run-backup";
import { renderMetrics, DURATION_WINDOW_DAYS } from "../lib/metrics";
import { storageUsage } from "../lib/backup/storage-usage";
import { lastBackupCheck, pgDumpCheck, storageCheck, storageUsageCheck } from "../lib/backup/health-checks";
import { S3Storage } from "../lib/backup/storage/s3";
import { SCHEDULE_STATE_KEY } from "../lib/backup/schedule";
import { tokenCan } from "../lib/permissions";

const H = 3_600_000;

/** `name{a="b",c="d"} value` lines into a map keyed by `name{a="b",c="d"}` (labels sorted). */
function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels = (m[2] ?? "")
      .split(/,(?=[a-z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(",");
    out.set(labels ? `${m[1]}{${labels}}` : m[1], Number(m[3]));
  }
  return out;
}

describe("metrics", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: true });
    const now = Date.now();
    // Two real backups, then rows for every status, kind and trigger.
    for (const kind of ["FULL", "QUICK"] as const) {
      const row = await env.db.backupJob.create({ data: { kind, trigger: "MANUAL", commitSha: kind === "QUICK" ? "abc1234def" : null, metadata: { phases: [] } } });
      expect((await runBackup(env.ctx, row.id)).status).toBe("SUCCEEDED");
    }
    const rows: { kind: "FULL" | "QUICK"; trigger: "SCHEDULED" | "API" | "PRE_DEPLOY"; status: "SUCCEEDED" | "FAILED" | "CANCELLED" | "QUEUED"; d: number; size: number; ago: number }[] = [
      { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", d: 42.5, size: 5_000_000, ago: 2 },
      { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", d: 700, size: 9_000_000, ago: 26 },
      { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", d: 3, size: 1_000, ago: 24 * 40 }, // outside the histogram window
      { kind: "FULL", trigger: "SCHEDULED", status: "FAILED", d: 1, size: 0, ago: 3 },
      { kind: "QUICK", trigger: "PRE_DEPLOY", status: "SUCCEEDED", d: 0.4, size: 900, ago: 5 },
      { kind: "QUICK", trigger: "API", status: "CANCELLED", d: 0.1, size: 0, ago: 6 },
      { kind: "FULL", trigger: "API", status: "QUEUED", d: 0, size: 0, ago: 0 },
    ];
    for (const r of rows) {
      const at = new Date(now - r.ago * H);
      const done = r.status !== "QUEUED";
      await env.db.backupJob.create({
        data: {
          kind: r.kind,
          trigger: r.trigger,
          status: r.status,
          createdAt: at,
          completedAt: done ? new Date(at.getTime() + r.d * 1000) : null,
          durationSeconds: done ? r.d : null,
          sizeBytes: r.status === "SUCCEEDED" ? BigInt(r.size) : null,
        },
      });
    }
    for (const status of ["SUCCEEDED", "SUCCEEDED", "FAILED", "RUNNING"] as const) {
      await env.db.restoreJob.create({ data: { backupId: "cmx0000000000000000000001", status } });
    }
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("renders values that match the database", async () => {
    const m = await renderMetrics(env.db);
    expect(m.contentType).toMatch(/^text\/plain/);
    const v = parseProm(m.body);
    expect(v.get("vaultline_up")).toBe(1);

    const [last] = await sql<{ t: number }>(
      env.appUrl,
      `SELECT extract(epoch FROM max("completedAt"))::float8 AS t FROM "BackupJob" WHERE status = 'SUCCEEDED' AND kind = 'FULL'`,
    );
    expect(v.get('vaultline_backup_last_success_timestamp_seconds{target="default"}')).toBeCloseTo(last.t, 3);

    const totals = await sql<{ kind: string; trigger: string; status: string; n: number }>(
      env.appUrl,
      `SELECT kind, trigger, status, count(*)::int AS n FROM "BackupJob" WHERE status IN ('SUCCEEDED','FAILED','CANCELLED') GROUP BY 1,2,3`,
    );
    expect(totals.length).toBeGreaterThanOrEqual(5);
    for (const t of totals) expect(v.get(`vaultline_backups_total{kind="${t.kind}",status="${t.status}",target="default",trigger="${t.trigger}"}`)).toBe(t.n);
    const summed = [...v].filter(([k]) => k.startsWith("vaultline_backups_total{")).reduce((n, [, x]) => n + x, 0);
    expect(summed).toBe(totals.reduce((n, t) => n + t.n, 0));

    for (const kind of ["FULL", "QUICK"]) {
      const [lastSize] = await sql<{ s: string }>(
        env.appUrl,
        `SELECT "sizeBytes"::text AS s FROM "BackupJob" WHERE status = 'SUCCEEDED' AND kind = $1 ORDER BY "completedAt" DESC NULLS LAST, "createdAt" DESC LIMIT 1`,
        [kind],
      );
      expect(v.get(`vaultline_backup_size_bytes{kind="${kind}",target="default"}`)).toBe(Number(lastSize.s));
      const [h] = await sql<{ n: number; sum: number; le60: number }>(
        env.appUrl,
        `SELECT count(*)::int AS n, coalesce(sum("durationSeconds"), 0)::float8 AS sum, count(*) FILTER (WHERE "durationSeconds" <= 60)::int AS le60
           FROM "BackupJob" WHERE status = 'SUCCEEDED' AND kind = $1 AND "completedAt" >= now() - interval '${DURATION_WINDOW_DAYS} days'`,
        [kind],
      );
      expect(v.get(`vaultline_backup_duration_seconds_count{kind="${kind}",target="default"}`)).toBe(h.n);
      expect(v.get(`vaultline_backup_duration_seconds_sum{kind="${kind}",target="default"}`)).toBeCloseTo(h.sum, 6);
      expect(v.get(`vaultline_backup_duration_seconds_bucket{kind="${kind}",le="60",target="default"}`)).toBe(h.le60);
      expect(v.get(`vaultline_backup_duration_seconds_bucket{kind="${kind}",le="+Inf",target="default"}`)).toBe(h.n);
    }

    const restores = await sql<{ status: string; n: number }>(
      env.appUrl,
      `SELECT status, count(*)::int AS n FROM "RestoreJob" WHERE status IN ('SUCCEEDED','FAILED','CANCELLED') GROUP BY 1`,
    );
    for (const r of restores) expect(v.get(`vaultline_restores_total{status="${r.status}",target="default"}`)).toBe(r.n);
    expect(v.has(`vaultline_restores_total{status="RUNNING",target="default"}`)).toBe(false);

    const [stored] = await sql<{ s: string }>(env.appUrl, `SELECT sum("sizeBytes")::text AS s FROM "BackupJob" WHERE status = 'SUCCEEDED'`);
    expect(v.get('vaultline_storage_bytes{target="default"}')).toBe(Number(stored.s));
    expect((await storageUsage(env.db)).totalBytes).toBe(Number(stored.s));
  });

  it("is readable with the metrics scope only", () => {
    expect(tokenCan(["metrics"], "VIEWER", "metrics.read")).toBe(true);
    expect(tokenCan(["backups:read", "backups:write", "restore", "deploy", "settings"], "ADMIN", "metrics.read")).toBe(false);
  });
});

describe("backup health checks", () => {
  let env: TestEnv;
  let work: string;
  beforeAll(async () => {
    env = await makeEnv({ seed: true });
    work = await mkdtemp(path.join(tmpdir(), "vaultline-health-"));
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("storage: ok when reachable, degraded when not", async () => {
    expect((await storageCheck(env.ctx)).status).toBe("ok");
    const dead = new S3Storage({
      bucket: "b",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      accessKeyId: "x",
      secretAccessKey: "y",
      forcePathStyle: true,
      maxAttempts: 1,
    } as ConstructorParameters<typeof S3Storage>[0]);
    const c = await storageCheck({ storage: dead });
    expect(c.status).toBe("degraded");
    expect(c.message).toMatch(/^storage unreachable/);
  });

  it("pg_dump: ok when it can dump the server, degraded when missing or older", async () => {
    expect(await pgDumpCheck(env.ctx)).toMatchObject({ status: "ok", pgDump: expect.stringMatching(/^15\./) });
    const bin = path.join(work, "oldbin");
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, "pg_dump"), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.9'\n");
    await chmod(path.join(bin, "pg_dump"), 0o755);
    expect(await pgDumpCheck({ ...env.ctx, pgBinDir: bin })).toMatchObject({ status: "degraded", message: expect.stringMatching(/14.*15/) });
    expect((await pgDumpCheck({ ...env.ctx, pgBinDir: path.join(work, "nothing-here") })).status).toBe("degraded");
  });

  it("last backup: degraded once the last good backup is older than missedBackupAfterHours", async () => {
    await env.db.runtimeState.create({ data: { key: SCHEDULE_STATE_KEY, value: { since: new Date(Date.now() - 100 * H).toISOString() } } });
    expect(await lastBackupCheck(env.ctx)).toMatchObject({ status: "degraded", lastSuccessAt: null });
    const at = new Date(Date.now() - 30 * H);
    await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: at, completedAt: at, sizeBytes: 2048n } });
    expect(await lastBackupCheck(env.ctx)).toMatchObject({ status: "degraded", lastSuccessAt: at.toISOString(), ageHours: 30 });
    // A QUICK backup holds no data: it never counts, whatever kind the schedule takes.
    await env.db.backupJob.create({ data: { kind: "QUICK", trigger: "PRE_DEPLOY", status: "SUCCEEDED", completedAt: new Date(), sizeBytes: 10n } });
    expect((await lastBackupCheck(env.ctx)).status).toBe("degraded");
    const row = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    expect((await runBackup(env.ctx, row.id)).status).toBe("SUCCEEDED");
    expect(await lastBackupCheck(env.ctx)).toMatchObject({ status: "ok", ageHours: 0 });
  });

  it("storage usage: degraded over STORAGE_WARN_BYTES", async () => {
    const { totalBytes } = await storageUsage(env.db);
    expect(totalBytes).toBeGreaterThan(2048);
    expect(await storageUsageCheck(env.ctx, null)).toMatchObject({ status: "ok", warnBytes: null });
    expect(await storageUsageCheck(env.ctx, totalBytes)).toMatchObject({ status: "ok" });
    expect(await storageUsageCheck(env.ctx, totalBytes - 1)).toMatchObject({ status: "degraded", totalBytes, message: expect.stringMatching(/STORAGE_WARN_BYTES/) });
    expect(await storageUsage(env.db, 1000)).toMatchObject({ totalBytes, warnBytes: 1000, overWarn: true });
  });
});
