// `npm run cli -- list | backup [--quick] | verify <id> | download <id> [--out DIR] [--decrypt] | reencrypt [--all | <id>…]`,
// each of list, backup, verify and download with `--target <name|id>` (default `default`).
// Works with the dashboard stopped: list, verify and download read storage alone (a target
// other than `default` is looked up in the catalogue for its environment, or given with
// `--env`); backup writes to the catalogue database (starting the embedded server when that
// is the setup).
import { formatBytes } from "../lib/format";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { newClient } from "../lib/backup/pg-client";
import { parseConfig, ConfigError } from "../lib/config";
import { createStorage } from "../lib/backup/storage";
import { createDecryptStream } from "../lib/backup/crypto";
import { createDecompressor, stockDecompressCommand } from "../lib/backup/compression";
import { findManifest, listManifests, offlineDecryptionKey, verifyParts, type OfflineKeys } from "../lib/backup/offline";
import { readEmbeddedKeys } from "../lib/backup/embedded-keys";
import type { Config } from "../lib/config";
import type { Manifest } from "../lib/backup/manifest";
import { DEFAULT_TARGET_ID } from "../lib/validation/targets";

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
const VALUED = ["--out", "--target", "--env"];
const positional = rest.filter((a, i) => !a.startsWith("--") && !(i > 0 && VALUED.includes(rest[i - 1])));

function usage(code = 2): never {
  console.error(
    "usage: npm run cli -- list | backup [--quick] | verify <id> | download <id> [--out DIR] [--decrypt] | reencrypt [--all | <id>…]\n" +
      "       list, backup, verify and download take --target <name|id> (default: default); --env ENV skips the catalogue look-up",
  );
  process.exit(code);
}

/** Which target's backups: its storage environment and how to know its manifests. */
interface TargetScope {
  name: string;
  env: string;
  owns(m: Manifest): boolean;
}

/**
 * The target a storage-only command is about. `default` needs no database (BACKUP_ENV);
 * another target's environment comes from the catalogue, unless --env gives it.
 */
async function targetScope(cfg: Config): Promise<TargetScope> {
  const selector = option("--target") ?? DEFAULT_TARGET_ID;
  const explicitEnv = option("--env");
  if (selector === DEFAULT_TARGET_ID) {
    return { name: DEFAULT_TARGET_ID, env: explicitEnv ?? cfg.BACKUP_ENV, owns: (m) => !m.target || m.target.id === DEFAULT_TARGET_ID };
  }
  const byManifest = (id: string, name: string) => (m: Manifest) => !!m.target && (m.target.id === id || m.target.name === name);
  if (explicitEnv) return { name: selector, env: explicitEnv, owns: byManifest(selector, selector) };
  const { createDb } = await import("../lib/db");
  const { requireTarget } = await import("../lib/backup/targets");
  const db = createDb(cfg.databaseUrl);
  try {
    const t = await requireTarget(db, selector);
    return { name: t.name, env: t.isDefault ? cfg.BACKUP_ENV : t.environment, owns: t.isDefault ? (m) => !m.target || m.target.id === t.id : byManifest(t.id, t.name) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`${why} (the catalogue is read to find the target's environment; with the catalogue unreachable pass --env ENV)`);
  } finally {
    await db.$disconnect();
  }
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
      const probe = await newClient(url, { application_name: "vaultline-cli" });
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
      const scope = await targetScope(cfg);
      // Both layouts: <env>/YYYY/MM/<id>/ (before targets) and <env>/<target>/YYYY/MM/<id>/.
      const all = (await listManifests(storage, cfg.STORAGE_PREFIX, scope.env)).filter(({ manifest }) => scope.owns(manifest));
      console.log(["id", "target", "created (UTC)", "kind", "trigger", "size", "sha256", "commit"].join("\t"));
      for (const { manifest: m } of all) {
        console.log([m.id, m.target?.name ?? DEFAULT_TARGET_ID, m.createdAt.replace(".000Z", "Z"), m.kind, m.trigger, formatBytes(m.sizeBytes), (m.checksumSha256 ?? "-").slice(0, 12), m.commitSha?.slice(0, 10) ?? "-"].join("\t"));
      }
      console.log(`${all.length} backups of ${scope.name} in ${storage.description}`);
    } else if (cmd === "verify") {
      const id = positional[0] ?? usage();
      const scope = await targetScope(cfg);
      const { manifest } = await findManifest(storage, cfg.STORAGE_PREFIX, scope.env, id);
      const results = await verifyParts(storage, manifest, offlineDecryptionKey(offlineKeys(cfg), manifest.encryption), cfg.PG_BIN_DIR);
      for (const r of results) console.log(`${r.part}: ${r.ok ? "OK" : "FAILED"} sha256=${r.storedSha256} ${r.ok ? `(${r.tocEntries} entries)` : r.reason}`);
      process.exitCode = results.every((r) => r.ok) ? 0 : 1;
    } else if (cmd === "download") {
      const id = positional[0] ?? usage();
      const out = path.resolve(option("--out") ?? ".");
      mkdirSync(out, { recursive: true });
      const scope = await targetScope(cfg);
      const { key, manifest } = await findManifest(storage, cfg.STORAGE_PREFIX, scope.env, id);
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
      const { contextForTargetId, ensureDefaultTarget } = await import("../lib/backup/targets");
      const db = createDb(cfg.databaseUrl);
      try {
        const app = contextFromConfig(cfg, db, storage);
        // As boot() does: the default target exists and follows BACKUP_ENV / TARGET_DATABASE_URL.
        await ensureDefaultTarget(db, { environment: cfg.BACKUP_ENV, targetUrl: cfg.targetDatabaseUrl });
        const ctx = await contextForTargetId(app, option("--target") ?? DEFAULT_TARGET_ID);
        const job = await db.backupJob.create({
          data: {
            targetId: ctx.target!.id,
            kind: flag("--quick") ? "QUICK" : "FULL",
            trigger: "MANUAL",
            note: "from the CLI",
            metadata: { includeFiles: !flag("--quick") && !!ctx.filesDir, phases: [] },
          },
        });
        console.log(`backup ${job.id} of ${ctx.target!.name} started`);
        const r = await runBackup(app, job.id);
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
      const { ensureDefaultTarget } = await import("../lib/backup/targets");
      const db = createDb(cfg.databaseUrl);
      try {
        await ensureDefaultTarget(db, { environment: cfg.BACKUP_ENV, targetUrl: cfg.targetDatabaseUrl });
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
