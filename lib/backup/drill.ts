// Restore drill (seed 001's "backup testing"): restore into a scratch database created for
// the purpose, compare every table's rows and content checksum with what the backup
// recorded at dump time (table-checksums.ts), measure how long the recovery took, drop it.
// A backup is only known good once it has been restored.
import { pipeline as pipelineOf } from "node:stream";
import { randomBytes } from "node:crypto";
import type { BackupContext } from "./context";
import { DEFAULT_TARGET_ID } from "./targets";
import { verifyBackupObjects } from "./verify";
import { createDecryptStream } from "./crypto";
import { leftOutWith, leftOutWords, madeInCopy, pinnedAmong, PinnedExtensionLeaver } from "./pinned-extensions";
import { findUnloadedExtensions, findUntrustedExtensions, unloadedExtensionsWords, untrustedExtensionsWords } from "./unavailable-extensions";
import { decryptionKeyFor } from "./keyring";
import { createDecompressor } from "./compression";
import { spawnPgRestore } from "./dump";
import { ExtensionVersionPinner, planExtensionVersions, versionPins } from "./extension-versions";
import { manifestCatalog } from "./catalog-snapshot";
import { describeLocale, localeOptions, type DatabaseLocale } from "./db-locale";
import { maintenanceClient, withDatabase } from "./swap";
import { poolerProblem, sharesServerSessions } from "./pooler";
import { quoteIdent } from "./quote";
import { withClient } from "./pg-client";
import { DEFAULT_DISK_RESERVE_BYTES, diskWatch, planServerDisk, relationPlacement, serverFacts } from "./server-disk";
import { tableRowEstimates } from "./introspect";
import { checksumDatabase } from "./table-checksums";
import type { Manifest } from "./manifest";
import { emitEngineEvent } from "./events";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES } from "../queue";
import { componentLogger } from "../log";
import type { DrillTrigger } from "../validation/drill-settings";
import { pinnedTarget } from "./pinned-host";

const log = componentLogger("drill");

export interface DrillTable {
  table: string;
  /** Rows the backup recorded (exact with checksums; the manifest's estimate without). */
  expected: number | null;
  actual: number | null;
  expectedChecksum?: string | null;
  actualChecksum?: string | null;
  ok: boolean;
  /** Why the table was not (fully) compared. */
  note?: string;
}

export interface DrillResult {
  ok: boolean;
  reason?: string;
  /** What was compared: "checksums" (rows and content) or "row-counts" (an older manifest). */
  compared: "checksums" | "row-counts" | "nothing";
  /** Said when the comparison was partial (an older manifest, tables too large to checksum). */
  note?: string;
  tables: DrillTable[];
  /** Download + decrypt + restore: what a real recovery of this backup takes. Null when it did not get that far. */
  recoverySeconds: number | null;
  /** The whole drill, verification and comparison included. */
  durationSeconds: number;
  at: string;
  drillId: string;
}

/** `vaultline_drill_<drill id>_<random>`: whose it is, and unique if the same drill runs again. */
export function scratchDatabaseName(drillId: string): string {
  return `${scratchDatabasePrefix(drillId)}${randomBytes(3).toString("hex")}`;
}

/** What every scratch database of this drill's name starts with (a LIKE pattern needs no escape: [a-z0-9_] only). */
export function scratchDatabasePrefix(drillId: string): string {
  return `vaultline_drill_${drillId.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 32)}_`;
}

async function admin(url: string, sql: string) {
  const c = await maintenanceClient(url);
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export class ReadOnlyServerError extends Error {
  constructor() {
    super(
      "the drill's server takes no writes (a standby, or read-only by default), so the scratch database cannot be made there: set DRILL_DATABASE_URL to a server where Vaultline's role may CREATE DATABASE",
    );
    this.name = "ReadOnlyServerError";
  }
}

/**
 * The scratch database, in the backed-up database's encoding and locale (db-locale.ts) when
 * the manifest records them. A server without that locale gets the same encoding with the C
 * locale (content checksums hold; text sorts by bytes), and the answer says so.
 */
export async function createScratch(server: string, name: string, locale: DatabaseLocale | undefined): Promise<string | undefined> {
  const create = (options: string) =>
    admin(server, `CREATE DATABASE ${quoteIdent(name)}${options ? ` WITH ${options}` : ""}`).catch((e: Error & { code?: string }) => {
      // A standby (backups are often taken from one) takes no writes: say what to do (decision 144).
      if (e.code === "25006") throw new ReadOnlyServerError();
      throw e;
    });
  if (!locale) {
    await create("");
    return undefined;
  }
  try {
    await create(localeOptions(locale));
    return undefined;
  } catch (e) {
    if (e instanceof ReadOnlyServerError) throw e;
    await create(localeOptions(locale, { plainC: true }));
    return `restored with the C locale: this server cannot make a database in ${describeLocale(locale)} (${(e as Error).message.split("\n")[0]})`;
  }
}

/** Queues a drill of one backup (the backup's menu); its DrillRun row exists at once. */
export async function requestDrill(ctx: BackupContext, id: string, actor: Actor) {
  const job = await ctx.db.backupJob.findUnique({ where: { id } });
  if (!job) throw notFound("Backup");
  if (job.status !== "SUCCEEDED" || job.kind !== "FULL") throw new ApiError("CONFLICT", "Only a successful FULL backup can be drilled");
  if (job.targetId !== DEFAULT_TARGET_ID) throw new ApiError("CONFLICT", "Restore drills run on the default target's backups only; verify this backup instead");
  const run = await ctx.db.drillRun.create({ data: { backupId: id, trigger: "MANUAL" } });
  await audit(ctx.db, { actor, action: "backup.drill_requested", target: id, targetId: job.targetId, details: { drillId: run.id } });
  try {
    await enqueueDrill(ctx, id, run.id);
  } catch (e) {
    // Not left "running" for the stale sweep to find hours later.
    await ctx.db.drillRun.update({ where: { id: run.id }, data: { status: "FAILED", completedAt: new Date(), failureReason: `could not be queued: ${(e as Error).message}` } });
    throw e;
  }
}

export async function enqueueDrill(ctx: Pick<BackupContext, "appDatabaseUrl">, backupId: string, drillId: string) {
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.drill, { jobId: backupId, drillId });
}

/** Rows and checksums recorded at dump time against the scratch copy's. */
async function compareWithManifest(
  manifest: Manifest,
  scratch: string,
  leaver: Pick<PinnedExtensionLeaver, "leftOut" | "users">,
): Promise<Pick<DrillResult, "compared" | "note" | "tables">> {
  const recorded = manifest.tableChecksums;
  if (!recorded) {
    // Written before checksums were recorded: the manifest's row counts are all there is.
    const actual = await tableRowEstimates(scratch, { countTimeoutMs: 60_000 });
    const expected = manifest.tableRowEstimates ?? {};
    const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return {
      compared: names.length ? "row-counts" : "nothing",
      note: "this backup's manifest has no table checksums (they are taken only while drills are on, and were not when it was made, or it predates them): row counts compared, contents not",
      tables: names.map((t) => ({
        table: t,
        expected: expected[t] ?? null,
        actual: actual[t] ?? null,
        ok: expected[t] !== undefined && actual[t] === expected[t],
      })),
    };
  }
  // A table left out with an extension it uses (decision 201) is not there to compare.
  const leftOut = (name: string) => leftOutWith(leaver.leftOut, "tables", name, leaver.users);
  const checksummed = Object.entries(recorded.tables).filter(([name, t]) => t.checksum !== null && !leftOut(name));
  const actual = await checksumDatabase(scratch, { only: checksummed.map(([name]) => name) });
  const tables: DrillTable[] = Object.entries(recorded.tables)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, want]) => {
      if (want.checksum === null) return { table: name, expected: null, actual: null, ok: true, note: `not compared: ${want.skipped ?? "no checksum recorded"}` };
      if (leftOut(name)) return { table: name, expected: want.rows, actual: null, ok: true, note: `not compared: left out with ${leaver.leftOut.join(", ")}, which it uses` };
      const got = actual[name];
      if (!got) return { table: name, expected: want.rows, actual: null, expectedChecksum: want.checksum, actualChecksum: null, ok: false, note: "missing from the restored copy" };
      return {
        table: name,
        expected: want.rows,
        actual: got.rows,
        expectedChecksum: want.checksum,
        actualChecksum: got.checksum,
        ok: got.rows === want.rows && got.checksum === want.checksum,
      };
    });
  const skipped = tables.filter((t) => t.note?.startsWith("not compared"));
  const list = skipped.map((t) => `${t.table} (${t.note!.slice("not compared: ".length)})`).join(", ");
  return {
    compared: checksummed.length ? "checksums" : "nothing",
    note: !checksummed.length
      ? `the archive restored, but no table's contents were compared${list ? `: ${list}` : " (the backup recorded no tables)"}`
      : skipped.length
        ? `${skipped.length} table(s) not compared: ${list}`
        : undefined,
    tables,
  };
}

function failureReason(tables: DrillTable[]): string | undefined {
  const bad = tables.filter((t) => !t.ok);
  if (!bad.length) return undefined;
  const what = bad.map((t) => {
    if (t.note) return `${t.table} (${t.note})`;
    if (t.expected !== t.actual) return `${t.table} (${t.expected} → ${t.actual} rows)`;
    return `${t.table} (same ${t.actual} rows, different content)`;
  });
  return `restored data differs from the backup's record: ${what.slice(0, 10).join(", ")}${what.length > 10 ? `, and ${what.length - 10} more` : ""}`;
}

export interface RunDrillOptions {
  /** The DrillRun row to fill in (queued drills); created when absent. */
  drillId?: string;
  trigger?: DrillTrigger;
}

export async function runDrill(ctx: BackupContext, id: string, opts: RunDrillOptions = {}): Promise<DrillResult> {
  const started = Date.now();
  const drillId = opts.drillId ?? (await ctx.db.drillRun.create({ data: { backupId: id, trigger: opts.trigger ?? "MANUAL" } })).id;
  await ctx.db.drillRun.update({ where: { id: drillId }, data: { startedAt: new Date(started), status: "RUNNING" } });
  const job = await ctx.db.backupJob.findUniqueOrThrow({ where: { id } });
  // Drills are the default target's (decision 93): a drill never restores another target's backup.
  if (job.targetId !== DEFAULT_TARGET_ID) throw new Error(`backup ${id} is not the default target's; drills run on the default target only`);
  let server = ctx.drillDatabaseUrl ?? ctx.targetUrl;
  const name = scratchDatabaseName(drillId);
  let recoverySeconds: number | null = null;
  let result: DrillResult;
  // The scratch copy is a second copy of the database, by default on the target's own server,
  // unattended: watched like a restore's, where the disk can be seen (decision 159).
  const disks = diskWatch();
  try {
    const v = await verifyBackupObjects(ctx, job);
    if (!v.ok || !v.manifest) throw new Error(`verification failed: ${v.reason}`);
    const part = v.manifest.parts.find((p) => p.name === "database")!;
    // On the target's own server through a failover URL: its host chosen once (decision 190).
    if (!ctx.drillDatabaseUrl) server = await pinnedTarget(ctx.targetUrl, { orMaintenance: true });
    const pooled = poolerProblem(await sharesServerSessions(server), "drill");
    if (pooled) throw new Error(pooled);
    // An extension the drill's server does not load where it must be (decision 206): no
    // restore there can make it; said before anything is made, not as pg_restore's error.
    const extensions = Object.keys(manifestCatalog(v.manifest)?.objects.extensions ?? {});
    const unloaded = await findUnloadedExtensions(server, extensions);
    if (unloaded.length) throw new Error(unloadedExtensionsWords(unloaded, "the drill's server", "drill again"));
    // Nor one only a superuser may create, through a role that is not one (decision 209).
    const who = await withClient(server, async (c) => (await c.query<{ user: string; su: boolean }>("SELECT current_user AS user, rolsuper AS su FROM pg_catalog.pg_roles WHERE rolname = current_user")).rows[0], "vaultline-drill");
    // pg_cron is left out of the scratch database (decision 201): not made, so not asked.
    const untrusted = who.su ? [] : await findUntrustedExtensions(server, madeInCopy(extensions));
    if (untrusted.length) throw new Error(untrustedExtensionsWords(untrusted, who.user, true));
    const localeNote = await createScratch(server, name, v.manifest.database.locale);
    const scratch = withDatabase(server, name);
    const reserveBytes = ctx.diskReserveBytes ?? DEFAULT_DISK_RESERVE_BYTES;
    const facts = await withClient(scratch, serverFacts, "vaultline-drill").catch(() => null);
    // On the target's own server, the scratch copy's relations go where the target keeps
    // them (a tablespace of their own); the scratch database itself is empty.
    const placement = ctx.drillDatabaseUrl ? undefined : await withClient(server, relationPlacement, "vaultline-drill").catch(() => undefined);
    const disk = facts ? await planServerDisk(facts, { backupDatabaseBytes: v.manifest.database.sizeBytes, reserveBytes, placement }) : null;
    // As often as a restore looks (restore.ts).
    disks.watch(disk?.places, { reserveBytes, intervalMs: Math.min(ctx.heartbeatMs, 1000) });
    // The recovery an operator would live through: fetch, decrypt, decompress, restore.
    const recoveryStarted = Date.now();
    // Extensions at the backup's versions, as a restore makes them (decision 152).
    const pins = versionPins(await planExtensionVersions(scratch, manifestCatalog(v.manifest)));
    // One chain: an error at any stage (storage, decryption, zstd) tears every stage down and
    // reaches pg_restore's input; the callback only keeps it from being unheard.
    const plain = pipelineOf(await ctx.storage.get(part.key), createDecryptStream(await decryptionKeyFor(ctx, v.manifest.encryption)), createDecompressor(part.compression), () => undefined);
    const pinned = pins.size ? pipelineOf(plain, new ExtensionVersionPinner(pins), () => undefined) : plain;
    // An extension its server lets one database have cannot be in the scratch database: left
    // out with its jobs, the rest proved, and the note says so (decision 201).
    const leaver = new PinnedExtensionLeaver(pinnedAmong(extensions));
    const archive = leaver.names.length ? pipelineOf(pinned, leaver, () => undefined) : pinned;
    // Statement by statement, not in one transaction: the scratch copy is dropped whatever
    // happens, and one transaction locks every object it makes — more than the server's
    // lock table holds for a database of a few thousand tables (decision 145).
    await spawnPgRestore(archive, scratch, { binDir: ctx.pgBinDir, noOwner: true, noPrivileges: true, signal: disks.signal });
    recoverySeconds = (Date.now() - recoveryStarted) / 1000;
    const compared = await compareWithManifest(v.manifest, scratch, leaver);
    const leftOut = leftOutWords(leaver.leftOut, "drill", leaver.users);
    disks.signal.throwIfAborted();
    // Nothing to compare (every table above the checksum bound, or an empty database) is
    // not a failure: pg_restore did restore the archive, and the note says what was unchecked.
    const reason = failureReason(compared.tables);
    const note = [localeNote, compared.note, leftOut].filter(Boolean).join("; ") || undefined;
    result = { ok: !reason, reason, ...compared, note, recoverySeconds, durationSeconds: (Date.now() - started) / 1000, at: new Date().toISOString(), drillId };
  } catch (e) {
    result = {
      ok: false,
      reason: (disks.reason() ?? (e as Error).message).split("\n")[0],
      compared: "nothing",
      tables: [],
      recoverySeconds,
      durationSeconds: (Date.now() - started) / 1000,
      at: new Date().toISOString(),
      drillId,
    };
  } finally {
    disks.stop();
    await admin(server, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch((e: Error) => log.error({ err: e.message, name }, "could not drop drill database"));
  }
  await recordDrill(ctx, id, result);
  return result;
}

/** The outcome on the DrillRun, the backup (history mark, detail page), the audit log and the event bus. */
async function recordDrill(ctx: BackupContext, backupId: string, result: DrillResult) {
  const completedAt = new Date(result.at);
  await ctx.db.drillRun.update({
    where: { id: result.drillId },
    data: {
      status: result.ok ? "PASSED" : "FAILED",
      completedAt,
      recoverySeconds: result.recoverySeconds,
      durationSeconds: result.durationSeconds,
      failureReason: result.reason ?? null,
      result: JSON.parse(JSON.stringify(result)),
    },
  });
  await ctx.db.$executeRaw`
    UPDATE "BackupJob" SET "verifiedAt" = now(), "verifyStatus" = ${result.ok ? "PASSED" : "FAILED"}::"VerifyStatus", "updatedAt" = now(),
           metadata = metadata || jsonb_build_object('drill', ${JSON.stringify(result)}::jsonb)
     WHERE id = ${backupId}`;
  if (result.ok) await ctx.db.backupJob.updateMany({ where: { id: backupId }, data: { drillPassedAt: completedAt } });
  await audit(ctx.db, {
    actor: { type: "system", label: "worker" },
    action: result.ok ? "backup.drill_passed" : "backup.drill_failed",
    target: backupId,
    // Drills are the default target's only (decision 93).
    targetId: DEFAULT_TARGET_ID,
    details: { drillId: result.drillId, reason: result.reason ?? null, recoverySeconds: result.recoverySeconds, durationSeconds: result.durationSeconds, compared: result.compared },
  });
  log.info({ jobId: backupId, drillId: result.drillId, ok: result.ok, reason: result.reason, recoverySeconds: result.recoverySeconds }, "drill finished");
  await emitEngineEvent({ type: "drill.finished", drillId: result.drillId, status: result.ok ? "PASSED" : "FAILED" });
}
