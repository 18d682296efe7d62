// Seeding BackupJob and RestoreJob rows straight into the e2e database, for states the
// real worker cannot be made to produce on demand (a failure today, 120 rows of history).
// Ids are 25 characters of [a-z0-9] (what the API's id check accepts) and start with a
// spec-specific prefix so each spec removes exactly what it added.
import { sql } from "./helpers";

export function seedId(prefix: string, n: number): string {
  const id = `${prefix}${String(n).padStart(25 - prefix.length, "0")}`;
  if (!/^[a-z0-9]{25}$/.test(id)) throw new Error(`bad seed id ${id}`);
  return id;
}

/** Timestamps are stored as UTC without a zone (Prisma's convention). */
const ts = (d: Date | null | undefined) => (d ? d.toISOString().replace("T", " ").replace("Z", "") : null);

export interface SeedBackup {
  id: string;
  kind?: "FULL" | "QUICK";
  trigger?: "MANUAL" | "SCHEDULED" | "PRE_RESTORE" | "PRE_DEPLOY" | "API";
  status?: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
  createdAt: Date;
  startedAt?: Date | null;
  completedAt?: Date | null;
  heartbeatAt?: Date | null;
  sizeBytes?: number | null;
  durationSeconds?: number | null;
  progressBytes?: number;
  phase?: string | null;
  failureReason?: string | null;
  checksumSha256?: string | null;
  commitSha?: string | null;
  note?: string | null;
  storageKey?: string | null;
  /** The target it belongs to (DESIGN §8); `default` when absent. */
  targetId?: string;
}

export async function seedBackups(rows: SeedBackup[]): Promise<void> {
  const cols = [
    "id", "kind", "trigger", "status", "createdAt", "startedAt", "completedAt", "heartbeatAt", "sizeBytes", "durationSeconds",
    "progressBytes", "phase", "failureReason", "checksumSha256", "commitSha", "note", "storageKey", "updatedAt", "targetId",
  ];
  for (let i = 0; i < rows.length; i += 50) {
    const chunk = rows.slice(i, i + 50);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const v = [
        r.id, r.kind ?? "FULL", r.trigger ?? "SCHEDULED", r.status ?? "SUCCEEDED", ts(r.createdAt), ts(r.startedAt ?? r.createdAt),
        ts(r.completedAt === undefined ? new Date(r.createdAt.getTime() + (r.durationSeconds ?? 5) * 1000) : r.completedAt), ts(r.heartbeatAt ?? null),
        r.sizeBytes === undefined ? 1_000_000 : r.sizeBytes, r.durationSeconds === undefined ? 5 : r.durationSeconds, r.progressBytes ?? 0, r.phase ?? null,
        r.failureReason ?? null, r.checksumSha256 === undefined ? "ab".repeat(32) : r.checksumSha256, r.commitSha ?? null, r.note ?? null,
        r.storageKey ?? null, ts(new Date()), r.targetId ?? "default",
      ];
      const casts = ["", "::\"BackupKind\"", "::\"BackupTrigger\"", "::\"JobStatus\"", "::timestamp", "::timestamp", "::timestamp", "::timestamp", "::bigint", "::float8", "::bigint", "", "", "", "", "", "", "::timestamp", ""];
      const placeholders = v.map((x, j) => {
        params.push(x);
        return `$${params.length}${casts[j]}`;
      });
      return `(${placeholders.join(", ")})`;
    });
    await sql(`INSERT INTO "BackupJob" (${cols.map((c) => `"${c}"`).join(", ")}) VALUES ${values.join(", ")}`, params);
  }
}

export async function removeSeeded(prefix: string): Promise<void> {
  await sql(`DELETE FROM "BackupJob" WHERE id LIKE $1`, [`${prefix}%`]);
  await sql(`DELETE FROM "RestoreJob" WHERE id LIKE $1`, [`${prefix}%`]);
}

/** Waits until no backup is queued or running (another spec's real backup), up to `ms`. */
export async function waitForIdle(ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const [r] = await sql<{ n: string }>(`SELECT count(*) AS n FROM "BackupJob" WHERE status IN ('QUEUED', 'RUNNING')`);
    if (Number(r.n) === 0) return;
    await new Promise((res) => setTimeout(res, 1000));
  }
  throw new Error("backups still running after waiting");
}

/** Moves every row not seeded by `prefix` `days` days into the past (negative: back again). */
export async function shiftOthers(prefix: string, days: number): Promise<void> {
  await sql(
    `UPDATE "BackupJob" SET "createdAt" = "createdAt" - make_interval(days => $2), "startedAt" = "startedAt" - make_interval(days => $2),
            "completedAt" = "completedAt" - make_interval(days => $2), "updatedAt" = "updatedAt" - make_interval(days => $2)
      WHERE id NOT LIKE $1`,
    [`${prefix}%`, days],
  );
}
