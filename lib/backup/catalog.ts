// The catalogue of backup jobs as the API shows it (DESIGN §6 Backup JSON).
import type { Db } from "../db";
import type { BackupDto, BackupKind, BackupTrigger, JobStatus, ListBackupsInput } from "../validation/backups";
import { notFound } from "../errors";
import { requireTarget } from "./targets";
import { Prisma } from "../generated/prisma/client";

/**
 * The columns a Backup JSON is made of, and nothing else: `metadata` (phases, manifest
 * key, catalogue details) is most of a row's bytes and no list needs it (issue 14: the
 * list's CPU per request).
 */
export const backupSelect = {
  id: true,
  kind: true,
  trigger: true,
  status: true,
  storageKey: true,
  sizeBytes: true,
  checksumSha256: true,
  encrypted: true,
  durationSeconds: true,
  startedAt: true,
  completedAt: true,
  createdAt: true,
  failureReason: true,
  commitSha: true,
  note: true,
  verifiedAt: true,
  verifyStatus: true,
  phase: true,
  progressBytes: true,
  attempt: true,
  retryOfId: true,
  drillPassedAt: true,
  initiatedBy: { select: { id: true, displayName: true, email: true, role: true } },
  target: { select: { id: true, name: true, environment: true } },
} as const satisfies Prisma.BackupJobSelect;

type Row = Prisma.BackupJobGetPayload<{ select: typeof backupSelect }>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toBackupDto(r: Row): BackupDto {
  return {
    id: r.id,
    target: r.target,
    kind: r.kind,
    trigger: r.trigger,
    status: r.status,
    initiatedBy: r.initiatedBy,
    storageKey: r.storageKey,
    sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes),
    checksumSha256: r.checksumSha256,
    // A QUICK backup stores its manifest alone, in plain JSON: nothing of it is encrypted.
    encrypted: r.encrypted && r.kind === "FULL",
    durationSeconds: r.durationSeconds,
    startedAt: iso(r.startedAt),
    completedAt: iso(r.completedAt),
    createdAt: r.createdAt.toISOString(),
    failureReason: r.failureReason,
    commitSha: r.commitSha,
    note: r.note,
    verifiedAt: iso(r.verifiedAt),
    verifyStatus: r.verifyStatus,
    drillPassedAt: iso(r.drillPassedAt),
    phase: r.phase,
    progressBytes: Number(r.progressBytes),
    attempt: r.attempt,
    retryOfId: r.retryOfId,
  };
}

/**
 * Exact number of catalogue rows matching the list's filters, from BackupJobTally (deltas
 * appended by triggers in the same transaction as each change): a few dozen rows read,
 * however large the catalogue, where `count(*)` read all of it (65 ms at 100,000 rows).
 */
export async function countBackups(
  db: Db,
  where: { targetId?: string; status?: JobStatus; kind?: BackupKind; trigger?: BackupTrigger },
): Promise<number> {
  const { _sum } = await db.backupJobTally.aggregate({ where, _sum: { n: true } });
  return Number(_sum.n ?? 0);
}

/** A row of the list's one statement: the Backup JSON's columns, the initiator's, the total. */
interface ListRow {
  id: string;
  kind: BackupKind;
  trigger: BackupTrigger;
  status: JobStatus;
  storageKey: string | null;
  sizeBytes: bigint | null;
  checksumSha256: string | null;
  encrypted: boolean;
  durationSeconds: number | null;
  startedAt: Date | null;
  completedAt: Date | null;
  createdAt: Date;
  failureReason: string | null;
  commitSha: string | null;
  note: string | null;
  verifiedAt: Date | null;
  verifyStatus: Row["verifyStatus"];
  phase: string | null;
  progressBytes: bigint;
  attempt: number;
  retryOfId: string | null;
  drillPassedAt: Date | null;
  tId: string;
  tName: string;
  tEnvironment: string;
  uId: string | null;
  uDisplayName: string | null;
  uEmail: string | null;
  uRole: string | null;
  total: bigint;
}

/**
 * The history, newest first, in ONE round trip: the page with each initiator joined and the
 * exact total from the tally as an uncorrelated sub-select (run once). The list is the
 * dashboard's and scripts' most frequent request; Prisma's findMany + include + aggregate
 * made it three statements, ~3 ms of the web process's CPU each (issue 14 §4,
 * bench/list-profile.ts). Only a page past the end needs a second statement for the total.
 */
export async function listBackups(db: Db, q: ListBackupsInput) {
  // One target's history (omitted = `default`); the tally counts per target, so the
  // total stays exact and cheap for each (migration 20261202040000).
  const { id: targetId } = await requireTarget(db, q.target);
  const where = { targetId, status: q.status, kind: q.kind, trigger: q.trigger };
  const on = (alias: "b" | "t") => {
    const parts = [
      Prisma.sql`${Prisma.raw(alias)}."targetId" = ${targetId}`,
      q.status && Prisma.sql`${Prisma.raw(alias)}.status = ${q.status}::"JobStatus"`,
      q.kind && Prisma.sql`${Prisma.raw(alias)}.kind = ${q.kind}::"BackupKind"`,
      q.trigger && Prisma.sql`${Prisma.raw(alias)}.trigger = ${q.trigger}::"BackupTrigger"`,
    ].filter((x): x is Prisma.Sql => !!x);
    return Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}`;
  };
  const rows = await db.$queryRaw<ListRow[]>`
    SELECT ${DTO_COLUMNS},
           (SELECT coalesce(sum(t.n), 0) FROM "BackupJobTally" t ${on("t")})::bigint AS total
      ${DTO_FROM}
      ${on("b")}
     ORDER BY b."createdAt" DESC, b.id DESC
     LIMIT ${q.limit} OFFSET ${q.offset}`;
  const total = rows.length ? Number(rows[0].total) : await countBackups(db, where);
  return { backups: rows.map(fromDtoRow), total, limit: q.limit, offset: q.offset };
}

// The Backup JSON's columns with the target and the initiator joined, for raw statements
// that answer Backup JSON in one round trip (the list, GET /api/today).
const DTO_COLUMNS = Prisma.sql`b.id, b.kind::text AS kind, b.trigger::text AS trigger, b.status::text AS status, b."storageKey", b."sizeBytes",
           b."checksumSha256", b.encrypted, b."durationSeconds", b."startedAt", b."completedAt", b."createdAt",
           b."failureReason", b."commitSha", b.note, b."verifiedAt", b."verifyStatus"::text AS "verifyStatus", b.phase,
           b."progressBytes", b.attempt, b."retryOfId", b."drillPassedAt",
           tg.id AS "tId", tg.name AS "tName", tg.environment AS "tEnvironment",
           u.id AS "uId", u."displayName" AS "uDisplayName", u.email AS "uEmail", u.role::text AS "uRole"`;
const DTO_FROM = Prisma.sql`FROM "BackupJob" b JOIN "Target" tg ON tg.id = b."targetId" LEFT JOIN "User" u ON u.id = b."initiatedById"`;

type DtoRow = Omit<ListRow, "total">;

function fromDtoRow({ tId, tName, tEnvironment, uId, uDisplayName, uEmail, uRole, ...r }: DtoRow & { total?: bigint }): BackupDto {
  const { total: _total, ...cols } = r;
  return toBackupDto({
    ...cols,
    target: { id: tId, name: tName, environment: tEnvironment },
    initiatedBy: uId ? { id: uId, displayName: uDisplayName!, email: uEmail!, role: uRole as NonNullable<Row["initiatedBy"]>["role"] } : null,
  });
}

/** Backup JSON of the given ids in one statement, by id (absent ids are left out). */
export async function backupDtosByIds(db: Db, ids: readonly string[]): Promise<Map<string, BackupDto>> {
  const want = [...new Set(ids)];
  if (!want.length) return new Map();
  const rows = await db.$queryRaw<DtoRow[]>`SELECT ${DTO_COLUMNS} ${DTO_FROM} WHERE b.id = ANY(${want})`;
  return new Map(rows.map((r) => [r.id, fromDtoRow(r)]));
}

export async function getBackupRow(db: Db, id: string) {
  const row = await db.backupJob.findUnique({ where: { id }, select: backupSelect });
  if (!row) throw notFound("Backup");
  return row;
}

/** Folds the tally's deltas into one row per key (the worker's sweep); answers rows removed. */
export async function foldTally(db: Db): Promise<number> {
  const [{ removed }] = await db.$queryRaw<{ removed: bigint }[]>`SELECT "backup_job_tally_fold"() AS removed`;
  return Number(removed);
}
