// Schema drift: which migrations the target database has applied, compared with the
// migration folders the deployed code ships, with the newest backup's manifest, and
// Vaultline's own schema. Seed 004's homepage crash was a restore that silently lost
// migrations; each comparison here names the migrations involved, not just "drift".
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { readDbUrl } from "../../pg-hosts";
import { migrationStatus, readMigrations, type MigrationFile } from "../../migrate";
import type { DriftResult } from "../../validation/checks";
import { errorMessage, quoteIdent, readOnlyOnce } from "./read-only";

/**
 * One `_prisma_migrations` row, as read from a database or a backup manifest (times may
 * be ISO strings); the manifest's PrismaMigrationRow fits as is.
 */
export interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

const READ_TIMEOUT_MS = 10_000;

/** Prisma keeps `_prisma_migrations` in the schema named by the URL's `?schema=` (default public). */
function prismaSchema(url: string): string {
  try {
    return readDbUrl(url).searchParams.get("schema") || "public";
  } catch {
    return "public";
  }
}

/** Null when the database has no `_prisma_migrations` table, so its schema is untracked. */
export async function readAppliedMigrations(url: string): Promise<MigrationRow[] | null> {
  const table = `${quoteIdent(prismaSchema(url))}."_prisma_migrations"`;
  return readOnlyOnce(url, READ_TIMEOUT_MS, async (client) => {
    const t = await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [table]);
    if (!t.rows[0].t) return null;
    const r = await client.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM ${table} ORDER BY started_at, migration_name`,
    );
    return r.rows;
  });
}

interface MigrationStates {
  /** name -> checksum of its latest successful, not rolled-back row */
  applied: Map<string, string>;
  /** started, never finished, never rolled back: Prisma refuses to migrate until resolved (P3009) */
  failed: Set<string>;
  /** only rolled-back rows, nothing re-applied since */
  rolledBack: Set<string>;
}

// A name can have several rows (failed, rolled back, applied again); what counts is
// whether any row is live.
export function summariseRows(rows: MigrationRow[]): MigrationStates {
  const applied = new Map<string, string>();
  const failed = new Set<string>();
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(r.migration_name);
    if (r.rolled_back_at) continue;
    if (r.finished_at) applied.set(r.migration_name, r.checksum);
    else failed.add(r.migration_name);
  }
  const rolledBack = new Set([...seen].filter((n) => !applied.has(n) && !failed.has(n)));
  return { applied, failed, rolledBack };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
const list = (xs: string[]) => (xs.length <= 3 ? xs.join(", ") : `${xs.slice(0, 3).join(", ")} and ${xs.length - 3} more`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

type Finding = { status: "warn" | "fail"; text: string };

function outcome(findings: Finding[]): { status: DriftResult["status"]; problems: string } {
  const status = findings.some((f) => f.status === "fail") ? "fail" : findings.length ? "warn" : "pass";
  return { status, problems: findings.map((f) => f.text).join("; ") };
}

export function compareWithDisk(
  rows: MigrationRow[] | null,
  files: Pick<MigrationFile, "name" | "checksum">[],
  dir: string,
): Pick<DriftResult, "status" | "summary" | "details"> {
  const s = summariseRows(rows ?? []);
  const onDisk = new Map(files.map((f) => [f.name, f.checksum]));
  const appliedNotOnDisk = sorted([...s.applied.keys()].filter((n) => !onDisk.has(n)));
  const onDiskNotApplied = sorted([...onDisk.keys()].filter((n) => !s.applied.has(n) && !s.failed.has(n)));
  const failed = sorted(s.failed);
  const rolledBack = sorted(s.rolledBack);
  const checksumMismatch = sorted(
    [...s.applied].filter(([n, sum]) => onDisk.has(n) && onDisk.get(n) !== sum).map(([n]) => n),
  );
  const findings: Finding[] = [];
  if (onDiskNotApplied.length) findings.push({ status: "fail", text: `${plural(onDiskNotApplied.length, "migration")} on disk not applied (${list(onDiskNotApplied)})` });
  if (failed.length) findings.push({ status: "fail", text: `${plural(failed.length, "migration")} failed and not rolled back (${list(failed)})` });
  if (appliedNotOnDisk.length) findings.push({ status: "warn", text: `${plural(appliedNotOnDisk.length, "applied migration")} not on disk (${list(appliedNotOnDisk)})` });
  if (rolledBack.length) findings.push({ status: "warn", text: `${plural(rolledBack.length, "migration")} rolled back and not re-applied (${list(rolledBack)})` });
  if (checksumMismatch.length) findings.push({ status: "warn", text: `${plural(checksumMismatch.length, "migration")} changed on disk after being applied (${list(checksumMismatch)})` });
  const { status, problems } = outcome(findings);
  let summary: string;
  if (rows === null) {
    summary = files.length
      ? `The target has no _prisma_migrations table, so its schema is untracked and none of the ${plural(files.length, "migration")} on disk is recorded as applied.`
      : "The target has no _prisma_migrations table and there are no migrations on disk.";
  } else if (status === "pass") {
    summary = `The target has applied exactly the ${plural(files.length, "migration")} on disk.`;
  } else {
    summary = `The target differs from the migrations on disk: ${problems}.`;
  }
  return {
    status,
    summary,
    details: {
      against: "disk",
      dir,
      targetTracksMigrations: rows !== null,
      onDisk: files.length,
      applied: s.applied.size,
      appliedNotOnDisk,
      onDiskNotApplied,
      failed,
      rolledBack,
      checksumMismatch,
    },
  };
}

export function compareWithBackup(
  rows: MigrationRow[] | null,
  manifest: MigrationRow[],
): Pick<DriftResult, "status" | "summary" | "details"> {
  const t = summariseRows(rows ?? []);
  const b = summariseRows(manifest);
  const appliedSinceBackup = sorted([...t.applied.keys()].filter((n) => !b.applied.has(n)));
  const missingFromTarget = sorted([...b.applied.keys()].filter((n) => !t.applied.has(n)));
  const checksumMismatch = sorted(
    [...t.applied].filter(([n, sum]) => b.applied.has(n) && b.applied.get(n) !== sum).map(([n]) => n),
  );
  const failedInTarget = sorted(t.failed);
  const failedInBackup = sorted(b.failed);
  const findings: Finding[] = [];
  // The backup has migrations the live database lacks: the live schema went backwards.
  if (missingFromTarget.length) findings.push({ status: "fail", text: `${plural(missingFromTarget.length, "migration")} in the backup missing from the target (${list(missingFromTarget)})` });
  if (failedInTarget.length) findings.push({ status: "fail", text: `${plural(failedInTarget.length, "failed migration")} in the target (${list(failedInTarget)})` });
  // Normal right after a deploy, but restoring this backup would revert them.
  if (appliedSinceBackup.length) findings.push({ status: "warn", text: `${plural(appliedSinceBackup.length, "migration")} applied since the backup, which a restore would revert (${list(appliedSinceBackup)})` });
  if (checksumMismatch.length) findings.push({ status: "warn", text: `${plural(checksumMismatch.length, "migration")} with a different checksum in the backup (${list(checksumMismatch)})` });
  if (failedInBackup.length) findings.push({ status: "warn", text: `${plural(failedInBackup.length, "failed migration")} recorded in the backup (${list(failedInBackup)})` });
  const { status, problems } = outcome(findings);
  const untracked = rows === null ? "The target has no _prisma_migrations table. " : "";
  const summary =
    status === "pass"
      ? `${untracked}The target has exactly the ${plural(t.applied.size, "migration")} recorded in the newest backup.`
      : `${untracked}The target differs from the newest backup: ${problems}.`;
  return {
    status,
    summary,
    details: {
      against: "backup",
      targetTracksMigrations: rows !== null,
      inBackup: b.applied.size,
      applied: t.applied.size,
      appliedSinceBackup,
      missingFromTarget,
      checksumMismatch,
      failedInTarget,
      failedInBackup,
    },
  };
}

async function timed(
  id: string,
  name: string,
  against: "disk" | "backup" | "vaultline",
  fn: () => Promise<Pick<DriftResult, "status" | "summary" | "details">>,
): Promise<DriftResult> {
  const started = performance.now();
  try {
    const r = await fn();
    return { id, name, kind: "drift", ...r, durationMs: Math.round(performance.now() - started) };
  } catch (e) {
    const error = errorMessage(e);
    return {
      id,
      name,
      kind: "drift",
      status: "error",
      summary: `Could not compare migrations: ${error}`,
      details: { against, error },
      durationMs: Math.round(performance.now() - started),
    };
  }
}

export interface DriftOptions {
  targetUrl: string;
  appDbUrl: string;
  appMigrationsDir?: string;
  /** undefined: do not compare with a backup; null: the newest backup records no migrations (or there is none). */
  manifestMigrations?: MigrationRow[] | null;
  /** Vaultline's own migrations folder; defaults to prisma/migrations. */
  vaultlineMigrationsDir?: string;
}

export async function runDriftChecks(o: DriftOptions): Promise<DriftResult[]> {
  // Both target comparisons need the same rows; read them once, lazily, and let each
  // comparison report the read failure as its own error.
  let targetRows: Promise<MigrationRow[] | null> | undefined;
  const target = () => (targetRows ??= readAppliedMigrations(o.targetUrl));

  const checks: Promise<DriftResult>[] = [];
  if (o.appMigrationsDir !== undefined) {
    const dir = path.resolve(o.appMigrationsDir);
    checks.push(
      timed("drift:target-disk", "Target migrations vs. code", "disk", async () => {
        if (!existsSync(dir) || !statSync(dir).isDirectory()) {
          throw new Error(`APP_MIGRATIONS_DIR ${dir} is not a directory`);
        }
        return compareWithDisk(await target(), readMigrations(dir), dir);
      }),
    );
  }
  if (o.manifestMigrations !== undefined) {
    const manifest = o.manifestMigrations ?? [];
    checks.push(
      timed("drift:target-backup", "Target migrations vs. newest backup", "backup", async () =>
        compareWithBackup(await target(), manifest),
      ),
    );
  }
  checks.push(
    timed("drift:vaultline", "Vaultline's own schema", "vaultline", async () => {
      const s = await migrationStatus(o.appDbUrl, o.vaultlineMigrationsDir);
      const findings: Finding[] = [];
      if (s.missing.length) findings.push({ status: "fail", text: `${plural(s.missing.length, "migration")} not applied (${list(s.missing)})` });
      if (s.failed.length) findings.push({ status: "fail", text: `${plural(s.failed.length, "migration")} failed (${list(s.failed)})` });
      if (s.modified.length) findings.push({ status: "warn", text: `${plural(s.modified.length, "migration")} changed after being applied (${list(s.modified)})` });
      if (s.unknown.length) findings.push({ status: "warn", text: `${plural(s.unknown.length, "migration")} applied by a newer Vaultline (${list(s.unknown)})` });
      const { status, problems } = outcome(findings);
      return {
        status,
        summary:
          status === "pass"
            ? `Vaultline's database is current (${plural(s.applied.length, "migration")} applied).`
            : `Vaultline's database is not current: ${problems}; run \`npm run migrate\`.`,
        details: { against: "vaultline", applied: s.applied.length, missing: s.missing, failed: s.failed, modified: s.modified, unknown: s.unknown },
      };
    }),
  );
  return Promise.all(checks);
}
