// A FULL backup against the server's connection limits (decision 178), on the application
// fixture (owner role, extensions, partitions, row-level security, a large object) backed up
// by a role made for backups, as a hardened setup has it: pg_read_all_data, BYPASSRLS, SELECT
// on the large objects, and a CONNECTION LIMIT. Before, the backup opened up to ten sessions
// at its start (seven for the inspection alone, six seen at once) and failed with the
// server's line "too many connections for role …" under a limit of 4, or could go without
// the watch of its locks, which is best effort.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { runBackup, humanReason } from "../lib/backup/run-backup";
import { FULL_BACKUP_SESSIONS } from "../lib/backup/connection-room";
import { testTargetConnection } from "../lib/backup/target-test";
import { previewRestore } from "../lib/backup/preview";
import { stopBosses } from "../lib/queue";
import { updateSettings } from "../lib/settings";

const ROLE = "vl_conn_backup";
const APP = "vl_conn_app";
let env: TestEnv;
let url: string;
let dbName: string;

/** The backup role's sessions, sampled every 5 ms while fn runs: the most at once, and the most of each application at once. */
async function watched<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number; names: Map<string, number> }> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  let peak = 0;
  const names = new Map<string, number>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const { rows } = await c.query<{ application_name: string }>("SELECT application_name FROM pg_stat_activity WHERE usename = $1", [ROLE]);
      peak = Math.max(peak, rows.length);
      const now = new Map<string, number>();
      for (const r of rows) now.set(r.application_name, (now.get(r.application_name) ?? 0) + 1);
      for (const [app, n] of now) names.set(app, Math.max(n, names.get(app) ?? 0));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    return { result: await fn(), peak, names };
  } finally {
    stop = true;
    await loop;
    await c.end();
  }
}

async function backUp() {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
  const r = await runBackup({ ...env.ctx, targetUrl: url }, job.id);
  return { ...r, id: job.id };
}

const limitRole = (n: number) => sql(adminUrl(), `ALTER ROLE ${ROLE} CONNECTION LIMIT ${n}`);

afterAll(async () => {
  await env?.cleanup();
  await sql(adminUrl(), `DROP ROLE IF EXISTS ${APP}; DROP OWNED BY ${ROLE}; DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await stopBosses();
});

beforeAll(async () => {
  env = await makeEnv({ seed: false });
  // Drills on: the backup then takes table checksums in the dump's snapshot, a session more.
  await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, { type: "user", label: "admin@example.com" });
  await buildAppDatabase((u, text) => sql(u, text), adminUrl(), env.targetUrl);
  dbName = new URL(env.targetUrl).pathname.slice(1);
  await sql(adminUrl(), `DROP ROLE IF EXISTS ${ROLE}; CREATE ROLE ${ROLE} LOGIN PASSWORD 'pw' BYPASSRLS IN ROLE pg_read_all_data`);
  await sql(adminUrl(), `DROP ROLE IF EXISTS ${APP}; CREATE ROLE ${APP} LOGIN PASSWORD 'pw'`);
  await sql(env.targetUrl, `DO $$ DECLARE o oid; BEGIN FOR o IN SELECT oid FROM pg_largeobject_metadata LOOP EXECUTE format('GRANT SELECT ON LARGE OBJECT %s TO ${ROLE}', o); END LOOP; END $$`);
  const u = new URL(env.targetUrl);
  u.username = ROLE;
  u.password = "pw";
  url = u.toString();
}, 120_000);

describe("a FULL backup and the server's connection limits", () => {
  it(`a role limited to exactly ${FULL_BACKUP_SESSIONS} sessions backs up, with every session the backup holds`, async () => {
    await limitRole(FULL_BACKUP_SESSIONS);
    const { result, peak, names } = await watched(backUp);
    expect(result.failureReason).toBeUndefined();
    expect(result.status).toBe("SUCCEEDED");
    expect(peak).toBeLessThanOrEqual(FULL_BACKUP_SESSIONS);
    // None went without: pg_dump, the session holding its snapshot (the table checksums run
    // in it when drills are on; best effort, so a refused session would only have left them
    // out), the lock watch, the inspection.
    expect(Object.fromEntries(names)).toMatchObject({ "vaultline-backup": 1, "vaultline-checksums": 1, "vaultline-backup-watch": 1, "vaultline-inspect": 1 });
    const checksums = (await previewRestore(env.ctx, result.id)).manifest!.tableChecksums!;
    expect(checksums).toMatchObject({ sameSnapshotAsDump: true, tables: { "public.customers": { rows: 300, checksum: expect.any(String) } } });
  });

  it("a role limited below it is refused before the dump opens a session, with the numbers and the ALTER that fixes it", async () => {
    await limitRole(FULL_BACKUP_SESSIONS - 1);
    const { result, names } = await watched(backUp);
    expect(result.status).toBe("FAILED");
    expect(result.failureReason).toBe(
      `A FULL backup opens up to ${FULL_BACKUP_SESSIONS} sessions on ${dbName} at once, and there is room for ${FULL_BACKUP_SESSIONS - 1} now: ` +
        `${ROLE} may have ${FULL_BACKUP_SESSIONS - 1} sessions (its CONNECTION LIMIT) and has 0 open. ` +
        `Run ALTER ROLE "${ROLE}" CONNECTION LIMIT ${FULL_BACKUP_SESSIONS};, or close sessions, then try again. Nothing was started.`,
    );
    expect([...names.keys()]).not.toContain("vaultline-backup");
    expect([...names.keys()]).not.toContain("vaultline-checksums");
  });

  it("the sessions the application holds count, by user and application; so does the database's own limit", async () => {
    await limitRole(FULL_BACKUP_SESSIONS + 1);
    const held: pg.Client[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = new pg.Client({ connectionString: url, application_name: "puma" });
        await c.connect();
        held.push(c);
      }
      const r = await backUp();
      expect(r.status).toBe("FAILED");
      expect(r.failureReason).toContain(`there is room for ${FULL_BACKUP_SESSIONS - 1} now: ${ROLE} may have ${FULL_BACKUP_SESSIONS + 1} sessions (its CONNECTION LIMIT) and has 2 open (2 ${ROLE}/puma)`);
      expect(r.failureReason).toContain(`ALTER ROLE "${ROLE}" CONNECTION LIMIT ${FULL_BACKUP_SESSIONS + 2};`);
    } finally {
      for (const c of held) await c.end();
    }

    await sql(adminUrl(), `ALTER ROLE ${ROLE} CONNECTION LIMIT -1; ALTER DATABASE "${dbName}" CONNECTION LIMIT 4`);
    const other = new pg.Client({ connectionString: (() => { const u = new URL(env.targetUrl); u.username = APP; u.password = "pw"; return u.toString(); })(), application_name: "sidekiq" });
    await other.connect();
    try {
      const r = await backUp();
      expect(r.status).toBe("FAILED");
      expect(r.failureReason).toContain(`there is room for 3 now: ${dbName} takes 4 sessions (its CONNECTION LIMIT) and has 1 open (1 ${APP}/sidekiq)`);
      expect(r.failureReason).toContain(`ALTER DATABASE "${dbName}" CONNECTION LIMIT ${1 + FULL_BACKUP_SESSIONS};`);
    } finally {
      await other.end();
      await sql(adminUrl(), `ALTER DATABASE "${dbName}" CONNECTION LIMIT -1`);
    }
  });

  it("Test connection counts the same room, and passes once the limit is raised", async () => {
    await limitRole(FULL_BACKUP_SESSIONS - 2);
    const short = await testTargetConnection(url);
    const check = short.reasons.find((r) => r.check === "backup.connections")!;
    expect(check).toMatchObject({ ok: false, grant: `ALTER ROLE "${ROLE}" CONNECTION LIMIT ${FULL_BACKUP_SESSIONS};` });
    expect(check.message).toContain(`there is room for ${FULL_BACKUP_SESSIONS - 2} now`);
    expect(short.canBackup).toBe(false);
    // Everything else a backup needs, this role has.
    expect(short.reasons.filter((r) => r.check.startsWith("backup.") && r.check !== "backup.connections" && !r.ok)).toEqual([]);

    await sql(adminUrl(), check.grant!);
    const fine = await testTargetConnection(url);
    expect(fine.reasons.find((r) => r.check === "backup.connections")).toMatchObject({ ok: true });
    expect(fine.reasons.find((r) => r.check === "backup.connections")!.message).toMatch(new RegExp(`^Room for the ${FULL_BACKUP_SESSIONS} sessions a FULL backup holds at once \\(${ROLE}: ${FULL_BACKUP_SESSIONS} of ${FULL_BACKUP_SESSIONS} free; server: \\d+ of \\d+ free\\)\\.$`));
    expect(fine.canBackup).toBe(true);
  });

  it("a session refused later (the pool grew meanwhile) says what the backup holds and where to look", () => {
    const e = Object.assign(new Error(`too many connections for role "${ROLE}"`), { code: "53300" });
    expect(humanReason(e)).toBe(
      `too many connections for role "${ROLE}" — the server refused one of the backup's sessions. A FULL backup holds up to ${FULL_BACKUP_SESSIONS} sessions on the target at once; ` +
        "Settings → Targets → Test connection says which limit is short now (the role's or the database's CONNECTION LIMIT, or max_connections). A scheduled backup is retried.",
    );
    // Through pg_dump, whose words arrive without the code.
    expect(humanReason(new Error("pg_dump failed: connection to server failed: FATAL:  sorry, too many clients already"))).toContain("A FULL backup holds up to");
    expect(humanReason(new Error("relation does not exist"))).toBe("relation does not exist");
  });
});
