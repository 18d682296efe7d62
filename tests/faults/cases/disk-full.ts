// The disk fills up during a local backup: the archive write fails with ENOSPC (a driver
// wrapper that runs out after N bytes, and — when this machine lets us mount one — a real
// 5 MB tmpfs), or only the manifest does. Each time: FAILED with the reason, nothing
// listed, no temp file left, and a backup with room succeeds.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PgServer } from "../../support/pg";
import { caseEnv, checkCatalogue, checkNextBackup } from "../case-env";
import { listKeys, localTempFiles } from "../../support/listing";
import { FullDiskStorage } from "../enospc-storage";
import type { FaultCase, Recorder } from "../harness";
import { runBackup } from "../../../lib/backup/run-backup";
import { LocalStorage } from "../../../lib/backup/storage/local";
import type { BackupContext } from "../../../lib/backup/context";

async function failsWithEnospc(ctx: BackupContext, r: Recorder, label: string, dir: string, keep?: string): Promise<void> {
  const job = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
  const res = await runBackup(ctx, job.id);
  const row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
  r.check(`${label}: FAILED`, row.status === "FAILED", row.status);
  r.check(`${label}: reason says the disk is full`, /ENOSPC|no space/i.test(row.failureReason ?? ""), row.failureReason ?? res.failureReason ?? "");
  const listed = (await listKeys(ctx.storage)).filter((k) => !keep || !k.includes(keep));
  r.check(`${label}: nothing listed`, listed.length === 0, listed.join(", "));
  const temps = await localTempFiles(dir);
  r.check(`${label}: no temp file left`, temps.length === 0, temps.join(", "));
}

export function diskFull(pgs: PgServer): FaultCase {
  return {
    name: "disk full during a local backup",
    timeoutMs: 240_000,
    async run(r) {
      let full: FullDiskStorage | undefined;
      const env = await caseEnv(pgs, { storage: "local", blobMb: 8, storageOverride: (s) => (full = new FullDiskStorage(s, 64 * 1024)) });
      const units: string[] = ["archive ENOSPC", "manifest ENOSPC"];
      try {
        await failsWithEnospc(env.ctx, r, "archive overflows (driver, 64 KiB)", env.storageDir!);
        // Room for the archive, none for the manifest: measure the archive with a good run.
        full!.budgetBytes = Number.MAX_SAFE_INTEGER;
        const okId = await checkNextBackup(env.ctx, r, "with room, a backup succeeds");
        const archiveBytes = Number((await env.ctx.db.backupJob.findUniqueOrThrow({ where: { id: okId! } })).sizeBytes);
        full!.used = 0;
        full!.budgetBytes = archiveBytes + 512;
        await failsWithEnospc(env.ctx, r, "manifest overflows (driver)", env.storageDir!, okId!);
        r.check("the archive itself fit that time (the manifest overflowed)", full!.used >= archiveBytes - 4096, `${full!.used} of ${archiveBytes} bytes accepted`);

        // A real filesystem that fills up, when we may mount one.
        const mnt = await mkdtemp(path.join(tmpdir(), "vaultline-faults-tmpfs-"));
        let mounted = false;
        try {
          execFileSync("mount", ["-t", "tmpfs", "-o", "size=5m", "tmpfs", mnt], { stdio: "ignore" });
          mounted = true;
        } catch {
          r.note("tmpfs mount not permitted here; the real-filesystem variant was skipped");
        }
        if (mounted) {
          units.push("tmpfs 5 MB");
          try {
            const ctx = { ...env.ctx, storage: new LocalStorage(path.join(mnt, "store")) };
            await failsWithEnospc(ctx, r, "tmpfs 5 MB fills up", mnt);
            const fs = await statfs(mnt);
            const usedKb = ((fs.blocks - fs.bfree) * fs.bsize) / 1024;
            r.check("tmpfs space given back", usedKb < 256, `${usedKb} KiB still used`);
          } finally {
            execFileSync("umount", [mnt], { stdio: "ignore" });
          }
        }
        await rm(mnt, { recursive: true, force: true });

        full!.budgetBytes = Number.MAX_SAFE_INTEGER;
        await checkNextBackup(env.ctx, r, "with room again, the next backup succeeds");
        await checkCatalogue(env.ctx, r);
      } finally {
        r.units = units.join(", ");
        await env.cleanup();
      }
    },
  };
}
