// Follows docs/recovery.md to the letter: its command block runs in bash against a real
// backup downloaded by the CLI, with only gpg, zstd/gzip, sha256sum, tar and pg_restore —
// for a backup made today (zstd), one made with gzip, and one made before issue 14
// (pg_dump's own compression, no codec in the manifest).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile, readdir, mkdir } from "node:fs/promises";
import * as openpgp from "openpgp";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { adminUrl, cliEnv, makeEnv, PASSPHRASE, createDatabase, dropDatabase, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { sql, urlAs } from "./support/pg";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { databaseOf } from "../lib/backup/swap";
import { withClient } from "../lib/backup/pg-client";
import { readDatabaseState } from "../lib/backup/database-state";
import { runBackup } from "../lib/backup/run-backup";
import { reencryptBackups } from "../lib/backup/reencrypt";
import { backupKeys } from "../lib/backup/manifest";
import { SYSTEM } from "../lib/audit";

const run = promisify(execFile);

function recoveryBlock(doc: string): string {
  const block = /<!-- recovery-steps:start -->\s*```bash\n([\s\S]*?)```\s*<!-- recovery-steps:end -->/.exec(doc)?.[1];
  expect(block).toBeTruthy();
  return block!;
}

/**
 * Runs the documented block on a downloaded backup folder, restoring into `targetUrl`. A
 * failure says the block's exit status and what it wrote to stderr (not the whole block).
 */
async function runDocumentedCommands(work: string, out: string, targetUrl: string, key: { passphrase: string; privateKey?: string } = { passphrase: PASSPHRASE }) {
  const block = recoveryBlock(await readFile("docs/recovery.md", "utf8"));
  const passFile = path.join(work, "passphrase");
  await writeFile(passFile, key.passphrase, { mode: 0o600 });
  const gnupg = await mkdtemp(path.join(tmpdir(), "vaultline-gnupg-"));
  try {
    if (key.privateKey) {
      // As the document says: the private key imported first.
      await writeFile(path.join(gnupg, "private.asc"), key.privateKey);
      await run("gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase-file", passFile, "--import", path.join(gnupg, "private.asc")], { env: { ...process.env, GNUPGHOME: gnupg } });
    }
    return await run("bash", ["-c", block], {
      env: { ...process.env, BACKUP_DIR: out, PASSPHRASE_FILE: passFile, TARGET_URL: targetUrl, GNUPGHOME: gnupg },
    }).catch((e: { code?: number | string; signal?: string; stderr?: string }) => {
      throw Object.assign(new Error(`the documented commands ended with status ${e.code ?? e.signal}; stderr:\n${e.stderr ?? ""}`), { code: e.code, stderr: e.stderr });
    });
  } finally {
    await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: gnupg } }).catch(() => {});
    await rm(gnupg, { recursive: true, force: true });
  }
}

/** Runs the documented block on a downloaded backup folder into a fresh database; returns its state. */
async function recoverWithDocumentedCommands(work: string, out: string, key: { passphrase: string; privateKey?: string } = { passphrase: PASSPHRASE }) {
  const target = await createDatabase("recovered");
  try {
    await runDocumentedCommands(work, out, target, key);
    return await dbState(target);
  } finally {
    await dropDatabase(target);
  }
}

// Each case starts the CLI (tsx) two or three times: minutes on a busy 2-core machine.
describe("docs/recovery.md", { timeout: 240_000 }, () => {
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
    // The database's own state, which pg_restore writes only with --create (step 3b): a
    // grant, a comment that would trip format() and quoting, a list setting, a role's setting.
    const db = databaseOf(env.targetUrl);
    await sql(env.targetUrl, `DO $$ BEGIN CREATE ROLE vl_doc_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await sql(
      env.targetUrl,
      `GRANT CONNECT ON DATABASE "${db}" TO vl_doc_reader;
       REVOKE TEMPORARY ON DATABASE "${db}" FROM PUBLIC;
       COMMENT ON DATABASE "${db}" IS '100%I ''quoted'' $vl$ \\ done';
       ALTER DATABASE "${db}" SET search_path = public, "$user";
       ALTER DATABASE "${db}" SET statement_timeout = '42s';
       ALTER ROLE vl_doc_reader IN DATABASE "${db}" SET work_mem = '8MB';`,
    );
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: true, phases: [] } } });
    expect((await runBackup(env.ctx, job.id)).status).toBe("SUCCEEDED");

    // The CLI, with the dashboard stopped: download from storage alone.
    const out = path.join(work, "restore");
    const cli = cliEnv(env);
    const list = await run("npx", ["tsx", "scripts/cli.ts", "list"], { env: cli });
    expect(list.stdout).toContain(job.id);
    const verify = await run("npx", ["tsx", "scripts/cli.ts", "verify", job.id], { env: cli });
    expect(verify.stdout).toMatch(/database: OK/);
    expect(verify.stdout).toMatch(/files: OK/);
    await run("npx", ["tsx", "scripts/cli.ts", "download", job.id, "--out", out], { env: cli });
    expect((await readdir(out)).sort()).toEqual(["archive.dump.gpg", "files.tar.gpg", "manifest.json"]);
    // The default setting: zstd outside pg_dump, recorded on the database part.
    const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { parts: { name: string; compression?: { codec: string; pgDump: string } }[] };
    expect(manifest.parts.find((p) => p.name === "database")?.compression).toMatchObject({ codec: "zstd", pgDump: "-Z0" });
    // The one-liner at the top of the document, with the stock tools.
    const gnupg1 = await mkdtemp(path.join(tmpdir(), "vaultline-gnupg-"));
    const pipeList = await run(
      "bash",
      // No pipefail: pg_restore --list stops reading after the table of contents, so zstd and
      // gpg end on a closed pipe; pg_restore's own status is the one that matters.
      ["-c", 'set -eu; gpg --batch --pinentry-mode loopback --passphrase "$P" -d "$F" | zstd -d | pg_restore --list'],
      { env: { ...process.env, P: PASSPHRASE, F: path.join(out, "archive.dump.gpg"), GNUPGHOME: gnupg1 } },
    );
    await rm(gnupg1, { recursive: true, force: true });
    expect(pipeList.stdout).toMatch(/TABLE public customers/);

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
      const original = await withClient(env.targetUrl, readDatabaseState);
      expect(original.comment).toBe("100%I 'quoted' $vl$ \\ done");
      expect(original.settings.length).toBe(2);
      // Owner, grants, comment and settings: the recovered database's equal the backed-up one's.
      expect(await withClient(target, readDatabaseState)).toEqual(original);
      expect(await readFile(path.join(out, "files", "photo.jpg"), "utf8")).toBe("jpeg-bytes");
    } finally {
      await dropDatabase(target);
    }
  });

  it.each([
    ["gzip", { codec: "gzip", level: 6 }, false],
    ["made before issue 14 (no codec field)", { codec: "none", level: null }, true],
  ] as const)("restores a backup %s with the same documented commands", async (_name, compression, legacy) => {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
    expect((await runBackup({ ...env.ctx, compression }, job.id)).status).toBe("SUCCEEDED");
    const out = path.join(work, `restore-${compression.codec}`);
    await run("npx", ["tsx", "scripts/cli.ts", "download", job.id, "--out", out], { env: cliEnv(env) });
    const manifestFile = path.join(out, "manifest.json");
    if (legacy) {
      // An archive from before issue 14 is exactly this: pg_dump's own zlib, and a manifest
      // part without the field.
      const m = JSON.parse(await readFile(manifestFile, "utf8")) as { parts: { compression?: unknown }[] };
      for (const p of m.parts) delete p.compression;
      await writeFile(manifestFile, JSON.stringify(m, null, 2));
    }
    expect(await recoverWithDocumentedCommands(work, out)).toEqual(await dbState(env.targetUrl));
  });

  /** The backup's folder copied straight from storage, as `aws s3 cp --recursive` would. */
  async function rawCopy(id: string, name: string): Promise<string> {
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const out = path.join(work, name);
    await cp(path.join(env.storageDir!, backupKeys(env.ctx.prefix, env.ctx.env, id, row.createdAt).dir), out, { recursive: true });
    return out;
  }

  it("restores a re-encrypted backup (archive-<keyId>.dump.gpg) copied from storage, with the new key's passphrase", async () => {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
    expect((await runBackup(env.ctx, job.id)).status).toBe("SUCCEEDED");
    const key2 = "recovery-doc-second-key";
    const summary = await reencryptBackups({ ...env.ctx, passphrase: key2, oldPassphrases: [{ passphrase: PASSPHRASE }] }, [job.id], SYSTEM);
    expect(summary.reencrypted).toEqual([job.id]);
    const out = await rawCopy(job.id, "restore-reencrypted");
    expect((await readdir(out)).some((f) => /^archive-[0-9a-f]{16}\.dump\.gpg$/.test(f))).toBe(true);
    expect(await recoverWithDocumentedCommands(work, out, { passphrase: key2 })).toEqual(await dbState(env.targetUrl));
  });

  it("restores a write-only backup (public key) with the private key imported into stock gpg", async () => {
    const keyPass = "private-key-passphrase-1";
    const k = await openpgp.generateKey({ type: "rsa", rsaBits: 2048, userIDs: [{ name: "Recovery", email: "recovery@example.com" }], passphrase: keyPass, format: "armored" });
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
    expect((await runBackup({ ...env.ctx, passphrase: "", publicKey: k.publicKey }, job.id)).status).toBe("SUCCEEDED");
    const out = await rawCopy(job.id, "restore-public-key");
    const m = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { encryption: { recipient?: string } };
    expect(m.encryption.recipient).toMatch(/^[0-9a-f]{40}$/);
    expect(await recoverWithDocumentedCommands(work, out, { passphrase: keyPass, privateKey: k.privateKey })).toEqual(await dbState(env.targetUrl));
  });

  it("restores through the database owner's URL (not a superuser) where the roles and their memberships exist, from an archive whose listing is long", async () => {
    // The new user's run: TARGET_URL as the application's own role, which owns the database
    // but may not grant a membership it has no admin option on, nor change another role's
    // setting in the database; every role and membership already on the server, as the
    // backup recorded them. Hundreds of tables: `pg_restore --list` writes far more than a
    // pipe holds, so a reader that stops early ends it with SIGPIPE (under pipefail, the
    // script's end).
    const OWNER = "vl_rdoc_owner";
    const GROUP = "vl_rdoc_reporting";
    const MEMBER = "vl_rdoc_report_user";
    const made = (stmt: string) => `DO $$ BEGIN ${stmt}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`;
    await sql(adminUrl(), made(`CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER}-pw'`));
    await sql(adminUrl(), made(`CREATE ROLE ${GROUP} NOLOGIN`));
    await sql(adminUrl(), made(`CREATE ROLE ${MEMBER} LOGIN`));
    // Granted by the superuser: the owner holds no admin option on the group.
    await sql(adminUrl(), `GRANT ${GROUP} TO ${MEMBER}`);
    const source = await createDatabase("shop");
    const db = databaseOf(source);
    const asOwner = urlAs(source, OWNER, `${OWNER}-pw`);
    const fresh = await createDatabase("recovered");
    const table = (i: number) => `order_line_archive_${String(i).padStart(4, "0")}_kept_for_the_auditors`;
    const fingerprint = (url: string) => withClient(url, (c) => catalogFingerprint(async (_u, text, params) => (await c.query(text, params)).rows, url));
    const membership = async () =>
      (
        await sql<{ admin: boolean }>(
          adminUrl(),
          `SELECT m.admin_option AS admin FROM pg_auth_members m WHERE m.roleid = '${GROUP}'::regrole AND m.member = '${MEMBER}'::regrole`,
        )
      ).map((r) => r.admin);
    try {
      await sql(source, `ALTER DATABASE "${db}" OWNER TO ${OWNER}; ALTER ROLE ${MEMBER} IN DATABASE "${db}" SET work_mem = '8MB'`);
      await sql(
        asOwner,
        `DO $$ BEGIN FOR i IN 1..800 LOOP
           EXECUTE format('CREATE TABLE %I (id int, n int)', 'order_line_archive_' || lpad(i::text, 4, '0') || '_kept_for_the_auditors');
           EXECUTE format('INSERT INTO %I SELECT g, g * %s FROM generate_series(1, 3) g', 'order_line_archive_' || lpad(i::text, 4, '0') || '_kept_for_the_auditors', i);
         END LOOP; END $$;
         GRANT SELECT ON ${table(1)} TO ${GROUP};
         GRANT SELECT ON ${table(2)} TO ${MEMBER};
         GRANT CONNECT ON DATABASE "${db}" TO ${MEMBER};
         ALTER DATABASE "${db}" SET statement_timeout = '42s';`,
      );
      const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
      expect((await runBackup({ ...env.ctx, targetUrl: source }, job.id)).status).toBe("SUCCEEDED");
      const backedUp = await fingerprint(source);
      const out = await rawCopy(job.id, "restore-as-owner");
      // What the case rests on: the membership is recorded (and, below, the listing is long).
      const m = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { catalog: { roleDefinitions: { name: string; memberOf: { role: string; admin: boolean }[] }[] } };
      expect(m.catalog.roleDefinitions.find((d) => d.name === MEMBER)?.memberOf).toEqual([{ role: GROUP, admin: false }]);
      expect(m.catalog.roleDefinitions.map((d) => d.name)).toContain(OWNER);

      // After the backup, the live database drifts: rows, a table dropped, its own settings
      // and grants; the other role's setting (which only a superuser or CREATEROLE may
      // change) stays as it was.
      await sql(
        asOwner,
        `UPDATE ${table(3)} SET n = -n; DROP TABLE ${table(4)};
         ALTER DATABASE "${db}" SET statement_timeout = '43s'; ALTER DATABASE "${db}" SET lock_timeout = '5s';
         REVOKE CONNECT ON DATABASE "${db}" FROM ${MEMBER};`,
      );
      const drifted = await fingerprint(source);
      expect(drifted).not.toEqual(backedUp);

      // A membership missing on the server, which the owner may not grant: the run stops at
      // step 2b with PostgreSQL's words, before anything is restored.
      await sql(adminUrl(), `REVOKE ${GROUP} FROM ${MEMBER}`);
      await expect(runDocumentedCommands(work, out, asOwner)).rejects.toMatchObject({ stderr: expect.stringContaining(`must have admin option on role "${GROUP}"`) });
      expect(await fingerprint(source)).toEqual(drifted);
      expect(await membership()).toEqual([]);

      // Through a superuser, into a new database: the membership is made again, as recorded.
      await runDocumentedCommands(work, out, fresh);
      expect(await membership()).toEqual([false]);
      expect(await fingerprint(fresh)).toEqual(backedUp);
      // The listing is more than a pipe holds (64 KiB) and head's first read together.
      const listing = await run("pg_restore", ["--list", path.join(out, "archive.dump")], { maxBuffer: 64 << 20 });
      expect(listing.stdout.length).toBeGreaterThan(128 * 1024);

      // Through the owner, every role and membership now there: step 2b leaves them, the
      // long listing is shown, and the restore and step 3b run to the end.
      const ran = await runDocumentedCommands(work, out, asOwner);
      // Its first entries, not its header's comment lines.
      expect(ran.stdout).toMatch(/^\d+; \d+ \d+ [A-Z]/m);
      expect(ran.stdout).not.toMatch(/; Archive created at/);
      expect(await fingerprint(source)).toEqual(backedUp);
      expect(await membership()).toEqual([false]);
    } finally {
      await dropDatabase(fresh);
      await dropDatabase(source);
      await sql(adminUrl(), `DROP ROLE IF EXISTS ${MEMBER}, ${GROUP}, ${OWNER}`).catch(() => undefined);
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
