// `npm run cli -- list | backup [--quick] | verify <id> | download <id> [--out DIR] [--decrypt] | reencrypt [--all | <id>…]`
// Works with the dashboard stopped: list, verify and download read storage alone; backup
// writes to the catalogue database (starting the embedded server when that is the setup).
import { formatBytes } from "../lib/format";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { parseConfig, ConfigError } from "../lib/config";
import { createStorage } from "../lib/backup/storage";
import { createDecryptStream } from "../lib/backup/crypto";
import { createDecompressor, stockDecompressCommand } from "../lib/backup/compression";
import { findManifest, listManifests, offlineDecryptionKey, verifyParts, type OfflineKeys } from "../lib/backup/offline";
import { readEmbeddedKeys } from "../lib/backup/embedded-keys";
import type { Config } from "../lib/config";

function offlineKeys(cfg: Config): OfflineKeys {
  const file = cfg.BACKUP_ENCRYPTION_KEYS_FILE ? readEmbeddedKeys(cfg.BACKUP_ENCRYPTION_KEYS_FILE) : null;
  return {
    current: file?.current ?? (cfg.encryptionPassphrase ? { passphrase: cfg.encryptionPassphrase, id: cfg.BACKUP_ENCRYPTION_KEY_ID } : undefined),
    old: [...(file?.old ?? []), ...(cfg.BACKUP_ENCRYPTION_OLD_PASSPHRASES ?? [])],
    privateKey: cfg.BACKUP_ENCRYPTION_PRIVATE_KEY,
  };
}
import { startEmbeddedPostgres, type EmbeddedServer } from "../lib/embedded-postgres";

const [cmd, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.includes(name);
const option = (name: string) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const positional = rest.filter((a, i) => !a.startsWith("--") && !(i > 0 && rest[i - 1] === "--out"));

function usage(code = 2): never {
  console.error("usage: npm run cli -- list | backup [--quick] | verify <id> | download <id> [--out DIR] [--decrypt] | reencrypt [--all | <id>…]");
  process.exit(code);
}

async function main() {
  if (!cmd || !["list", "backup", "verify", "download", "reencrypt"].includes(cmd)) usage();
  const dataDir = path.resolve(process.env.DATA_DIR || ".data");
  const secretsFile = path.join(dataDir, "secrets.json");
  const embedded = !process.env.DATABASE_URL && existsSync(secretsFile);
  let server: EmbeddedServer | undefined;
  if (embedded) {
    const s = JSON.parse(readFileSync(secretsFile, "utf8"));
    if (!process.env.BACKUP_ENCRYPTION_PASSPHRASE) {
      process.env.BACKUP_ENCRYPTION_PASSPHRASE = s.encryptionPassphrase;
      process.env.BACKUP_ENCRYPTION_KEY_ID ||= s.encryptionKeyId;
      process.env.BACKUP_ENCRYPTION_KEYS_FILE ||= secretsFile;
    }
    process.env.NEXTAUTH_SECRET ||= s.nextAuthSecret;
    const port = Number(process.env.EMBEDDED_PG_PORT || 54329);
    const url = `postgresql://vaultline:${encodeURIComponent(s.postgresPassword)}@127.0.0.1:${port}/vaultline`;
    if (cmd === "backup" || cmd === "reencrypt") {
      // The dashboard may be running (its server is up) or stopped (start ours).
      const probe = new pg.Client({ connectionString: url });
      const up = await probe.connect().then(() => true, () => false);
      await probe.end().catch(() => {});
      if (!up) server = await startEmbeddedPostgres({ dir: path.join(dataDir, "pg"), port, password: s.postgresPassword });
    }
    process.env.DATABASE_URL = url;
  }
  process.env.DATA_DIR = dataDir;
  let cfg;
  try {
    cfg = parseConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const storage = createStorage(cfg);
  try {
    if (cmd === "list") {
      const all = await listManifests(storage, cfg.STORAGE_PREFIX, cfg.BACKUP_ENV);
      console.log(["id", "created (UTC)", "kind", "trigger", "size", "sha256", "commit"].join("\t"));
      for (const { manifest: m } of all) {
        console.log([m.id, m.createdAt.replace(".000Z", "Z"), m.kind, m.trigger, formatBytes(m.sizeBytes), (m.checksumSha256 ?? "-").slice(0, 12), m.commitSha?.slice(0, 10) ?? "-"].join("\t"));
      }
      console.log(`${all.length} backups in ${storage.description}`);
    } else if (cmd === "verify") {
      const id = positional[0] ?? usage();
      const { manifest } = await findManifest(storage, cfg.STORAGE_PREFIX, cfg.BACKUP_ENV, id);
      const results = await verifyParts(storage, manifest, offlineDecryptionKey(offlineKeys(cfg), manifest.encryption), cfg.PG_BIN_DIR);
      for (const r of results) console.log(`${r.part}: ${r.ok ? "OK" : "FAILED"} sha256=${r.storedSha256} ${r.ok ? `(${r.tocEntries} entries)` : r.reason}`);
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    } else if (cmd === "download") {
      const id = positional[0] ?? usage();
      const out = path.resolve(option("--out") ?? ".");
      mkdirSync(out, { recursive: true });
      const { key, manifest } = await findManifest(storage, cfg.STORAGE_PREFIX, cfg.BACKUP_ENV, id);
      await pipeline(await storage.get(key), createWriteStream(path.join(out, "manifest.json")));
      for (const p of manifest.parts) {
        const base = p.name === "files" ? "files.tar" : "archive.dump";
        const encrypted = await storage.get(p.key);
        if (flag("--decrypt")) {
          // Decrypted and decompressed: a file pg_restore reads as it is, whatever the codec.
          await pipeline(encrypted, createDecryptStream(offlineDecryptionKey(offlineKeys(cfg), manifest.encryption)), createDecompressor(p.compression), createWriteStream(path.join(out, base)));
          console.log(`${path.join(out, base)} (decrypted${p.compression && p.compression.codec !== "none" ? `, ${p.compression.codec} decompressed` : ""})`);
        } else {
          await pipeline(encrypted, createWriteStream(path.join(out, `${base}.gpg`)));
          console.log(`${path.join(out, `${base}.gpg`)} sha256 ${p.sha256}`);
          const codec = stockDecompressCommand(p.compression);
          if (p.name === "database") console.log(`  restore with: gpg -d ${base}.gpg${codec ? ` | ${codec}` : ""} | pg_restore -d <database>`);
        }
      }
    } else if (cmd === "backup") {
      const { createDb } = await import("../lib/db");
      const { contextFromConfig } = await import("../lib/backup/context");
      const { runBackup } = await import("../lib/backup/run-backup");
      const db = createDb(cfg.databaseUrl);
      try {
        const ctx = contextFromConfig(cfg, db, storage);
        const job = await db.backupJob.create({
          data: { kind: flag("--quick") ? "QUICK" : "FULL", trigger: "MANUAL", note: "from the CLI", metadata: { includeFiles: !!cfg.FILES_DIR, phases: [] } },
        });
        console.log(`backup ${job.id} started`);
        const r = await runBackup(ctx, job.id);
        const row = await db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
        console.log(r.status === "SUCCEEDED" ? `SUCCEEDED ${formatBytes(row.sizeBytes)} sha256=${row.checksumSha256} key=${row.storageKey}` : `${r.status}: ${r.failureReason}`);
        process.exitCode = r.status === "SUCCEEDED" ? 0 : 1;
      } finally {
        await db.$disconnect();
      }
    } else if (cmd === "reencrypt") {
      if (!flag("--all") && positional.length === 0) usage();
      const { createDb } = await import("../lib/db");
      const { contextFromConfig } = await import("../lib/backup/context");
      const { reencryptBackups } = await import("../lib/backup/reencrypt");
      const db = createDb(cfg.databaseUrl);
      try {
        const ctx = contextFromConfig(cfg, db, storage);
        let shown = "";
        const summary = await reencryptBackups(ctx, flag("--all") ? "all" : positional, { type: "system", label: "cli" }, (p) => {
          const line = `[${p.index + 1}/${p.count}] ${p.backupId} ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
          if (line !== shown) console.log((shown = line));
        });
        for (const id of summary.reencrypted) console.log(`${id}: re-encrypted with the current key`);
        for (const id of summary.current) console.log(`${id}: already on the current key`);
        for (const f of summary.failed) console.log(`${f.id}: FAILED ${f.reason}`);
        console.log(`${summary.reencrypted.length} re-encrypted, ${summary.current.length} already current, ${summary.failed.length} failed`);
        process.exitCode = summary.failed.length ? 1 : 0;
      } finally {
        await db.$disconnect();
      }
    }
  } finally {
    await server?.stop();
  }
}

main().catch((e) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
