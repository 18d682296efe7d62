// A target reached through a Unix socket, written as libpq takes it with a user and password:
// `postgresql://app:pw@/shop?host=/var/run/postgresql&port=5432` (decision 203). WHATWG's
// parser, node-pg's and every reader here refused it ("Invalid URL"); the socket directory is
// now put in the host part, percent-encoded, when the URL is taken. Made as a target, backed up,
// drilled, and restored on both strategies through the socket, on Debian's PostgreSQL 15.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv, type TestEnv } from "./support/backup-env";
import { debianPgWith, startDebianPg } from "./support/debian-pg";
import { type PgServer } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { buildAppDatabase, LATER_MIGRATION_SQL, asAppRole } from "./support/app-fixture";
import { createTarget } from "../lib/backup/targets-admin";
import { runBackup } from "../lib/backup/run-backup";
import { runDrill } from "../lib/backup/drill";
import { previewRestore } from "../lib/backup/preview";
import { runRestore, startRestore } from "../lib/backup/restore";
import { updateSettings } from "../lib/settings";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";
import { socketHostInline } from "../lib/pg-hosts";

// Debian's server package (plpgsql ships with it): the test needs a socket directory it knows.
const canRun = debianPgWith("plpgsql");

describe.skipIf(!canRun)("a target reached through a Unix socket, with a user and password", () => {
  let server: PgServer;
  let env: TestEnv;
  let socketUrl: string;
  let socketDir: string;
  let port: string;
  let ctx: TestEnv["ctx"];
  let original: Record<string, string>;
  let backupId: string;

  beforeAll(async () => {
    server = await startDebianPg();
    env = await backupEnv(server, { seed: false, overrides: { targetSecret: "socket-target-secret-1234567890" } });
    await buildAppDatabase((u, t) => sql(u, t), server.adminUrl, env.targetUrl);
    [{ d: socketDir }] = await sql<{ d: string }>(server.adminUrl, "SELECT current_setting('unix_socket_directories') AS d");
    const tcp = new URL(env.targetUrl);
    port = tcp.port;
    socketUrl = `postgresql://${tcp.username}:${tcp.password}@/${tcp.pathname.slice(1)}?host=${encodeURIComponent(socketDir)}&port=${port}&application_name=vaultline%20socket`;
    await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, SYSTEM);
    original = await catalogFingerprint(sql, env.targetUrl);
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await env?.cleanup();
    await server?.stop();
  });

  it("is taken as a target, shown by its socket directory, its connection tested through the socket", async () => {
    const t = await createTarget(env.ctx, { name: "socket-shop", environment: "prod", databaseUrl: socketUrl }, SYSTEM);
    expect(t).toMatchObject({ host: `${socketDir}:${port}`, test: { ok: true, canBackup: true } });
    const [stored] = await sql<{ host: string }>(env.appUrl, `SELECT host FROM "Target" WHERE id = $1`, [t.id]);
    expect(stored.host).toBe(`${socketDir}:${port}`);
  });

  it("is backed up, previewed and drilled through the socket, as TARGET_DATABASE_URL (config.ts takes it as socketHostInline writes it)", async () => {
    ctx = { ...env.ctx, targetUrl: socketHostInline(socketUrl) };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const r = await runBackup(ctx, job.id);
    expect(r.failureReason).toBeUndefined();
    backupId = job.id;
    // The manifest names where it was dumped from: the socket directory, not a TCP host.
    const preview = await previewRestore(ctx, backupId);
    expect(preview.manifest?.database.host).toBe(`${socketDir}:${port}`);
    expect(preview.plan?.strategy).toBe("swap");
    const drill = await runDrill(ctx, backupId);
    expect(drill.reason).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, compared: "checksums" });
  });

  it.each(["swap", "in-place"] as const)("is restored through the socket (%s): exact by the fingerprint", async (strategy) => {
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL).catch(() => undefined);
    const as = { ...ctx, restoreStrategy: strategy, restoreJobs: 2 };
    const { restoreId } = await startRestore(as, backupId, SYSTEM, { confirm: "RESTORE" });
    const status = await runRestore(as, restoreId);
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(differences(original, await catalogFingerprint(sql, env.targetUrl))).toEqual({});
  });
});
