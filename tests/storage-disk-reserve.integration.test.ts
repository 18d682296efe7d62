// A backup to local storage stops before it takes the disk's last DISK_RESERVE_MB (decision
// 159). The embedded default keeps PostgreSQL's data and the backups under one DATA_DIR: a
// backup that filled that disk stopped the server — Vaultline's own database, and the
// application's when it lives there too. Real small disks: tmpfs mounts (root only).
import { afterAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { readdir, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { canMountTmpfs, mountTmpfs, unmountTmpfs } from "./support/tmpfs";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { DiskReserveError, LocalStorage } from "../lib/backup/storage/local";
import { runBackup } from "../lib/backup/run-backup";
import { backupHealthChecks, storageDiskCheck } from "../lib/backup/health-checks";
import { formatBytes } from "../lib/format";
import { stopBosses } from "../lib/queue";

const MiB = 1024 * 1024;
const freeOn = async (dir: string) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};
/** Every file under dir, the storage's hidden temp files included. */
const filesUnder = async (dir: string) => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
const chunks = (total: number, size = 256 * 1024) => Readable.from((function* () {
  for (let sent = 0; sent < total; sent += size) yield randomBytes(Math.min(size, total - sent));
})());

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!canMountTmpfs)("local storage on a disk near full", () => {
  const mounts: string[] = [];
  const mount = (bytes: number) => {
    const dir = mkdtempSync(path.join(tmpdir(), "vaultline-storage-disk-"));
    mountTmpfs(dir, bytes);
    mounts.push(dir);
    return dir;
  };
  let env: TestEnv | null = null;

  afterAll(async () => {
    await env?.cleanup();
    for (const dir of mounts) unmountTmpfs(dir);
  });

  it("a write stops before it takes the reserve: the error says where and how much, no file is left, the room comes back", async () => {
    const disk = mount(24 * MiB);
    const storage = new LocalStorage(disk, { reserveBytes: 8 * MiB });
    const before = await freeOn(disk);
    const put = storage.put("backups/a/archive.dump.gpg", chunks(20 * MiB));
    await expect(put).rejects.toBeInstanceOf(DiskReserveError);
    await expect(put).rejects.toThrow(
      new RegExp(`^Stopped before the storage disk filled up: ${disk} had [0-9.]+ MiB free of 24 MiB, less than the 8 MiB Vaultline leaves free \\(DISK_RESERVE_MB\\)\\. Free space there`),
    );
    expect(await filesUnder(disk)).toEqual([]);
    expect(await freeOn(disk)).toBe(before);
    // Within the room, a write lands whole.
    await expect(storage.put("backups/b/archive.dump.gpg", chunks(4 * MiB))).resolves.toEqual({ size: 4 * MiB });
    // Without a reserve the same disk is filled to its end (what every write did before).
    const unguarded = new LocalStorage(disk);
    await expect(unguarded.put("backups/c/archive.dump.gpg", chunks(30 * MiB))).rejects.toMatchObject({ code: "ENOSPC" });
  });

  it("a FULL backup that would take the reserve fails with that reason and leaves nothing behind", async () => {
    const disk = mount(16 * MiB);
    env = await makeEnv({ seed: false, overrides: { storage: new LocalStorage(disk, { reserveBytes: 8 * MiB }) } });
    // 12 MiB of incompressible bytes: the archive cannot fit above the reserve.
    await sql(
      env.targetUrl,
      `CREATE TABLE public.blobs (id int PRIMARY KEY, data bytea NOT NULL);
       INSERT INTO public.blobs SELECT g, decode((SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 384) i), 'hex') FROM generate_series(1, 2048) g`,
    );
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const r = await runBackup(env.ctx, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/Stopped before the storage disk filled up: .* less than the 8 MiB Vaultline leaves free \(DISK_RESERVE_MB\)/);
    expect(await filesUnder(disk)).toEqual([]);
  });

  it("the health check says so the day before: degraded once the largest recent FULL would not fit above the reserve", async () => {
    const storage = env!.ctx.storage as LocalStorage;
    const free = await freeOn(storage.root);
    const row = (sizeBytes: number, daysAgo: number) =>
      env!.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", status: "SUCCEEDED", sizeBytes, completedAt: new Date(Date.now() - daysAgo * 86_400_000), metadata: { phases: [] } } });
    // Nine days old: no longer stands for the next backup.
    await row(100 * MiB, 9);
    const small = await row(1 * MiB, 1);
    const fine = await storageDiskCheck(env!.ctx, storage);
    expect(fine).toMatchObject({ status: "ok", dir: storage.root, freeBytes: free, reserveBytes: 8 * MiB, nextBackupBytes: MiB });
    await env!.db.backupJob.update({ where: { id: small.id }, data: { sizeBytes: 12 * MiB } });
    const short = await storageDiskCheck(env!.ctx, storage);
    expect(short.status).toBe("degraded");
    expect(short.message).toBe(
      `the next backup may not fit on the storage disk: ${formatBytes(free)} free, 8 MiB of it kept free (DISK_RESERVE_MB), and the largest FULL backup of the last 8 days took 12 MiB`,
    );
    // Listed among the health checks only for local storage.
    expect(Object.keys(backupHealthChecks(env!.ctx, null))).toContain("storageDisk");
  });
});
