// The swap restore spools the decompressed archive to the OS temp dir (lib/backup/temp-space.ts).
// A temp disk without room for it used to fail the restore with ENOSPC once the spool filled it,
// after the safety backup. Now the preview shows the room needed and free, and the restore
// refuses before anything is touched — and again after a safety backup that took the room on
// a disk it shares with the temp dir. Real small disks: tmpfs mounts of a set size (root only).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync } from "node:fs";
import { readdir, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { canMountTmpfs as canMount, mountTmpfs, resizeTmpfs as resize, unmountTmpfs } from "./support/tmpfs";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { buildAppDatabase } from "./support/app-fixture";
import { previewRestore } from "../lib/backup/preview";
import { LocalStorage } from "../lib/backup/storage/local";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { SPOOL_HEADROOM_BYTES } from "../lib/backup/temp-space";
import { stopBosses } from "../lib/queue";

const fingerprint = (url: string) => catalogFingerprint(sql, url);
/** Runs `fn` with os.tmpdir() — where the restore spools — in `dir`. */
async function withTmpdir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const was = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await fn();
  } finally {
    if (was === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = was;
  }
}

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!canMount)("a swap restore and a temp disk too small for its spool", () => {
  let env: TestEnv;
  let backupId: string;
  let original: Record<string, string>;
  const mounts: string[] = [];
  /** Holds the backups and, in the second test, the temp dir too. */
  let shared: string;
  /** 1 MiB: holds nothing this restore needs. */
  let tiny: string;

  const mount = (bytes: number) => {
    const dir = mkdtempSync(path.join(tmpdir(), "vaultline-tmpfs-"));
    mountTmpfs(dir, bytes);
    mounts.push(dir);
    return dir;
  };
  const freshCopies = async () =>
    (await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`])).map((r) => r.datname);

  beforeAll(async () => {
    shared = mount(1 << 30);
    tiny = mount(1 << 20);
    mkdirSync(path.join(shared, "store"));
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, storage: new LocalStorage(path.join(shared, "store")) } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    // 2 MiB of incompressible bytes: the safety backup takes a measurable share of the disk.
    await sql(
      env.targetUrl,
      `CREATE TABLE public.blobs (id int PRIMARY KEY, data bytea NOT NULL);
       INSERT INTO public.blobs SELECT g, decode((SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 64) i), 'hex') FROM generate_series(1, 2048) g`,
    );
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    for (const d of await freshCopies().catch(() => [])) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    await env?.cleanup();
    for (const dir of mounts) unmountTmpfs(dir);
  });

  it("the preview says it will not fit, and the restore refuses before the safety backup with the database untouched", async () => {
    const preview = await withTmpdir(tiny, () => previewRestore(env.ctx, backupId));
    const space = preview.plan!.tempSpace!;
    expect(space.dir).toBe(tiny);
    expect(space.neededBytes).toBeGreaterThan(SPOOL_HEADROOM_BYTES + 2 * 1024 * 1024);
    expect(space.freeBytes).toBeLessThanOrEqual(1 << 20);
    expect(preview.warnings.join("\n")).toContain(`temporary file in ${tiny} and needs`);
    expect(preview.warnings.join("\n")).toContain("the restore refuses to run");

    const { status, row } = await withTmpdir(tiny, () => restore(env, backupId));
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(new RegExp(`^The restore writes the decompressed backup to a temporary file in ${tiny} and needs [0-9.]+ MiB free there; [0-9.]+ (KiB|MiB) are free \\([0-9.]+ MiB short\\)\\. .*TMPDIR.* Nothing was changed\\.$`));
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } })).status).toBe("CANCELLED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    expect(await freshCopies()).toEqual([]);
    expect(await readdir(tiny)).toEqual([]);
  });

  it("refuses again after a safety backup that took the room on the disk it shares with the temp dir, before the fresh copy is made", async () => {
    const needed = (await withTmpdir(shared, () => previewRestore(env.ctx, backupId))).plan!.tempSpace!.neededBytes;
    const stored = Number((await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } })).sizeBytes);
    expect(stored).toBeGreaterThan(2 * 1024 * 1024);
    // Room for the spool now, with half a backup to spare: the safety backup takes more than that.
    const s = await statfs(shared);
    const used = (s.blocks - s.bfree) * s.bsize;
    resize(shared, used + needed + stored / 2);
    const preview = await withTmpdir(shared, () => previewRestore(env.ctx, backupId));
    expect(preview.plan!.tempSpace!.freeBytes).toBeGreaterThanOrEqual(needed);
    expect(preview.warnings.join("\n")).not.toContain("temporary file");

    const { status, row } = await withTmpdir(shared, () => restore(env, backupId));
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(new RegExp(`^The restore writes the decompressed backup to a temporary file in ${shared} and needs .* Nothing was changed\\.$`));
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } })).status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    expect(await freshCopies()).toEqual([]);
    expect((await readdir(shared)).filter((n) => n.startsWith("vaultline-restore-"))).toEqual([]);
  });

  it("restores exactly once the temp disk has room", async () => {
    resize(shared, 1 << 30);
    await sql(env.targetUrl, "DELETE FROM public.blobs WHERE id > 1000");
    const { status, row } = await withTmpdir(shared, () => restore(env, backupId));
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
    expect((await readdir(shared)).filter((n) => n.startsWith("vaultline-restore-"))).toEqual([]);
  });
});
