// A restore into a copy (decision 169) restores the backup's files too, beside the live ones
// (decision 191). The case: a user deleted an invoice yesterday, and the application removed
// its PDF from the uploads; the copy brings the invoice's rows back, and now the PDF with them,
// into RESTORE_COPY_FILES_DIR/<copy database>, while FILES_DIR — which the application serves
// and writes to — is not touched. The files go when the copy is dropped. On the application
// fixture (owner role, extensions, schemas, partitions, views, a large object) with uploads in
// nested directories, modes of their own and a binary file.
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { asAppRole, buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";
import { dropKeptDatabase, runRestore, startCopyRestore } from "../lib/backup/restore";
import { restoreKey } from "../lib/backup/mirror";
import { getRestore } from "../lib/backup/restores-catalog";
import { runBackup } from "../lib/backup/run-backup";
import { previewRestore } from "../lib/backup/preview";
import { databaseOf } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

/** Every file and directory under `dir`: its content's hash and its mode. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const p = path.join(rel, e.name);
      const mode = ((await stat(path.join(dir, p))).mode & 0o7777).toString(8);
      if (e.isDirectory()) {
        out[`${p}/`] = mode;
        await walk(p);
      } else {
        out[p] = `${createHash("sha256").update(await readFile(path.join(dir, p))).digest("hex")} ${mode}`;
      }
    }
  };
  await walk("");
  return out;
}

describe("a restore into a copy with RESTORE_COPY_FILES_DIR", () => {
  let env: TestEnv;
  let parent: string;
  let filesDir: string;
  let copiesDir: string;
  let backupId: string;
  let atBackup: Record<string, string>;
  let liveNow: Record<string, string>;
  let dbAtBackup: Record<string, string>;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), "vaultline-copy-files-"));
    filesDir = path.join(parent, "uploads");
    copiesDir = path.join(parent, "restored-copies");
    await mkdir(path.join(filesDir, "invoices", "2026"), { recursive: true });
    await mkdir(path.join(filesDir, "avatars"), { recursive: true });
    await writeFile(path.join(filesDir, "invoices", "2026", "inv-0001.pdf"), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256)));
    await writeFile(path.join(filesDir, "invoices", "2026", "inv-0002.pdf"), "%PDF-1.7 second invoice");
    await writeFile(path.join(filesDir, "avatars", "u1.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
    await chmod(path.join(filesDir, "avatars", "u1.png"), 0o640);
    await chmod(path.join(filesDir, "invoices"), 0o750);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2, filesDir, restoreCopyFilesDir: copiesDir } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    dbAtBackup = await catalogFingerprint(sql, env.targetUrl);
    atBackup = await tree(filesDir);
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
    expect((await runBackup(env.ctx, job.id)).failureReason).toBeUndefined();
    backupId = job.id;
    // The migration, the deleted invoice and its PDF, a new upload.
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    await unlink(path.join(filesDir, "invoices", "2026", "inv-0001.pdf"));
    await writeFile(path.join(filesDir, "avatars", "u2.png"), "new since the backup");
    liveNow = await tree(filesDir);
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await rm(parent, { recursive: true, force: true });
  });

  it("the preview says where a copy's files go", async () => {
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.copyWarnings.join(" ")).toContain(`The backup's files go into a directory of RESTORE_COPY_FILES_DIR (${copiesDir}) named as the copy`);
  });

  let restoreId: string;
  let copyFiles: string;

  it("restores the database and the files beside the live ones, byte for byte with their modes; FILES_DIR is not touched", async () => {
    const liveDb = await catalogFingerprint(sql, env.targetUrl);
    ({ restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" }));
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const copy = `${databaseOf(env.targetUrl)}__copy_${restoreId}`;
    copyFiles = path.join(copiesDir, copy);
    expect(await tree(copyFiles)).toEqual(atBackup);
    expect(await tree(filesDir)).toEqual(liveNow);
    // Nothing half-made is left beside it.
    expect(await readdir(copiesDir)).toEqual([copy]);
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.warnings).toContain(`The backup's files were restored into ${copyFiles}, beside the live files (FILES_DIR is as it was); they are removed with the copy ${copy}.`);
    expect(row.warnings.join(" ")).not.toContain("was not restored");
    // Recorded where the restore put them (decision 192): the row, its record in storage, the API.
    expect(row.copyFilesPath).toBe(copyFiles);
    const stored = JSON.parse((await env.ctx.storage.getBytes(restoreKey(env.ctx, restoreId))).toString("utf8")) as { copyFilesPath: string };
    expect(stored.copyFilesPath).toBe(copyFiles);
    expect(await getRestore(env.db, restoreId)).toMatchObject({ copyFilesPath: copyFiles, strategy: "copy" });
    // The live database as it was; the copy as the backup (its own database line aside).
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(liveDb);
    const copyDb = await catalogFingerprint(sql, env.targetUrl.replace(/\/[^/?]+(\?|$)/, `/${copy}$1`));
    const { database: _a, ...copyObjects } = copyDb;
    const { database: _b, ...backupObjects } = dbAtBackup;
    expect(copyObjects).toEqual(backupObjects);
  }, 180_000);

  it("the files go when the copy is dropped, and the audit says so", async () => {
    await dropKeptDatabase(env.ctx, restoreId, SYSTEM, { confirm: "DROP" });
    await expect(stat(copyFiles)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await tree(filesDir)).toEqual(liveNow);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.copy_dropped", details: { path: ["restoreId"], equals: restoreId } } });
    expect(audit.details).toMatchObject({ files: copyFiles });
    // Where they were stays on the restore, now with the copy's drop time.
    expect(await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).toMatchObject({ copyFilesPath: copyFiles, previousDroppedAt: expect.any(Date) });
  });

  it("a target's own directory wins over RESTORE_COPY_FILES_DIR, and the drop removes the files where they were put though the setting has changed since", async () => {
    const own = path.join(parent, "shop-copies");
    await env.db.target.update({ where: { id: "default" }, data: { settings: { copyFilesDir: own } } });
    try {
      const preview = await previewRestore(env.ctx, backupId);
      expect(preview.copyWarnings.join(" ")).toContain(`The backup's files go into a directory of the target's copy files directory (${own}) named as the copy`);
      const { restoreId: id } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(env.ctx, id)).toBe("SUCCEEDED");
      const at = path.join(own, `${databaseOf(env.targetUrl)}__copy_${id}`);
      expect(await tree(at)).toEqual(atBackup);
      expect(await readdir(copiesDir)).toEqual([]);
      expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id } })).copyFilesPath).toBe(at);
      // The setting goes back to RESTORE_COPY_FILES_DIR before the copy is dropped: its files
      // are not left behind (they were, before the path was recorded).
      await env.db.target.update({ where: { id: "default" }, data: { settings: {} } });
      await dropKeptDatabase(env.ctx, id, SYSTEM, { confirm: "DROP" });
      expect(await readdir(own)).toEqual([]);
      const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.copy_dropped", details: { path: ["restoreId"], equals: id } } });
      expect(audit.details).toMatchObject({ files: at });
      expect(await tree(filesDir)).toEqual(liveNow);
    } finally {
      await env.db.target.update({ where: { id: "default" }, data: { settings: {} } });
    }
  }, 180_000);

  it("without FILES_DIR here (it is not touched anyway) the copy still gets its files", async () => {
    const ctx = { ...env.ctx, filesDir: undefined };
    const { restoreId: id } = await startCopyRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(ctx, id)).toBe("SUCCEEDED");
    expect(await tree(path.join(copiesDir, `${databaseOf(env.targetUrl)}__copy_${id}`))).toEqual(atBackup);
    await dropKeptDatabase(ctx, id, SYSTEM, { confirm: "DROP" });
    expect(await readdir(copiesDir)).toEqual([]);
  }, 180_000);

  it("without RESTORE_COPY_FILES_DIR the copy says its files were not restored, and where to set it", async () => {
    const ctx = { ...env.ctx, restoreCopyFilesDir: undefined };
    const { restoreId: id } = await startCopyRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(ctx, id)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id } });
    expect(row.warnings.join(" ")).toContain("The backup's files part was not restored: a copy restores the database only unless a directory is named for its files (RESTORE_COPY_FILES_DIR, or the target's settings");
    expect(await readdir(copiesDir)).toEqual([]);
    await dropKeptDatabase(ctx, id, SYSTEM, { confirm: "DROP" });
  }, 180_000);
});
