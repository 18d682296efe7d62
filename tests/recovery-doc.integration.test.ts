// Follows docs/recovery.md to the letter: its command block runs in bash against a real
// backup downloaded by the CLI, with only gpg, sha256sum, tar and pg_restore.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, readdir, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { makeEnv, PASSPHRASE, createDatabase, dropDatabase, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { runBackup } from "../lib/backup/run-backup";

const run = promisify(execFile);

describe("docs/recovery.md", () => {
  let env: TestEnv;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "vaultline-recovery-"));
    await mkdir(path.join(work, "uploads"));
    await writeFile(path.join(work, "uploads", "photo.jpg"), "jpeg-bytes");
    env = await makeEnv({ overrides: { filesDir: path.join(work, "uploads") } });
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("restores a backup with the CLI download and the documented commands only", async () => {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
    expect((await runBackup(env.ctx, job.id)).status).toBe("SUCCEEDED");

    // The CLI, with the dashboard stopped: download from storage alone.
    const out = path.join(work, "restore");
    const cliEnv = {
      ...process.env,
      DATABASE_URL: env.appUrl,
      BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
      NEXTAUTH_SECRET: "cli-test-secret-0123456789",
      STORAGE: "local",
      LOCAL_STORAGE_DIR: env.storageDir!,
      STORAGE_PREFIX: "backups",
      BACKUP_ENV: "test",
      LOG_LEVEL: "silent",
    };
    const list = await run("npx", ["tsx", "scripts/cli.ts", "list"], { env: cliEnv });
    expect(list.stdout).toContain(job.id);
    const verify = await run("npx", ["tsx", "scripts/cli.ts", "verify", job.id], { env: cliEnv });
    expect(verify.stdout).toMatch(/database: OK/);
    expect(verify.stdout).toMatch(/files: OK/);
    await run("npx", ["tsx", "scripts/cli.ts", "download", job.id, "--out", out], { env: cliEnv });
    expect((await readdir(out)).sort()).toEqual(["archive.dump.gpg", "files.tar.gpg", "manifest.json"]);

    const doc = await readFile("docs/recovery.md", "utf8");
    const block = /<!-- recovery-steps:start -->\s*```bash\n([\s\S]*?)```\s*<!-- recovery-steps:end -->/.exec(doc)?.[1];
    expect(block).toBeTruthy();
    const passFile = path.join(work, "passphrase");
    await writeFile(passFile, PASSPHRASE, { mode: 0o600 });
    const target = await createDatabase("recovered");
    try {
      const gnupg = await mkdtemp(path.join(tmpdir(), "vaultline-gnupg-"));
      await run("bash", ["-c", block!], {
        env: { ...process.env, BACKUP_DIR: out, PASSPHRASE_FILE: passFile, TARGET_URL: target, GNUPGHOME: gnupg },
      });
      await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: gnupg } }).catch(() => {});
      await rm(gnupg, { recursive: true, force: true });
      expect(await dbState(target)).toEqual(await dbState(env.targetUrl));
      expect(await readFile(path.join(out, "files", "photo.jpg"), "utf8")).toBe("jpeg-bytes");
    } finally {
      await dropDatabase(target);
    }
  });

  it("refuses a tampered archive at the checksum step", async () => {
    const out = path.join(work, "restore");
    const enc = path.join(out, "archive.dump.gpg");
    const bytes = await readFile(enc);
    bytes[bytes.length - 100] ^= 1;
    await writeFile(enc, bytes);
    const doc = await readFile("docs/recovery.md", "utf8");
    const block = /<!-- recovery-steps:start -->\s*```bash\n([\s\S]*?)```/.exec(doc)![1];
    await expect(
      run("bash", ["-c", block], { env: { ...process.env, BACKUP_DIR: out, PASSPHRASE_FILE: "/dev/null", TARGET_URL: "postgresql://invalid/none" } }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/did NOT match/) });
  });
});
