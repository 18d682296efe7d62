// A restore writes a second copy of the data on the database server before the first goes
// (lib/backup/server-disk.ts, decision 159). On a server disk without room for it, the copy's
// COPY ran the disk full — where the WAL shares that disk, the whole server stops. Now, with
// the server on this machine, the preview measures the disk beside what the copy takes, and
// the restore stops before the last DISK_RESERVE_MB go, the live database as it
// was and the copy dropped. The disk here is real and small: the target database lives in a
// tablespace on a tmpfs mount of a set size (root only, as `.ci/run` runs; skipped otherwise).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, chownSync, mkdtempSync, statSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { canMountTmpfs, mountTmpfs, resizeTmpfs as resize, unmountTmpfs } from "./support/tmpfs";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { buildAppDatabase } from "./support/app-fixture";
import { previewRestore } from "../lib/backup/preview";
import { runDrill, scratchDatabasePrefix } from "../lib/backup/drill";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { locateServerDisks, relationPlacement, serverFacts } from "../lib/backup/server-disk";
import { withClient } from "../lib/backup/pg-client";
import { stopBosses } from "../lib/queue";

const TABLESPACE = "vl_test_small_disk";
const RESERVE = 12 * 1024 * 1024;
/** Room above the reserve on the small disk: far less than the ~35 MB copy, which without the guard fills it. */
const ABOVE_RESERVE = 4 * 1024 * 1024;
const PAGE = 4096;
const fingerprint = (url: string) => catalogFingerprint(sql, url);
const usedOn = async (dir: string) => {
  const s = await statfs(dir);
  return { used: (s.blocks - s.bfree) * s.bsize, free: s.bavail * s.bsize };
};

afterAll(async () => {
  await stopBosses();
});

/** A tablespace on a tmpfs of its own (256 MiB until resized), the server's user its owner. */
async function smallTablespace(name: string): Promise<string> {
  const [{ data }] = await sql<{ data: string }>(adminUrl(), "SELECT current_setting('data_directory') AS data");
  const owner = statSync(data);
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-server-disk-"));
  mountTmpfs(dir, 256 << 20);
  chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  await sql(adminUrl(), `DROP TABLESPACE IF EXISTS ${name}`).catch(() => undefined);
  await sql(adminUrl(), `CREATE TABLESPACE ${name} LOCATION '${dir}'`);
  return dir;
}

describe.skipIf(!canMountTmpfs)("a restore onto a server disk too small for its copy", () => {
  let env: TestEnv;
  let disk: string;
  let backupId: string;
  let original: Record<string, string>;
  let databaseBytes: number;
  const freshCopies = async () =>
    (await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`])).map((r) => r.datname);

  beforeAll(async () => {
    disk = await smallTablespace(TABLESPACE);
    // The guard looks every min(heartbeat, 1 s): often, so a small disk is seen before it fills.
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, heartbeatMs: 50, diskReserveBytes: RESERVE } });
    await sql(adminUrl(), `ALTER DATABASE "${databaseOf(env.targetUrl)}" SET TABLESPACE ${TABLESPACE}`);
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await sql(
      env.targetUrl,
      `CREATE TABLE public.events (id bigint PRIMARY KEY, body text NOT NULL);
       INSERT INTO public.events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 200000) g;`,
    );
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    databaseBytes = Number((await sql<{ n: string }>(env.targetUrl, "SELECT pg_database_size(current_database())::text AS n"))[0].n);
  }, 300_000);

  afterAll(async () => {
    for (const d of await freshCopies().catch(() => [])) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    await env?.cleanup();
    await sql(adminUrl(), `DROP TABLESPACE IF EXISTS ${TABLESPACE}`).catch(() => undefined);
    unmountTmpfs(disk);
  });

  it("the backup records the database's size, and the preview measures the server's disks once the server is proven to be this machine's", async () => {
    const manifest = (await previewRestore(env.ctx, backupId)).manifest!;
    // Taken beside the dump: the database as it was then, within the rows added since (none).
    expect(manifest.database.sizeBytes).toBeGreaterThan(databaseBytes * 0.9);
    expect(manifest.database.sizeBytes).toBeLessThan(databaseBytes * 1.1);

    const { plan } = await previewRestore(env.ctx, backupId);
    const serverDisk = plan!.serverDisk!;
    expect(serverDisk).toMatchObject({ basis: "backup", neededBytes: manifest.database.sizeBytes, tablespace: TABLESPACE, reserveBytes: RESERVE, unmeasured: null });
    // The copy goes to the tablespace's disk, the WAL stays on the data directory's.
    const [{ data }] = await sql<{ data: string }>(adminUrl(), "SELECT current_setting('data_directory') AS data");
    expect(serverDisk.disks!.map((d) => ({ dir: d.dir, holds: d.holds }))).toEqual([
      { dir: disk, holds: ["copy"] },
      { dir: path.join(data, "pg_wal"), holds: ["wal"] },
    ]);
    expect(serverDisk.disks![0].freeBytes).toBe((await usedOn(disk)).free);
  });

  it("is not measured where the server cannot be proven to be this machine's, and says why", async () => {
    const facts = await withClient(env.targetUrl, serverFacts);
    expect(await locateServerDisks({ ...facts, started: facts.started + 60 })).toEqual({ places: null, unmeasured: `${facts.dataDirectory} on this machine belongs to another server than the target's` });
    expect(await locateServerDisks({ ...facts, dataDirectory: "/nonexistent/pgdata" })).toMatchObject({ places: null, unmeasured: expect.stringContaining("runs on another machine") });
    // A role without pg_read_all_settings is not told where the data directory is.
    await sql(adminUrl(), "DO $$ BEGIN CREATE ROLE vl_disk_reader LOGIN PASSWORD 'disk-reader-pw-1'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    const url = new URL(env.targetUrl);
    url.username = "vl_disk_reader";
    url.password = "disk-reader-pw-1";
    const theirs = await withClient(url.toString(), serverFacts);
    expect(theirs.dataDirectory).toBeNull();
    expect(theirs.databaseBytes).toBe(facts.databaseBytes);
    expect((await locateServerDisks(theirs)).unmeasured).toMatch(/may not read the server's data directory/);
  });

  it("the preview warns, and the swap restore stops before the disk fills: the live database as it was, the copy dropped, the room given back", async () => {
    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + ABOVE_RESERVE);
    const { plan, warnings } = await previewRestore(env.ctx, backupId);
    expect(plan!.serverDisk!.disks![0].freeBytes).toBeLessThan(RESERVE + databaseBytes);
    expect(warnings.join("\n")).toContain(`The restored copy needs about`);
    expect(warnings.join("\n")).toContain(`on the server's disk (${disk})`);

    const { status, row } = await restore(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(
      new RegExp(
        `^The restore failed before the swap: Stopped before the server's disk filled up: ${disk} \\(the restored copy\\) had [0-9.]+ (KiB|MiB) free of [0-9.]+ MiB, less than the 12 MiB the restore leaves free \\(DISK_RESERVE_MB\\)\\. .*The live database was never touched; the fresh copy was discarded\\.$`,
      ),
    );
    expect(await freshCopies()).toEqual([]);
    expect((await usedOn(disk)).used).toBeLessThanOrEqual(before.used + PAGE * 64);
    // The fingerprint's sorts spill to the database's tablespace: room for them first.
    resize(disk, before.used + 256 * 1024 * 1024);
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.failed", details: { path: ["restoreId"], equals: row.id } } });
    expect(JSON.stringify(audit.details)).toContain("Stopped before the server's disk filled up");
  });

  it("in place, too: the transaction is rolled back before the disk fills", async () => {
    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + ABOVE_RESERVE);
    const inPlace = { ...env, ctx: { ...env.ctx, restoreStrategy: "in-place" as const } };
    const { status, row } = await restore(inPlace, backupId);
    expect(status).toBe("FAILED");
    expect(row.strategy).toBe("in-place");
    expect(row.failureReason).toMatch(/^The restore failed: Stopped before the server's disk filled up: .* It ran in one transaction, which was rolled back: the database is exactly as it was\.$/);
    // What the rolled-back transaction wrote is gone; the catalogues keep the pages its rows
    // extended them by (a rollback frees the rows, not the pages): 272 KiB once on a clean
    // clone, above the 256 KiB this allowed. 1 MiB is still a quarter of what the restore
    // was let write above the reserve before it stopped.
    expect((await usedOn(disk)).used).toBeLessThanOrEqual(before.used + PAGE * 256);
    resize(disk, before.used + 256 * 1024 * 1024);
    expect(await fingerprint(env.targetUrl)).toEqual(original);
  });

  it("a drill, unattended on the same server, stops the same way: the reason recorded, no scratch database left", async () => {
    const [{ data }] = await sql<{ data: string }>(adminUrl(), "SELECT current_setting('data_directory') AS data");
    // The scratch copy goes to the server's default disk (the data directory's): a reserve
    // above what that disk has free stops the drill at its first look.
    const reserve = (await usedOn(data)).free + 1024 * 1024 * 1024;
    const r = await runDrill({ ...env.ctx, diskReserveBytes: reserve }, backupId);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(new RegExp(`^Stopped before the server's disk filled up: ${path.join(data, "base")} \\(the restored copy and the server's WAL\\) had .* free of .*, less than the .* the restore leaves free \\(DISK_RESERVE_MB\\)\\. Free space on the server, and restore again$`));
    const scratch = await sql(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${scratchDatabasePrefix(r.drillId)}%`]);
    expect(scratch).toEqual([]);
    const run = await env.db.drillRun.findUniqueOrThrow({ where: { id: r.drillId } });
    expect(run.status).toBe("FAILED");
    expect(run.failureReason).toBe(r.reason);
  });

  it("restores exactly once the disk has room for the copy", async () => {
    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + 3 * databaseBytes);
    const { plan, warnings } = await previewRestore(env.ctx, backupId);
    expect(plan!.serverDisk!.disks![0].freeBytes).toBeGreaterThan(RESERVE + databaseBytes);
    expect(warnings.join("\n")).not.toContain("The restored copy needs about");
    await sql(env.targetUrl, "DELETE FROM public.events WHERE id % 2 = 0");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
  });
});

// The database in the server's default tablespace, its largest table (and that table's
// index) in a tablespace of its own on a small disk: pg_restore recreates them there, so
// that part of the copy lands on the small disk, which the first plan neither measured nor
// watched — it watched the database's own disk, with room to spare, while the small one
// filled.
describe.skipIf(!canMountTmpfs)("a restore whose largest table has a tablespace of its own, on a disk too small for its part", () => {
  const PLACED = "vl_test_placed_small";
  let env: TestEnv;
  let disk: string;
  let backupId: string;
  let original: Record<string, string>;
  let eventsBytes: number;
  const freshCopies = async () =>
    (await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`])).map((r) => r.datname);

  beforeAll(async () => {
    disk = await smallTablespace(PLACED);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, heartbeatMs: 50, diskReserveBytes: RESERVE } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await sql(
      env.targetUrl,
      `CREATE TABLE public.events (id bigint, body text NOT NULL, CONSTRAINT events_pkey PRIMARY KEY (id) USING INDEX TABLESPACE ${PLACED}) TABLESPACE ${PLACED};
       INSERT INTO public.events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 200000) g;`,
    );
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    eventsBytes = Number((await sql<{ n: string }>(env.targetUrl, "SELECT (pg_total_relation_size('public.events'))::text AS n"))[0].n);
  }, 300_000);

  afterAll(async () => {
    for (const d of await freshCopies().catch(() => [])) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    await env?.cleanup();
    await sql(adminUrl(), `DROP TABLESPACE IF EXISTS ${PLACED}`).catch(() => undefined);
    unmountTmpfs(disk);
  });

  it("the preview puts that table's part of the copy on the tablespace's disk, measures it, and warns when it will not fit", async () => {
    const [{ data }] = await sql<{ data: string }>(adminUrl(), "SELECT current_setting('data_directory') AS data");
    let { plan, warnings } = await previewRestore(env.ctx, backupId);
    const d = plan!.serverDisk!;
    expect(d.tablespace).toBe("pg_default");
    expect(d.disks!.map(({ dir, holds, tablespaces }) => ({ dir, holds, tablespaces }))).toEqual([
      { dir: path.join(data, "base"), holds: ["copy", "wal"], tablespaces: ["pg_default"] },
      { dir: disk, holds: ["copy"], tablespaces: [PLACED] },
    ]);
    // The backup's size split as the live database keeps it: the table and its index.
    const part = d.disks![1].neededBytes!;
    expect(part).toBeGreaterThan(eventsBytes * 0.9);
    expect(part).toBeLessThan(eventsBytes * 1.1);
    expect(d.disks![0].neededBytes! + part).toBe(d.neededBytes);
    expect(warnings.join("\n")).not.toContain("The restored copy");

    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + ABOVE_RESERVE);
    try {
      ({ plan, warnings } = await previewRestore(env.ctx, backupId));
      expect(warnings.join("\n")).toContain(`The restored copy's part in tablespace ${PLACED} needs about`);
      expect(warnings.join("\n")).toContain(`on the server's disk (${disk})`);
    } finally {
      resize(disk, 256 << 20);
    }
  });

  it("a table a stuck migration holds does not hold up the measure: pg_class's figures stand in for it", async () => {
    await sql(env.targetUrl, "VACUUM (ANALYZE) public.events");
    const total = Number((await sql<{ n: string }>(env.targetUrl, "SELECT (pg_total_relation_size('public.events'))::text AS n"))[0].n);
    const exact = await withClient(env.targetUrl, relationPlacement);
    expect(exact.placed).toEqual([{ tablespace: PLACED, bytes: total }]);
    await withClient(env.targetUrl, async (migration) => {
      await migration.query("BEGIN; LOCK TABLE public.events IN ACCESS EXCLUSIVE MODE");
      const t0 = Date.now();
      const held = await withClient(env.targetUrl, relationPlacement);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(held.placed).toEqual([{ tablespace: PLACED, bytes: expect.any(Number) }]);
      // relpages counts the main forks only (no free-space or visibility maps).
      expect(held.placed[0].bytes).toBeGreaterThan(total * 0.9);
      expect(held.placed[0].bytes).toBeLessThan(total);
      await migration.query("ROLLBACK");
    });
  });

  it("the swap restore stops before that disk fills, naming it: the live database as it was, the copy dropped", async () => {
    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + ABOVE_RESERVE);
    try {
      const { status, row } = await restore(env, backupId);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toMatch(
        new RegExp(
          `^The restore failed before the swap: Stopped before the server's disk filled up: ${disk} \\(the restored copy's part in tablespace ${PLACED}\\) had [0-9.]+ (KiB|MiB) free of [0-9.]+ MiB, less than the 12 MiB the restore leaves free \\(DISK_RESERVE_MB\\)\\. .*The live database was never touched; the fresh copy was discarded\\.$`,
        ),
      );
      expect(await freshCopies()).toEqual([]);
      expect((await usedOn(disk)).used).toBeLessThanOrEqual(before.used + PAGE * 64);
    } finally {
      resize(disk, 256 << 20);
    }
    expect(await fingerprint(env.targetUrl)).toEqual(original);
  });

  it("a drill on the same server watches that disk too", async () => {
    const before = await usedOn(disk);
    resize(disk, before.used + RESERVE + ABOVE_RESERVE);
    try {
      const r = await runDrill(env.ctx, backupId);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(new RegExp(`^Stopped before the server's disk filled up: ${disk} \\(the restored copy's part in tablespace ${PLACED}\\) had `));
      expect(await sql(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${scratchDatabasePrefix(r.drillId)}%`])).toEqual([]);
      expect((await usedOn(disk)).used).toBeLessThanOrEqual(before.used + PAGE * 64);
    } finally {
      resize(disk, 256 << 20);
    }
  });

  it("restores exactly, the table back in its tablespace, once that disk has room", async () => {
    await sql(env.targetUrl, "DELETE FROM public.events WHERE id % 2 = 0");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    const placed = await sql(env.targetUrl, "SELECT c.relname AS rel, t.spcname AS ts FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname IN ('events', 'events_pkey') ORDER BY 1");
    expect(placed).toEqual([
      { rel: "events", ts: PLACED },
      { rel: "events_pkey", ts: PLACED },
    ]);
  });
});
