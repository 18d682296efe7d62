// GFS retention and its preview on a real catalogue: real encrypted backups of a realistic
// application database (schemas, owner role, extensions, partitions, large objects) in a
// real store, 400 days of scheduled history beside them, a restore and a drill in flight.
// The preview (the route, as a VIEWER would call it) lists exactly what the pruning run
// then deletes, objects and rows; bad query values are 400s naming the field; and the
// plan stays fast on a catalogue of 100,000 rows.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import type { SessionUser } from "../lib/auth";
import { adminUrl, listKeys, makeEnv, PASSPHRASE, sql, type TestEnv } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { runBackup } from "../lib/backup/run-backup";
import { backupKeys } from "../lib/backup/manifest";
import { runRetention } from "../lib/backup/retention-run";
import { previewRetention } from "../lib/backup/retention-preview";
import { updateSettings } from "../lib/settings";
import { getBoss, QUEUES, stopBosses } from "../lib/queue";
import type { RetentionPreview } from "../lib/validation/retention";

const session: { user: SessionUser | null } = { user: null };
vi.mock("../lib/auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../lib/auth")>()),
  getSessionUser: async () => session.user,
}));

const DAY = 86_400_000;
const ORIGIN = "http://localhost:3998";
const system = { type: "system" as const, label: "test" };
const exec = (url: string, text: string) => sql(url, text);
const GFS_PROPOSAL = { days: "0", keepLast: "1", keepDaily: "14", keepWeekly: "8", keepMonthly: "24", keepYearly: "5" };
const GFS = { days: 0, keepLast: 1, keepQuick: 1, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2 };

describe("retention preview (GFS)", () => {
  let env: TestEnv;
  let dataDir: string;
  let viewer: SessionUser;
  const ids: Record<string, string> = {};
  const created: Record<string, Date> = {};
  const start = Date.now();

  async function realBackup(name: string, kind: "FULL" | "QUICK", daysAgo: number, extra: { verifyStatus?: "PASSED" } = {}) {
    const createdAt = new Date(start - daysAgo * DAY);
    const row = await env.db.backupJob.create({
      data: { kind, trigger: "SCHEDULED", createdAt, commitSha: kind === "QUICK" ? "1234567abcdef" : null, metadata: { phases: [] } },
    });
    expect((await runBackup(env.ctx, row.id)).status).toBe("SUCCEEDED");
    if (extra.verifyStatus) await env.db.backupJob.update({ where: { id: row.id }, data: { verifyStatus: extra.verifyStatus, verifiedAt: new Date() } });
    ids[name] = row.id;
    created[name] = createdAt;
  }

  const objects = async (name: string) => (await listKeys(env.ctx.storage, backupKeys("backups", "test", ids[name], created[name]).dir)).length;

  async function getPreview(query: Record<string, string> = {}, as: SessionUser | null = viewer) {
    const url = new URL("/api/retention/preview", ORIGIN);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    session.user = as;
    const { GET } = await import("../app/api/retention/preview/route");
    const res = await GET(new NextRequest(url, { headers: { origin: ORIGIN } }), { params: Promise.resolve({}) });
    return { status: res.status, body: (await res.json()) as RetentionPreview & { error?: { code: string; details?: { fields: { path: string; message: string }[] } } } };
  }

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    dataDir = await mkdtemp(path.join(tmpdir(), "vaultline-gfs-data-"));
    Object.assign(process.env, {
      DATABASE_URL: env.appUrl,
      TARGET_DATABASE_URL: env.targetUrl,
      STORAGE: "local",
      LOCAL_STORAGE_DIR: env.storageDir,
      DATA_DIR: dataDir,
      BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
      NEXTAUTH_SECRET: "gfs-test-secret-0123456789abcdef",
      NEXTAUTH_URL: ORIGIN,
    });
    (await import("../lib/config")).resetConfigForTests();
    const { createUser } = await import("../lib/users");
    const u = await createUser(env.db, { email: "viewer@gfs.test", displayName: "Viewer", role: "VIEWER", password: "password-1234" }, system);
    viewer = { id: u.id, email: u.email, displayName: u.displayName, role: "VIEWER" };

    await updateSettings(env.db, { schedule: { enabled: true, cron: "30 2 * * *", timezone: "Europe/Berlin", kind: "FULL" }, retention: GFS }, system);
    // Real archives at chosen ages: what pruning deletes must leave the store too.
    await realBackup("today", "FULL", 0.05);
    await realBackup("verified", "FULL", 3, { verifyStatus: "PASSED" });
    await realBackup("week3", "FULL", 16.2);
    await realBackup("restoring", "FULL", 150.2);
    await realBackup("drilling", "FULL", 170.2);
    await realBackup("old", "FULL", 300.2);
    await realBackup("quickNew", "QUICK", 0.5);
    await realBackup("quickOld", "QUICK", 2.5);
    // 400 days of nightly scheduled history (catalogue rows whose objects are long gone),
    // a failed night and a cancelled one.
    await sql(
      env.appUrl,
      `INSERT INTO "BackupJob" (id, kind, trigger, status, "sizeBytes", "createdAt", "completedAt", "updatedAt")
       SELECT 'hist' || lpad(g::text, 3, '0'), 'FULL', 'SCHEDULED', 'SUCCEEDED', 1000000 + g,
              date_trunc('day', now()) - g * interval '1 day' + interval '1 hour 30 minutes',
              date_trunc('day', now()) - g * interval '1 day' + interval '1 hour 40 minutes', now()
         FROM generate_series(1, 400) g;
       INSERT INTO "BackupJob" (id, kind, trigger, status, "createdAt", "completedAt", "updatedAt", "failureReason") VALUES
         ('failed50', 'FULL', 'SCHEDULED', 'FAILED', now() - interval '50 days', now() - interval '50 days', now(), 'disk full'),
         ('cancelled60', 'FULL', 'SCHEDULED', 'CANCELLED', now() - interval '60 days', now() - interval '60 days', now(), null);`,
    );
  }, 300_000);

  afterAll(async () => {
    await stopBosses();
    await (await import("../lib/db")).db().$disconnect();
    await env.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("shows a backup being restored as kept, and keeps pruning away while the restore runs", async () => {
    const restore = await env.db.restoreJob.create({ data: { backupId: ids.restoring, status: "RUNNING" } });
    try {
      const p = await previewRetention(env.db);
      expect(p.keep.find((k) => k.id === ids.restoring)?.reasons).toEqual(["restoring"]);
      expect((await runRetention(env.ctx)).status).toBe("skipped");
    } finally {
      await env.db.restoreJob.update({ where: { id: restore.id }, data: { status: "SUCCEEDED", completedAt: new Date() } });
    }
    expect((await previewRetention(env.db)).prune.map((p) => p.id)).toContain(ids.restoring);
  });

  it("answers a VIEWER with the saved policy, and a proposed one laid over it", async () => {
    const saved = await getPreview();
    expect(saved.status).toBe(200);
    expect(saved.body.policy).toEqual(GFS);
    expect(saved.body.timeZone).toBe("Europe/Berlin");
    const total = saved.body.keep.length + saved.body.prune.length;
    expect(total).toBe(8 + 400 + 2);
    // Newest first, and the newest FULL carries every rule that keeps it.
    expect(saved.body.keep[0].id).toBe(ids.today);
    expect(saved.body.keep[0].reasons).toEqual(expect.arrayContaining(["newest full", "last 1", "yearly " + new Date(start).getUTCFullYear()]));
    expect(saved.body.keep.find((k) => k.id === ids.verified)?.reasons).toContain("newest verified full");
    expect(saved.body.keep.find((k) => k.id === ids.quickNew)?.reasons).toEqual(["last 1 quick"]);
    expect(saved.body.prune.map((p) => p.id)).toEqual(expect.arrayContaining([ids.quickOld, ids.old, "failed50", "cancelled60"]));
    expect(saved.body.prunedBytes).toBe(saved.body.prune.reduce((n, p) => n + p.sizeBytes, 0));
    expect([saved.body.keptCount, saved.body.prunedCount]).toEqual([saved.body.keep.length, saved.body.prune.length]);
    // `limit` shortens the lists (newest first), never the totals.
    const short = await getPreview({ limit: "3" });
    expect(short.body.keep).toEqual(saved.body.keep.slice(0, 3));
    expect(short.body.prune).toEqual(saved.body.prune.slice(0, 3));
    expect([short.body.keptCount, short.body.prunedCount, short.body.prunedBytes]).toEqual([saved.body.keptCount, saved.body.prunedCount, saved.body.prunedBytes]);
    // 7 days + 4 weeks + 12 months + 2 years overlap: at most 25 GFS keeps, at least 12 (one a month).
    const gfs = saved.body.keep.filter((k) => k.reasons.some((r) => /^(daily|weekly|monthly|yearly) /.test(r)));
    expect(gfs.length).toBeGreaterThanOrEqual(12);
    expect(gfs.length).toBeLessThanOrEqual(25);

    // Switching GFS off in the proposal (days and counts stay as saved) prunes far more.
    const off = await getPreview({ keepDaily: "0", keepWeekly: "0", keepMonthly: "0", keepYearly: "0" });
    expect(off.status).toBe(200);
    expect(off.body.policy).toEqual({ ...GFS, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 });
    expect(off.body.keep.map((k) => k.id).sort()).toEqual([ids.today, ids.verified, ids.quickNew].sort());
    expect(off.body.prunedBytes).toBeGreaterThan(saved.body.prunedBytes);
    // Nothing was saved by previewing.
    expect((await getPreview()).body.policy).toEqual(GFS);
  });

  it("previews another target's plan among its own backups only, and names an unknown target", async () => {
    const shop = await env.db.target.create({ data: { name: "shop-preview", environment: "test" } });
    await sql(
      env.appUrl,
      `INSERT INTO "BackupJob" (id, "targetId", kind, trigger, status, "sizeBytes", "createdAt", "completedAt", "updatedAt")
       SELECT 'shop' || g, '${shop.id}', 'FULL', 'SCHEDULED', 'SUCCEEDED', 1000, now() - g * interval '1 day', now() - g * interval '1 day', now()
         FROM generate_series(1, 40) g`,
    );
    try {
      const r = await getPreview({ target: "shop-preview", keepLast: "1", days: "0", keepDaily: "3", keepWeekly: "0", keepMonthly: "0", keepYearly: "0" });
      expect(r.status).toBe(200);
      const listed = [...r.body.keep.map((k) => k.id), ...r.body.prune.map((p) => p.id)];
      expect(listed.length).toBe(40);
      expect(listed.every((id) => id.startsWith("shop"))).toBe(true);
      expect(r.body.keptCount + r.body.prunedCount).toBe(40);
      expect(r.body.prunedCount).toBeGreaterThan(30); // by the proposal: a few daily, the rest pruned
      // The default target's plan does not see them.
      const d = await getPreview();
      expect([...d.body.keep, ...d.body.prune].some((x) => x.id.startsWith("shop"))).toBe(false);
      const unknown = await getPreview({ target: "no-such-target" });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error?.code).toBe("NOT_FOUND");
    } finally {
      await env.db.backupJob.deleteMany({ where: { targetId: shop.id } });
      await env.db.target.delete({ where: { id: shop.id } });
    }
  });

  it("refuses bad numbers with the field named, and anyone not signed in", async () => {
    for (const [query, field] of [
      [{ keepDaily: "abc" }, "keepDaily"],
      [{ days: "" }, "days"],
      [{ keepWeekly: "1.5" }, "keepWeekly"],
      [{ keepMonthly: "-1" }, "keepMonthly"],
      [{ keepYearly: "1001" }, "keepYearly"],
      [{ keepLast: "1e3" }, "keepLast"],
      [{ limit: "0" }, "limit"],
    ] as const) {
      const r = await getPreview(query);
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error?.code).toBe("VALIDATION_FAILED");
      expect(r.body.error?.details?.fields.map((f) => f.path)).toEqual([field]);
    }
    const unknown = await getPreview({ keepHourly: "3" });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body.error)).toContain("keepHourly");
    expect((await getPreview({}, null)).status).toBe(401);
  });

  it("prunes exactly what the preview listed — rows and stored objects — with a drill in flight", async () => {
    const boss = await getBoss(env.appUrl);
    await boss.send(QUEUES.drill, { jobId: ids.drilling });
    const now = new Date();
    const preview = await previewRetention(env.db, { now });
    expect(preview.keep.find((k) => k.id === ids.drilling)?.reasons).toEqual(["drilling"]);
    expect(preview.prune.length).toBeGreaterThan(300);

    const result = await runRetention(env.ctx, { now });
    if (result.status !== "done") throw new Error(`retention ${result.status}`);
    expect(result.failed).toEqual([]);
    expect(result.pruned.map((p) => p.id).sort()).toEqual(preview.prune.map((p) => p.id).sort());
    expect(result.pruned.map((p) => p.reason).sort()).toEqual(preview.prune.map((p) => p.reason).sort());
    expect(result.bytes).toBe(preview.prunedBytes);
    const left = await env.db.backupJob.findMany({ select: { id: true } });
    expect(left.map((r) => r.id).sort()).toEqual(preview.keep.map((k) => k.id).sort());
    // Real archives: the pruned ones' objects are gone, the kept ones' are all there.
    expect(await objects("old")).toBe(0);
    expect(await objects("quickOld")).toBe(0);
    expect(await objects("restoring")).toBe(0);
    for (const name of ["today", "verified", "drilling", "quickNew"]) expect(await objects(name), name).toBeGreaterThan(0);
    // The kept set is stable: a second plan prunes nothing.
    expect((await previewRetention(env.db, { now })).prune).toEqual([]);
  });

  it("plans 100,000 catalogue rows quickly", async () => {
    await sql(
      env.appUrl,
      `INSERT INTO "BackupJob" (id, kind, trigger, status, "sizeBytes", "verifyStatus", "createdAt", "completedAt", "updatedAt")
       SELECT 'bulk' || g, CASE WHEN g % 5 = 0 THEN 'QUICK' ELSE 'FULL' END::"BackupKind", 'SCHEDULED',
              CASE WHEN g % 50 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END::"JobStatus", 5000000 + g,
              CASE WHEN g % 97 = 0 THEN 'PASSED' END::"VerifyStatus",
              now() - g * interval '7 minutes', now() - g * interval '7 minutes' + interval '1 minute', now()
         FROM generate_series(1, 100000) g`,
    );
    const t0 = performance.now();
    const p = await previewRetention(env.db);
    const ms = performance.now() - t0;
    const t1 = performance.now();
    const r = await getPreview({ ...GFS_PROPOSAL, limit: "100" });
    const pageMs = performance.now() - t1;
    console.log(
      `retention preview of ${p.keptCount + p.prunedCount} rows: whole plan ${ms.toFixed(0)} ms (${(JSON.stringify(p).length / 1e6).toFixed(1)} MB as JSON); ` +
        `the Settings page's request (limit 100) ${pageMs.toFixed(0)} ms, ${(JSON.stringify(r.body).length / 1e3).toFixed(0)} kB`,
    );
    expect(p.keptCount + p.prunedCount).toBeGreaterThan(100_000);
    expect(r.status).toBe(200);
    expect(r.body.prune).toHaveLength(100);
    // Generous: the machine running the suite is shared; typically well under a second.
    expect(pageMs).toBeLessThan(20_000);
  }, 120_000);
});
