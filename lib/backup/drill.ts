// Restore drill (seed 001's "backup testing"): restore into a scratch database created for
// the purpose, compare per-table row counts with the manifest, drop it. A backup is only
// known good once it has been restored.
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { BackupContext } from "./context";
import { verifyBackupObjects } from "./verify";
import { createDecryptStream } from "./crypto";
import { decryptionKeyFor } from "./keyring";
import { createDecompressor } from "./compression";
import { spawnPgRestore } from "./dump";
import { tableRowEstimates } from "./introspect";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES } from "../queue";
import { componentLogger } from "../log";

const log = componentLogger("drill");

export interface DrillResult {
  ok: boolean;
  reason?: string;
  tables: { table: string; expected: number | null; actual: number | null; ok: boolean }[];
  durationSeconds: number;
  at: string;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(url: string, sql: string) {
  const c = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function requestDrill(ctx: BackupContext, id: string, actor: Actor) {
  const job = await ctx.db.backupJob.findUnique({ where: { id } });
  if (!job) throw notFound("Backup");
  if (job.status !== "SUCCEEDED" || job.kind !== "FULL") throw new ApiError("CONFLICT", "Only a successful FULL backup can be drilled");
  await audit(ctx.db, { actor, action: "backup.drill_requested", target: id });
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.drill, { jobId: id });
}

export async function runDrill(ctx: BackupContext, id: string): Promise<DrillResult> {
  const started = Date.now();
  const job = await ctx.db.backupJob.findUniqueOrThrow({ where: { id } });
  const server = ctx.drillDatabaseUrl ?? ctx.targetUrl;
  const name = `vaultline_drill_${randomBytes(5).toString("hex")}`;
  let result: DrillResult;
  try {
    const v = await verifyBackupObjects(ctx, job);
    if (!v.ok || !v.manifest) throw new Error(`verification failed: ${v.reason}`);
    const part = v.manifest.parts.find((p) => p.name === "database")!;
    await admin(server, `CREATE DATABASE "${name}"`);
    const scratch = withDatabase(server, name);
    const enc = await ctx.storage.get(part.key);
    const decrypted = enc.pipe(createDecryptStream(await decryptionKeyFor(ctx, v.manifest.encryption)));
    const plain = decrypted.pipe(createDecompressor(part.compression));
    enc.on("error", (e) => decrypted.destroy(e));
    decrypted.on("error", (e) => plain.destroy(e));
    await spawnPgRestore(plain, scratch, { binDir: ctx.pgBinDir, singleTransaction: true, noOwner: true, noPrivileges: true });
    const actual = await tableRowEstimates(scratch, { countTimeoutMs: 60_000 });
    const expected = v.manifest.tableRowEstimates ?? {};
    const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    const tables = names.map((t) => ({
      table: t,
      expected: expected[t] ?? null,
      actual: actual[t] ?? null,
      ok: expected[t] !== undefined && actual[t] === expected[t],
    }));
    const bad = tables.filter((t) => !t.ok);
    result = {
      ok: bad.length === 0,
      reason: bad.length ? `row counts differ for ${bad.map((t) => `${t.table} (${t.expected} → ${t.actual})`).join(", ")}` : undefined,
      tables,
      durationSeconds: (Date.now() - started) / 1000,
      at: new Date().toISOString(),
    };
  } catch (e) {
    result = { ok: false, reason: (e as Error).message.split("\n")[0], tables: [], durationSeconds: (Date.now() - started) / 1000, at: new Date().toISOString() };
  } finally {
    await admin(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((e: Error) => log.error({ err: e.message, name }, "could not drop drill database"));
  }
  await ctx.db.$executeRaw`
    UPDATE "BackupJob" SET "verifiedAt" = now(), "verifyStatus" = ${result.ok ? "PASSED" : "FAILED"}::"VerifyStatus", "updatedAt" = now(),
           metadata = metadata || jsonb_build_object('drill', ${JSON.stringify(result)}::jsonb)
     WHERE id = ${id}`;
  await audit(ctx.db, {
    actor: { type: "system", label: "worker" },
    action: result.ok ? "backup.drill_passed" : "backup.drill_failed",
    target: id,
    details: { reason: result.reason ?? null, durationSeconds: result.durationSeconds },
  });
  return result;
}
