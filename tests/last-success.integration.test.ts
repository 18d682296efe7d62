// The newest good backup (health check, missed-backup alert, metrics, today's banner) read
// in two index-ordered steps (decision 117) must answer what one
// `ORDER BY "completedAt" DESC NULLS LAST, "createdAt" DESC` over every row answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase, sql } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { lastGoodBackupAt, newestSucceeded } from "../lib/backup/last-success";
import { renderMetrics } from "../lib/metrics";

let url: string;
let db: Db;

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1) + minutes * 60_000).toISOString();

async function row(id: string, o: { target?: string; kind?: string; status?: string; completed?: number | null; created: number; size?: number }) {
  await sql(
    url,
    `INSERT INTO "BackupJob" (id, "targetId", kind, trigger, status, metadata, "completedAt", "createdAt", "updatedAt", "sizeBytes")
     VALUES ($1, $2, $3::"BackupKind", 'MANUAL', $4::"JobStatus", '{}', $5, $6, now(), $7)`,
    [id, o.target ?? "default", o.kind ?? "FULL", o.status ?? "SUCCEEDED", o.completed === null || o.completed === undefined ? null : at(o.completed), at(o.created), o.size ?? null],
  );
}

/** What the single sorted statement answers. */
async function reference(target: string, kind: string): Promise<string | null> {
  const r = await sql<{ id: string }>(
    url,
    `SELECT id FROM "BackupJob" WHERE "targetId" = $1 AND status = 'SUCCEEDED' AND kind = $2::"BackupKind"
      ORDER BY "completedAt" DESC NULLS LAST, "createdAt" DESC LIMIT 1`,
    [target, kind],
  );
  return r[0]?.id ?? null;
}

async function idOf(target: string, kind: "FULL" | "QUICK"): Promise<string | null> {
  const n = await newestSucceeded(db, target, kind);
  if (!n) return null;
  const r = await sql<{ id: string }>(url, `SELECT id FROM "BackupJob" WHERE "targetId" = $1 AND kind = $2::"BackupKind" AND "createdAt" = $3 AND status = 'SUCCEEDED'`, [target, kind, n.createdAt]);
  return r[0].id;
}

beforeAll(async () => {
  url = await createMigratedDatabase("last_success");
  db = createDb(url);
  await sql(url, `INSERT INTO "Target" (id, name, environment, "updatedAt") VALUES ('t2', 'second', 'staging', now()) ON CONFLICT DO NOTHING`);
});

afterAll(async () => {
  await db.$disconnect();
  await dropDatabase(url);
});

describe("newestSucceeded", () => {
  it("answers as the one sorted statement: completion first, creation to break ties, no completion only when none has one", async () => {
    expect(await newestSucceeded(db, "default", "FULL")).toBeNull();
    expect(await lastGoodBackupAt(db)).toBeNull();
    // Only rows without completedAt: the newest created.
    await row("n1", { completed: null, created: 10 });
    await row("n2", { completed: null, created: 20 });
    expect(await idOf("default", "FULL")).toBe("n2");
    expect(await reference("default", "FULL")).toBe("n2");
    expect((await lastGoodBackupAt(db))?.toISOString()).toBe(at(20));
    // A completed one wins over any without, even created earlier.
    await row("c1", { completed: 5, created: 1, size: 11 });
    expect(await idOf("default", "FULL")).toBe("c1");
    // Equal completion: the later created.
    await row("c2", { completed: 5, created: 2, size: 22 });
    expect(await idOf("default", "FULL")).toBe("c2");
    // Newer completions of other kinds, statuses and targets do not count.
    await row("q", { kind: "QUICK", completed: 100, created: 100, size: 1 });
    await row("f", { status: "FAILED", completed: 101, created: 101 });
    await row("o", { target: "t2", completed: 102, created: 102, size: 7 });
    for (const [t, k] of [["default", "FULL"], ["default", "QUICK"], ["t2", "FULL"], ["t2", "QUICK"]] as const) {
      expect({ t, k, id: await idOf(t, k) }).toEqual({ t, k, id: await reference(t, k) });
    }
    expect((await lastGoodBackupAt(db))?.toISOString()).toBe(at(5));
    expect((await lastGoodBackupAt(db, "t2"))?.toISOString()).toBe(at(102));
  });

  it("gives the metrics the same newest backup per target and kind", async () => {
    const text = (await renderMetrics(db)).body;
    const line = (name: string, labels: string) => text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
    expect(line("vaultline_backup_last_success_timestamp_seconds", `target="default"`)).toBe(`vaultline_backup_last_success_timestamp_seconds{target="default"} ${Date.parse(at(5)) / 1000}`);
    expect(line("vaultline_backup_last_success_timestamp_seconds", `target="second"`)).toBe(`vaultline_backup_last_success_timestamp_seconds{target="second"} ${Date.parse(at(102)) / 1000}`);
    expect(line("vaultline_backup_size_bytes", `target="default",kind="FULL"`)).toMatch(/ 22$/);
    expect(line("vaultline_backup_size_bytes", `target="default",kind="QUICK"`)).toMatch(/ 1$/);
    expect(line("vaultline_backup_size_bytes", `target="second",kind="FULL"`)).toMatch(/ 7$/);
    // No successful QUICK backup of "second": no series, as before.
    expect(line("vaultline_backup_size_bytes", `target="second",kind="QUICK"`)).toBeUndefined();
  });
});
