// `npm start` / `npm run dev`: bootstrap (lib/bootstrap.ts), build when the sources
// changed, then serve. Ctrl-C stops Next and the embedded PostgreSQL cleanly.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, parseConfig } from "../lib/config";
import { startEmbeddedPostgres, type EmbeddedServer } from "../lib/embedded-postgres";
import { ensureDatabase, ensureFirstAdmin, loadOrCreateSecrets } from "../lib/bootstrap";
import { describeStatus, migrate, migrationStatus } from "../lib/migrate";
import { createDb } from "../lib/db";
import { redactUrl } from "../lib/log";
import { withWorkerEnv } from "../lib/worker/node-flags";

const dev = process.argv.includes("--dev");
const say = (msg: string) => console.log(`[vaultline] ${msg}`);
const warn = (msg: string) => console.warn(`[vaultline] WARNING: ${msg}`);

function sourceFingerprint(): string {
  const h = createHash("sha256");
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      if (/node_modules|\.next|generated/.test(path.basename(p))) return;
      for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    } else h.update(`${p}:${st.size}:${st.mtimeMs}\n`);
  };
  for (const p of ["app", "components", "lib", "public", "next.config.mjs", "package-lock.json", "postcss.config.mjs", "instrumentation.ts"]) walk(p);
  return h.digest("hex");
}

async function main() {
  const started = Date.now();
  const dataDir = path.resolve(process.env.DATA_DIR || ".data");
  let embedded: EmbeddedServer | undefined;
  // eslint-disable-next-line prefer-const -- assigned once, below, but stop() may read it before then (a const would still be in its temporal dead zone)
  let child: ChildProcess | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child!.once("exit", r));
    }
    if (embedded) {
      say("stopping embedded PostgreSQL…");
      await embedded.stop();
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  if (!process.env.DATABASE_URL) {
    const { secrets, created } = loadOrCreateSecrets(dataDir);
    if (created.includes("encryptionPassphrase")) {
      warn(
        `generated a backup encryption passphrase in ${path.join(dataDir, "secrets.json")}. ` +
          "Backups cannot be decrypted without it: copy it somewhere safe, or set BACKUP_ENCRYPTION_PASSPHRASE.",
      );
    }
    if (created.includes("nextAuthSecret")) warn(`generated NEXTAUTH_SECRET in ${path.join(dataDir, "secrets.json")}`);
    const port = Number(process.env.EMBEDDED_PG_PORT || 54329);
    say(`starting embedded PostgreSQL 15 on 127.0.0.1:${port} (data in ${path.join(dataDir, "pg")})`);
    embedded = await startEmbeddedPostgres({ dir: path.join(dataDir, "pg"), port, password: secrets.postgresPassword });
    await ensureDatabase(embedded.url("postgres"), "vaultline");
    process.env.DATABASE_URL = embedded.url("vaultline");
    if (!process.env.BACKUP_ENCRYPTION_PASSPHRASE) {
      process.env.BACKUP_ENCRYPTION_PASSPHRASE = secrets.encryptionPassphrase;
      // The id generated with that key; with a passphrase of your own the database keeps it.
      process.env.BACKUP_ENCRYPTION_KEY_ID ||= secrets.encryptionKeyId;
      // Every process reads the keys from the file, so a rotation from the UI reaches them all.
      process.env.BACKUP_ENCRYPTION_KEYS_FILE ||= path.join(dataDir, "secrets.json");
    }
    process.env.NEXTAUTH_SECRET ||= secrets.nextAuthSecret;
  }
  process.env.DATA_DIR = dataDir;
  process.env.NEXTAUTH_URL ||= `http://localhost:${process.env.PORT || 3000}`;

  let cfg;
  try {
    cfg = parseConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`[vaultline] ${e.message}`);
      return stop(1);
    }
    throw e;
  }
  say(`database ${redactUrl(cfg.databaseUrl)}`);

  if (process.env.SKIP_MIGRATIONS !== "1") {
    const applied = await migrate(cfg.databaseUrl);
    if (applied.length) say(`applied migrations: ${applied.join(", ")}`);
  }
  const problem = describeStatus(await migrationStatus(cfg.databaseUrl));
  if (problem) {
    console.error(`[vaultline] refusing to start: ${problem}`);
    return stop(1);
  }

  const db = createDb(cfg.databaseUrl);
  const admin = await ensureFirstAdmin(db, { email: cfg.ADMIN_EMAIL, password: cfg.ADMIN_PASSWORD });
  await db.$disconnect();
  if (admin?.generatedPassword) {
    say("──────────────────────────────────────────────────────────────");
    say(`first admin created: ${admin.email}`);
    say(`password (shown once): ${admin.generatedPassword}`);
    say("──────────────────────────────────────────────────────────────");
  } else if (admin) say(`first admin created: ${admin.email} (password from ADMIN_PASSWORD)`);

  const nextBin = path.resolve("node_modules/next/dist/bin/next");
  if (!dev) {
    const fp = sourceFingerprint();
    const stamp = path.resolve(".next/vaultline-source.sha256");
    const current = existsSync(".next/BUILD_ID") && existsSync(stamp) && readFileSync(stamp, "utf8") === fp;
    if (!current) {
      say("building the dashboard (first start or sources changed)…");
      const r = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env: process.env });
      if (r.status !== 0) return stop(r.status ?? 1);
      writeFileSync(stamp, fp);
    }
  }
  // Production: our server around Next's handler (scripts/serve.ts: real peer address,
  // keep-alive timeouts), loaded by scripts/web-entry.mjs so that tsx is registered only
  // while it loads (decision 112). Development keeps `next dev` (hot reload); there every
  // request counts as one unknown peer for sign-in throttling.
  child = dev
    ? spawn(process.execPath, [nextBin, "dev", "-p", String(cfg.PORT)], { stdio: "inherit", env: process.env })
    : spawn(process.execPath, [path.resolve("scripts/web-entry.mjs")], {
        stdio: "inherit",
        // The worker runs in this process unless WORKER_IN_WEB=false: its malloc arenas (decision 199).
        env: { ...withWorkerEnv(process.env), NODE_ENV: "production" },
      });
  child.on("exit", (code) => void stop(code ?? 0));
  say(`bootstrap took ${((Date.now() - started) / 1000).toFixed(1)} s; serving on http://localhost:${cfg.PORT}`);
}

main().catch((e) => {
  console.error(`[vaultline] start failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
