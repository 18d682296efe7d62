// FILES_DIR as production deploys it: a volume of its own (a Docker volume, a Kubernetes
// persistent volume), mounted at FILES_DIR (decision 161). The restore's files swap renamed
// FILES_DIR itself aside, which a mount point refuses ("EBUSY: resource busy or locked"):
// every restore with files failed its files part after the database was restored, and the
// extracted copy stayed on the disk above. Now the swap happens inside FILES_DIR, the disk
// is measured before anything changes, and the extraction stops before DISK_RESERVE_MB.
// Real mounts: tmpfs of a set size (root only, as `.ci/run` runs; skipped otherwise).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm, stat, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { canMountTmpfs, mountTmpfs, resizeTmpfs, unmountTmpfs } from "./support/tmpfs";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase } from "./support/app-fixture";
import { restore } from "./support/restore-steps";
import { runBackup } from "../lib/backup/run-backup";
import { previewRestore } from "../lib/backup/preview";
import { recoverFilesSwaps, swapInFiles } from "../lib/backup/files-swap";
import { tarDirectory } from "../lib/backup/files";
import { diskCheckInterval, DiskReserveError, reserveCheck } from "../lib/backup/disk-reserve";
import { LocalStorage } from "../lib/backup/storage/local";
import { stopBosses } from "../lib/queue";

const MiB = 1024 * 1024;
const RESERVE = 4 * MiB;
const fingerprint = (url: string) => catalogFingerprint(sql, url);
const usedOn = async (dir: string) => {
  const s = await statfs(dir);
  return { used: (s.blocks - s.bfree) * s.bsize, free: s.bavail * s.bsize };
};

/**
 * Every entry under dir by its relative path — its exact bytes, shown as text where they are
 * UTF-8 and as hex where not — with what `describe` says of it.
 */
async function walk(dir: string, describe: (abs: Buffer, isFile: boolean) => Promise<string | null>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const go = async (abs: Buffer, rel: Buffer) => {
    for (const e of await readdir(abs, { withFileTypes: true, encoding: "buffer" })) {
      const childAbs = Buffer.concat([abs, Buffer.from("/"), e.name]);
      const childRel = rel.length ? Buffer.concat([rel, Buffer.from("/"), e.name]) : e.name;
      const text = childRel.toString("utf8");
      const said = await describe(childAbs, e.isFile());
      if (said !== null) out[Buffer.from(text).equals(childRel) ? text : `hex:${childRel.toString("hex")}`] = said;
      if (e.isDirectory()) await go(childAbs, childRel);
    }
  };
  await go(Buffer.from(dir), Buffer.alloc(0));
  return out;
}

/**
 * Every file and directory under dir, with its owner, its whole mode (setgid and sticky
 * included) and its time: the whole second, as tar keeps it, read in nanoseconds (a time
 * rounded to the millisecond is in the next second for the last half millisecond of one).
 */
const owners = (dir: string) =>
  walk(dir, async (abs) => {
    const s = await stat(abs, { bigint: true });
    return `${s.uid}:${s.gid} ${(s.mode & 0o7777n).toString(8)} ${s.mtimeNs / 1_000_000_000n}`;
  });

/** The entries whose description differs, each as "path: was → now": a failure names them. */
function differences(now: Record<string, string>, was: Record<string, string>): string[] {
  return [...new Set([...Object.keys(was), ...Object.keys(now)])]
    .filter((k) => now[k] !== was[k])
    .sort()
    .map((k) => `${k}: ${was[k] ?? "(none)"} → ${now[k] ?? "(none)"}`);
}

/** Every file under dir, with its content's SHA-256. */
const tree = (dir: string) => walk(dir, async (abs, isFile) => (isFile ? createHash("sha256").update(await readFile(abs)).digest("hex") : null));

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!canMountTmpfs)("a restore into a FILES_DIR that is a volume of its own", () => {
  let env: TestEnv;
  let parent: string;
  let filesDir: string;
  let backupId: string;
  let originalDb: Record<string, string>;
  let originalFiles: Record<string, string>;
  let originalOwners: Record<string, string>;
  const mounts: string[] = [];

  beforeAll(async () => {
    parent = mkdtempSync(path.join(tmpdir(), "vaultline-files-volume-"));
    filesDir = path.join(parent, "uploads");
    mkdirSync(filesDir);
    mountTmpfs(filesDir, 64 * MiB);
    mounts.push(filesDir);
    // The application's uploads, ~6 MiB, and the filesystem's own lost+found (root's, 0700).
    mkdirSync(path.join(filesDir, "avatars", "2026"), { recursive: true });
    mkdirSync(path.join(filesDir, "invoices"));
    for (let i = 0; i < 6; i++) writeFileSync(path.join(filesDir, "invoices", `inv-${i}.pdf`), randomBytes(MiB));
    for (let i = 0; i < 40; i++) writeFileSync(path.join(filesDir, "avatars", "2026", `${i}.png`), randomBytes(2048 + i));
    writeFileSync(path.join(filesDir, "robots.txt"), "User-agent: *\n");
    // Named by an older system in Latin-1: "café.png", its é one byte (0xE9), not UTF-8.
    writeFileSync(Buffer.concat([Buffer.from(path.join(filesDir, "invoices", "caf")), Buffer.from([0xe9]), Buffer.from(".png")]), "latin1-named");
    // Owned by the application's users, not by Vaultline's (root here, as a container's default).
    for (const rel of ["avatars", "avatars/2026", ...Array.from({ length: 40 }, (_, i) => `avatars/2026/${i}.png`), "invoices", "robots.txt"]) {
      chownSync(path.join(filesDir, rel), 1000, 1000);
    }
    chownSync(path.join(filesDir, "invoices", "inv-0.pdf"), 1001, 1002);
    // Modes a umask would change: a setgid shared directory the application and a worker of
    // one group write into, a group-writable file in it, a private directory and key.
    mkdirSync(path.join(filesDir, "shared"));
    writeFileSync(path.join(filesDir, "shared", "report.csv"), "a,b\n1,2\n");
    chownSync(path.join(filesDir, "shared"), 1000, 1003);
    chownSync(path.join(filesDir, "shared", "report.csv"), 1000, 1003);
    chmodSync(path.join(filesDir, "shared"), 0o2775);
    chmodSync(path.join(filesDir, "shared", "report.csv"), 0o664);
    mkdirSync(path.join(filesDir, "private"));
    writeFileSync(path.join(filesDir, "private", "signing.pem"), randomBytes(256));
    chmodSync(path.join(filesDir, "private", "signing.pem"), 0o600);
    chmodSync(path.join(filesDir, "private"), 0o750);
    // An upload written in the last half millisecond of its second: Node's Date for it is in
    // the next second, which is where the archive put it once (a CI run in ~40 caught it).
    const lateInSecond = new Date("2025-06-01T08:00:00Z").getTime() / 1000 + 0.9997;
    utimesSync(path.join(filesDir, "avatars", "2026", "7.png"), lateInSecond, lateInSecond);
    // Directory times from long ago (the restore's own writes would otherwise set them to now).
    const past = new Date("2024-03-01T12:00:00Z");
    for (const rel of ["avatars/2026", "avatars", "invoices", "shared", "private"]) utimesSync(path.join(filesDir, rel), past, past);
    mkdirSync(path.join(filesDir, "lost+found"));
    chmodSync(path.join(filesDir, "lost+found"), 0o700);
    writeFileSync(path.join(filesDir, "lost+found", "#4242"), "fsck's, not the application's");

    env = await makeEnv({ seed: false, overrides: { filesDir, diskReserveBytes: RESERVE, restoreStrategy: "swap", restoreJobs: 2 } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    originalDb = await fingerprint(env.targetUrl);
    originalFiles = await tree(filesDir);
    originalOwners = await owners(filesDir);
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
    const r = await runBackup(env.ctx, job.id);
    expect(r.failureReason).toBeUndefined();
    backupId = job.id;
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    for (const m of mounts) unmountTmpfs(m);
    await rm(parent, { recursive: true, force: true });
  });

  it("the backup leaves lost+found out; the restore swaps the files in, exactly, and leaves nothing of its own", async () => {
    const manifest = (await previewRestore(env.ctx, backupId)).manifest!;
    expect(manifest.parts.map((p) => p.name)).toEqual(["database", "files"]);
    await writeFile(path.join(filesDir, "robots.txt"), "Disallow: /\n");
    await rm(path.join(filesDir, "invoices", "inv-3.pdf"));
    await writeFile(path.join(filesDir, "invoices", "inv-99.pdf"), randomBytes(4096));
    await sql(env.targetUrl, "DELETE FROM public.orders WHERE id % 3 = 0; UPDATE public.customers SET name = 'changed'");

    const { plan, warnings } = await previewRestore(env.ctx, backupId);
    expect(plan!.filesDisk).toMatchObject({ dir: filesDir, reserveBytes: RESERVE });
    expect(plan!.filesDisk!.neededBytes).toBeGreaterThan(6 * MiB);
    expect(plan!.filesDisk!.neededBytes).toBeLessThan(7 * MiB);
    expect(plan!.filesDisk!.freeBytes).toBe((await usedOn(filesDir)).free);
    expect(warnings.join("\n")).not.toContain("The backup's files need");

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(row.warnings).toEqual([]);
    expect(status).toBe("SUCCEEDED");
    expect(differences(await tree(filesDir), originalFiles)).toEqual([]);
    // Each with its owner: the application can still write into its own directories.
    expect(differences(await owners(filesDir), originalOwners)).toEqual([]);
    expect(originalOwners["avatars/2026/7.png"]).toMatch(/^1000:1000 /);
    expect(originalOwners["invoices/inv-0.pdf"]).toMatch(/^1001:1002 /);
    // Modes as they were, past the umask: setgid kept, group write kept, private kept private.
    expect(originalOwners["shared"]).toMatch(/^1000:1003 2775 /);
    expect(originalOwners["shared/report.csv"]).toMatch(/^1000:1003 664 /);
    expect(originalOwners["private"]).toMatch(/^0:0 750 /);
    expect(originalOwners["private/signing.pem"]).toMatch(/^0:0 600 /);
    expect(originalOwners["invoices"]).toMatch(/ 1709294400$/);
    expect(originalOwners["avatars/2026/7.png"]).toMatch(/ 1748764800$/);
    // The Latin-1 name came back byte for byte (decision 163).
    expect(originalFiles[`hex:${Buffer.from("invoices/caf\xe9.png", "latin1").toString("hex")}`]).toBeDefined();
    expect(readdirSync(filesDir).sort()).toEqual(["avatars", "invoices", "lost+found", "private", "robots.txt", "shared"]);
    expect(readdirSync(parent)).toEqual(["uploads"]);
    expect(await fingerprint(env.targetUrl)).toEqual(originalDb);
  });

  it("a disk without room for the files: the preview warns, the restore refuses before anything changes", async () => {
    await writeFile(path.join(filesDir, "robots.txt"), "changed after the backup\n");
    const filesBefore = await tree(filesDir);
    const dbBefore = await fingerprint(env.targetUrl);
    const { used } = await usedOn(filesDir);
    resizeTmpfs(filesDir, used + RESERVE + 2 * MiB);
    try {
      const { warnings } = await previewRestore(env.ctx, backupId);
      expect(warnings.join("\n")).toMatch(
        new RegExp(`The backup's files need about [0-9.]+ MiB in FILES_DIR \\(${filesDir}\\), whose disk has [0-9.]+ MiB free, and a restore keeps 4 MiB of it free \\(DISK_RESERVE_MB\\)`),
      );
      expect(warnings.join("\n")).toContain("Until then the restore refuses to run.");
      const { status, row } = await restore(env, backupId);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toMatch(/^The backup's files need about .* Free space on that disk \(or lower DISK_RESERVE_MB\), and restore again\. Nothing was changed\.$/);
      // Refused before the safety backup: nothing ran.
      expect(row.safetyBackupId && (await env.db.backupJob.findUnique({ where: { id: row.safetyBackupId } }))?.status).not.toBe("SUCCEEDED");
    } finally {
      resizeTmpfs(filesDir, 64 * MiB);
    }
    expect(await tree(filesDir)).toEqual(filesBefore);
    expect(await fingerprint(env.targetUrl)).toEqual(dbBefore);
  });

  it("an extraction that outgrows the disk stops before the reserve: FILES_DIR as it was, the room given back", async () => {
    const filesBefore = await tree(filesDir);
    const { used } = await usedOn(filesDir);
    resizeTmpfs(filesDir, used + RESERVE + 2 * MiB);
    try {
      const src = mkdtempSync(path.join(tmpdir(), "vaultline-files-src-"));
      try {
        for (let i = 0; i < 6; i++) writeFileSync(path.join(src, `big-${i}.bin`), randomBytes(MiB));
        const checkDisk = { everyBytes: diskCheckInterval(RESERVE), check: reserveCheck(filesDir, RESERVE, { what: "files", advice: "FILES_DIR keeps the files it had. Free space there, and restore again" }) };
        const swap = swapInFiles(filesDir, "guarded", tarDirectory(src), { checkDisk });
        await expect(swap).rejects.toBeInstanceOf(DiskReserveError);
        await expect(swap).rejects.toThrow(
          new RegExp(`^Stopped before the files disk filled up: ${filesDir} had [0-9.]+ (KiB|MiB) free of [0-9.]+ MiB, less than the 4 MiB Vaultline leaves free \\(DISK_RESERVE_MB\\)\\. FILES_DIR keeps the files it had\\. Free space there, and restore again$`),
        );
      } finally {
        await rm(src, { recursive: true, force: true });
      }
      expect(await tree(filesDir)).toEqual(filesBefore);
      expect(readdirSync(filesDir).filter((e) => e.startsWith(".vaultline-"))).toEqual([]);
      expect((await usedOn(filesDir)).used).toBeLessThanOrEqual(used + 64 * 1024);
    } finally {
      resizeTmpfs(filesDir, 64 * MiB);
    }
  });

  it("a directory inside FILES_DIR that is a mount of its own: nothing is moved, the restore says why, FILES_DIR keeps its files", async () => {
    const cache = path.join(filesDir, "cache");
    mkdirSync(cache);
    mountTmpfs(cache, 4 * MiB);
    mounts.unshift(cache);
    try {
      writeFileSync(path.join(cache, "thumb.png"), randomBytes(1024));
      const filesBefore = await tree(filesDir);
      const { status, row } = await restore(env, backupId);
      expect(status).toBe("SUCCEEDED");
      expect(row.warnings).toEqual([
        "Restoring the files part failed after the database was restored: The files were not swapped in: cache/ is a mount of its own. FILES_DIR keeps the files it had",
      ]);
      expect(await tree(filesDir)).toEqual(filesBefore);
      expect(readdirSync(filesDir).filter((e) => e.startsWith(".vaultline-"))).toEqual([]);
    } finally {
      unmountTmpfs(cache);
      mounts.splice(mounts.indexOf(cache), 1);
    }
  });

  it("a swap an older Vaultline staged beside the volume is discarded, with the reason: FILES_DIR keeps its files", async () => {
    const filesBefore = await tree(filesDir);
    mkdirSync(`${filesDir}.restore-old1`);
    writeFileSync(path.join(`${filesDir}.restore-old1`, "robots.txt"), "staged beside");
    writeFileSync(`${filesDir}.restore-old1.ready`, "");
    expect(await recoverFilesSwaps(filesDir)).toEqual([`files swap old1 discarded: ${filesDir} cannot be renamed (EBUSY), so it keeps the files it had`]);
    expect(readdirSync(parent)).toEqual(["uploads"]);
    expect(await tree(filesDir)).toEqual(filesBefore);
  });

  it("a files backup onto a storage disk that fills stops with its reason, and the worker's process lives on", async () => {
    const disk = mkdtempSync(path.join(tmpdir(), "vaultline-files-storage-"));
    // Room for the database part, not for the files part after it.
    mountTmpfs(disk, 9 * MiB);
    mounts.push(disk);
    const ctx = { ...env.ctx, storage: new LocalStorage(disk, { reserveBytes: RESERVE }) };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
    const r = await runBackup(ctx, job.id);
    expect(r.failureReason).toMatch(/Stopped before the storage disk filled up/);
    const phases = ((await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).metadata as { phases: { phase: string }[] }).phases.map((p) => p.phase);
    expect(phases).toContain("archiving files");
    // The tar walk stopped with it: no unheard 'error' (vitest fails the run on one).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).status).toBe("FAILED");
  });
});
