// Issue 14 §4: the history list is one hand-written statement (lib/backup/catalog.ts). It
// must answer exactly what the Prisma model gives for the same rows: every Backup JSON
// field (nulls, big sizes, enums, dates), the initiator or null, the order, every filter,
// offsets inside and past the end, and the total.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase, sql } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { backupSelect, countBackups, listBackups, toBackupDto } from "../lib/backup/catalog";
import { findToken, hashToken, newTokenSecret } from "../lib/tokens";
import { listBackupsSchema } from "../lib/validation/backups";

let url: string;
let db: Db;

beforeAll(async () => {
  url = await createMigratedDatabase("list");
  db = createDb(url);
  await sql(url, `INSERT INTO "User" (id, email, "displayName", "passwordHash", role, "updatedAt") VALUES
    ('u1', 'ada@example.com', 'Ada', 'x', 'ADMIN', now()), ('u2', 'bob@example.com', 'Bob', 'x', 'OPERATOR', now())`);
  // 300 rows over every kind, trigger and status; some share a createdAt (the id breaks the
  // tie), some have no initiator, sizes above 2^32, nulls where the columns allow them.
  await sql(
    url,
    `INSERT INTO "BackupJob" (id, kind, trigger, status, "initiatedById", "storageKey", "sizeBytes", "checksumSha256", encrypted,
                              "durationSeconds", "startedAt", "completedAt", "progressBytes", phase, "failureReason", "commitSha",
                              note, "verifiedAt", "verifyStatus", attempt, "retryOfId", metadata, "createdAt", "updatedAt")
     SELECT 'b' || lpad(g::text, 4, '0'), (ARRAY['FULL','QUICK'])[1 + g % 2]::"BackupKind",
            (ARRAY['MANUAL','SCHEDULED','PRE_RESTORE','PRE_DEPLOY','API'])[1 + g % 5]::"BackupTrigger",
            (ARRAY['QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED'])[1 + (g / 3) % 5]::"JobStatus",
            (ARRAY['u1', 'u2', NULL])[1 + g % 3],
            CASE WHEN g % 4 <> 0 THEN 'backups/k' || g END, CASE WHEN g % 4 <> 0 THEN 5000000000 + g END,
            CASE WHEN g % 4 <> 0 THEN md5(g::text) END, g % 9 <> 0,
            CASE WHEN g % 2 = 0 THEN g * 1.5 END, now() - g * interval '1 minute', CASE WHEN g % 3 = 0 THEN now() END,
            g * 1000, CASE WHEN g % 5 = 0 THEN 'done' END, CASE WHEN g % 7 = 0 THEN 'it failed: "quoted"' END,
            CASE WHEN g % 6 = 0 THEN 'abc' || g END, CASE WHEN g % 8 = 0 THEN 'note ' || g END,
            CASE WHEN g % 10 = 0 THEN now() END, CASE WHEN g % 10 = 0 THEN 'PASSED' WHEN g % 11 = 0 THEN 'FAILED' END::"VerifyStatus",
            1 + g % 3, CASE WHEN g % 13 = 0 THEN 'b0001' END, '{"phases": [1, 2, 3]}',
            now() - (g / 2) * interval '1 minute', now()
       FROM generate_series(1, 300) g`,
  );
});

afterAll(async () => {
  await db?.$disconnect();
  if (url) await dropDatabase(url);
});

/** What the Prisma model answers for the same query: the reference. */
async function reference(q: ReturnType<typeof listBackupsSchema.parse>) {
  const where = { status: q.status, kind: q.kind, trigger: q.trigger };
  const rows = await db.backupJob.findMany({ where, select: backupSelect, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: q.limit, skip: q.offset });
  return { backups: rows.map(toBackupDto), total: await countBackups(db, where), limit: q.limit, offset: q.offset };
}

describe("GET /api/backups as one statement", () => {
  const queries: Record<string, string>[] = [
    {},
    { limit: "7" },
    { limit: "50", offset: "40" },
    { limit: "200", offset: "250" },
    { offset: "300" }, // past the end: no rows, the total still exact
    { offset: "5000" },
    { status: "SUCCEEDED" },
    { kind: "QUICK", limit: "3", offset: "2" },
    { trigger: "PRE_DEPLOY" },
    { status: "FAILED", kind: "FULL", trigger: "API" },
    { status: "RUNNING", offset: "1000" },
  ];
  for (const raw of queries) {
    it(`answers what the model answers for ${JSON.stringify(raw)}`, async () => {
      const q = listBackupsSchema.parse(raw);
      const got = await listBackups(db, q);
      expect(got).toEqual(await reference(q));
      // The page is really there (not two empty answers agreeing), except past the end.
      if (q.offset < 300 && !q.status && !q.kind && !q.trigger) expect(got.backups.length).toBe(Math.min(q.limit, 300 - q.offset));
      expect(got.total).toBe(Number((await sql<{ n: string }>(url, `SELECT count(*)::text AS n FROM "BackupJob" WHERE ($1::text IS NULL OR status::text = $1) AND ($2::text IS NULL OR kind::text = $2) AND ($3::text IS NULL OR trigger::text = $3)`, [q.status ?? null, q.kind ?? null, q.trigger ?? null]))[0].n));
    });
  }

  it("keeps the initiator, big sizes and nulls exactly", async () => {
    const { backups } = await listBackups(db, listBackupsSchema.parse({ limit: "200" }));
    const b2 = backups.find((b) => b.id === "b0002")!;
    expect(b2.initiatedBy).toBeNull();
    const b4 = backups.find((b) => b.id === "b0004")!;
    expect(b4.initiatedBy).toEqual({ id: "u2", displayName: "Bob", email: "bob@example.com", role: "OPERATOR" });
    expect(b4.sizeBytes).toBeNull();
    expect(backups.find((b) => b.id === "b0005")!.sizeBytes).toBe(5_000_000_005);
    expect(typeof backups.find((b) => b.id === "b0005")!.progressBytes).toBe("number");
  });
});

describe("bearer tokens as one statement", () => {
  it("finds a live token with its creator, and not a revoked or expired one, or one whose creator is disabled", async () => {
    const secret = newTokenSecret();
    await db.apiToken.create({ data: { id: "t1", name: "ci", tokenHash: hashToken(secret), prefix: secret.slice(0, 8), scopes: ["backups:read"], createdById: "u2" } });
    expect(await findToken(db, secret)).toEqual({ tokenId: "t1", name: "ci", scopes: ["backups:read"], creator: { id: "u2", email: "bob@example.com", displayName: "Bob", role: "OPERATOR" } });
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: "t1" } })).lastUsedAt).not.toBeNull();
    expect(await findToken(db, newTokenSecret())).toBeNull();

    await db.user.update({ where: { id: "u2" }, data: { disabledAt: new Date() } });
    expect(await findToken(db, secret)).toBeNull();
    await db.user.update({ where: { id: "u2" }, data: { disabledAt: null } });
    await db.apiToken.update({ where: { id: "t1" }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await findToken(db, secret)).toBeNull();
    await db.apiToken.update({ where: { id: "t1" }, data: { expiresAt: null, revokedAt: new Date() } });
    expect(await findToken(db, secret)).toBeNull();
  });

  it("reads a token's times the same in any process time zone (the lookup runs on raw pg, which reads `timestamp` as local time)", async () => {
    const secret = newTokenSecret();
    await db.apiToken.create({ data: { id: "t2", name: "tz", tokenHash: hashToken(secret), prefix: secret.slice(0, 8), scopes: ["backups:read"], createdById: "u2" } });
    const tz = process.env.TZ;
    try {
      for (const zone of ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]) {
        process.env.TZ = zone; // +14 h and −11 h: read as local time, a 30-minute margin flips
        await db.apiToken.update({ where: { id: "t2" }, data: { expiresAt: new Date(Date.now() + 30 * 60_000), lastUsedAt: new Date() } });
        expect(await findToken(db, secret), zone).not.toBeNull();
        await db.apiToken.update({ where: { id: "t2" }, data: { expiresAt: new Date(Date.now() - 30 * 60_000) } });
        expect(await findToken(db, secret), zone).toBeNull();
      }
      // lastUsedAt is written at most once a minute, in any zone.
      await db.apiToken.update({ where: { id: "t2" }, data: { expiresAt: null, lastUsedAt: new Date(Date.now() - 30_000) } });
      const before = (await db.apiToken.findUniqueOrThrow({ where: { id: "t2" } })).lastUsedAt;
      process.env.TZ = "Pacific/Kiritimati";
      await findToken(db, secret);
      expect((await db.apiToken.findUniqueOrThrow({ where: { id: "t2" } })).lastUsedAt).toEqual(before);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
