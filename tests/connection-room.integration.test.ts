// A FULL backup against the server's connection limits (decision 178), on the application
// fixture (owner role, extensions, partitions, row-level security, a large object) backed up
// by a role made for backups, as a hardened setup has it: pg_read_all_data, BYPASSRLS, SELECT
// on the large objects, and a CONNECTION LIMIT. Before, the backup opened up to ten sessions
// at its start (seven for the inspection alone, six seen at once) and failed with the
// server's line "too many connections for role …" under a limit of 4, or could go without
// the watch of its locks, which is best effort.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { adminUrl, makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { gatedStorage } from "./support/gated-storage";
import { buildAppDatabase } from "./support/app-fixture";
import { runBackup } from "../lib/backup/run-backup";
import { FULL_BACKUP_SESSIONS } from "../lib/backup/connection-room";
import { toolPath } from "../lib/backup/tool-path";
import { testTargetConnection } from "../lib/backup/target-test";
import { previewRestore } from "../lib/backup/preview";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { stopBosses } from "../lib/queue";
import { updateSettings } from "../lib/settings";

const ROLE = "vl_conn_backup";
const APP = "vl_conn_app";
let env: TestEnv;
let url: string;
let dbName: string;

/** The backup role's sessions (a parallel worker of its queries is not one), sampled every 5 ms while fn runs: the most at once, and the most of each application at once. */
async function watched<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number; names: Map<string, number> }> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  let peak = 0;
  const names = new Map<string, number>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const { rows } = await c.query<{ application_name: string }>("SELECT application_name FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend'", [ROLE]);
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
  // 16 MB of attachments: more than the pipes and buffers take, so a held store holds pg_dump.
  await sql(env.targetUrl, "CREATE TABLE public.attachments (id int PRIMARY KEY, body text); INSERT INTO public.attachments SELECT r.i, (SELECT string_agg(md5(random()::text || r.i || k.j), '') FROM generate_series(1, 32) AS k(j)) FROM generate_series(1, 16384) AS r(i)");
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
  it(`a role limited to exactly ${FULL_BACKUP_SESSIONS} sessions backs up, with each of them open while it dumps`, async () => {
    await limitRole(FULL_BACKUP_SESSIONS);
    // The dump held half way (its output not taken), so the sessions it holds stay to be seen:
    // a sampler in this process missed pg_dump's once, while the backup's own work held the loop.
    const held = gatedStorage(env.ctx.storage);
    const open = async () =>
      (await sql<{ app: string }>(adminUrl(), "SELECT application_name AS app FROM pg_stat_activity WHERE usename = $1 AND backend_type = 'client backend' ORDER BY 1", [ROLE])).map((r) => r.app);
    const { result, peak } = await watched(async () => {
      const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
      const running = runBackup({ ...env.ctx, targetUrl: url, storage: held.storage }, job.id);
      try {
        // pg_dump, the snapshot's session (the table checksums run in it when drills are
        // on), and the watch of its locks, which is best effort: a refused one would only
        // have gone without a word. The inspection's is needed for the manifest: refused,
        // the backup fails.
        const during = await waitFor(async () => {
          const apps = await open();
          return ["vaultline-backup", "vaultline-checksums", "vaultline-backup-watch"].every((a) => apps.includes(a)) && apps;
        }, 20_000);
        expect(during.length).toBeLessThanOrEqual(FULL_BACKUP_SESSIONS);
      } finally {
        held.open();
        // A failed check above must not leave this backup running into the next test.
        await running.catch(() => undefined);
      }
      return { ...(await running), id: job.id };
    });
    expect(result.failureReason).toBeUndefined();
    expect(result.status).toBe("SUCCEEDED");
    expect(peak).toBeLessThanOrEqual(FULL_BACKUP_SESSIONS);
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

  it("a session refused after the count (the pool grew meanwhile) fails the backup with the limit that binds now", async () => {
    await limitRole(FULL_BACKUP_SESSIONS + 1);
    // pg_dump held back until the test says go, so that the application's pool can fill the
    // role's last slots between the count and pg_dump's login; it says when it has exited.
    const bin = mkdtempSync(path.join(tmpdir(), "vaultline-held-pg-dump-"));
    const real = await toolPath("pg_dump");
    const go = path.join(bin, "go");
    const exited = path.join(bin, "exited");
    writeFileSync(
      path.join(bin, "pg_dump"),
      `#!/bin/sh\ncase "$*" in *--version*) exec ${real} "$@" ;; esac\nwhile [ ! -f ${go} ]; do sleep 0.01; done\n${real} "$@"\nrc=$?\ntouch ${exited}\nexit $rc\n`,
    );
    chmodSync(path.join(bin, "pg_dump"), 0o755);
    const held: pg.Client[] = [];
    const watcher = new pg.Client({ connectionString: adminUrl() });
    await watcher.connect();
    try {
      const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
      const running = runBackup({ ...env.ctx, targetUrl: url, pgBinDir: bin }, job.id);
      // The count is behind once the snapshot's session is open.
      while ((await watcher.query("SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND application_name = 'vaultline-checksums'", [ROLE])).rowCount === 0) {
        await new Promise((r) => setTimeout(r, 5));
      }
      // The application's pool takes every slot left, and each the backup frees (its
      // inspection ends), until pg_dump has tried to log in.
      const take = async () => {
        const c = new pg.Client({ connectionString: url, application_name: "puma" });
        c.on("error", () => undefined);
        if (await c.connect().then(() => true, () => false)) held.push(c);
        else await new Promise((r) => setTimeout(r, 2));
      };
      for (let i = 0; i < 50; i++) await take();
      writeFileSync(go, "");
      while (!existsSync(exited)) await take();
      const r = await running;
      expect(r.status).toBe("FAILED");
      expect(r.failureReason).toMatch(new RegExp(`^pg_dump failed: .*too many connections for role "${ROLE}"\\. `));
      const now = new RegExp(
        `A FULL backup holds up to ${FULL_BACKUP_SESSIONS} sessions on the target at once\\. A scheduled backup is retried\\. ` +
          `Now ${ROLE} may have ${FULL_BACKUP_SESSIONS + 1} sessions \\(its CONNECTION LIMIT\\) and has (\\d+) open \\((\\d+) ${ROLE}/puma\\)\\. ` +
          `Run ALTER ROLE "${ROLE}" CONNECTION LIMIT (\\d+); to make room\\. Settings → Targets → Test connection counts the room\\.$`,
      ).exec(r.failureReason!);
      expect(now).not.toBeNull();
      const [, open, puma, alter] = now!.map(Number);
      expect([puma, alter]).toEqual([open, open + FULL_BACKUP_SESSIONS]);
      expect(open).toBeGreaterThanOrEqual(FULL_BACKUP_SESSIONS + 1 - 2);
    } finally {
      for (const c of held) await c.end();
      await watcher.end();
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe("a restore beside the live database under a CONNECTION LIMIT", () => {
  const OWNER = "vl_conn_owner";
  let renv: TestEnv;
  let ownerUrl: string;

  beforeAll(async () => {
    await sql(adminUrl(), `DROP ROLE IF EXISTS ${OWNER}; CREATE ROLE ${OWNER} LOGIN CREATEDB PASSWORD 'pw'`);
    renv = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 4 } });
    const db = new URL(renv.targetUrl).pathname.slice(1);
    // As a managed server gives it: the database owned by the application's role, which restores it.
    await sql(adminUrl(), `ALTER DATABASE "${db}" OWNER TO ${OWNER}; GRANT pg_signal_backend TO ${OWNER}`);
    const u = new URL(renv.targetUrl);
    u.username = OWNER;
    u.password = "pw";
    ownerUrl = u.toString();
    await sql(
      ownerUrl,
      `CREATE EXTENSION citext;
       CREATE SCHEMA shop;
       CREATE TABLE shop.customers (email citext PRIMARY KEY, name text);
       INSERT INTO shop.customers SELECT 'c' || g || '@example.com', 'name ' || g FROM generate_series(1, 1000) g;
       CREATE TABLE shop.orders (id int PRIMARY KEY, customer text NOT NULL, total numeric(10,2));
       INSERT INTO shop.orders SELECT g, md5(g::text), g / 100.0 FROM generate_series(1, 200000) g;
       CREATE INDEX ON shop.orders (customer);
       CREATE FUNCTION shop.order_total(o int) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT total FROM shop.orders WHERE id = o $$;
       CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE total > 1000;
       CREATE TABLE shop.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
       CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       INSERT INTO shop.events SELECT '2026-01-01'::date + (g % 300), 'e' || g FROM generate_series(1, 50000) g;`,
    );
  }, 120_000);

  afterAll(async () => {
    await renv?.cleanup();
    await sql(adminUrl(), `DROP OWNED BY ${OWNER}; DROP ROLE IF EXISTS ${OWNER}`).catch(() => undefined);
  });

  it("RESTORE_JOBS 4 under a limit of 4 (which failed the restore at its indexes) loads with 2, says so, and restores exactly", async () => {
    const env = { ...renv, targetUrl: ownerUrl, ctx: { ...renv.ctx, targetUrl: ownerUrl } };
    const before = await catalogFingerprint(sql, ownerUrl);
    const backupId = await fullBackup(env);
    // The bad migration after the backup: rows gone, a view dropped, a column, a function and a view added.
    await sql(
      ownerUrl,
      `DELETE FROM shop.orders WHERE id % 7 = 0; DROP VIEW shop.big_orders; ALTER TABLE shop.customers ADD COLUMN tier text;
       CREATE OR REPLACE FUNCTION shop.order_total(o int) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT 0::numeric $$;
       CREATE VIEW shop.tiers AS SELECT tier, count(*) FROM shop.customers GROUP BY tier;`,
    );
    await sql(adminUrl(), `ALTER ROLE ${OWNER} CONNECTION LIMIT 4`);
    try {
      const { status, row } = await restore(env, backupId);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(row.warnings).toEqual([
        `Loaded with 2 jobs, not RESTORE_JOBS 4: ${OWNER} may have 4 sessions (its CONNECTION LIMIT) and has 0 open, and 4 jobs hold 6 sessions at once ` +
          `(with pg_restore's leader and the watch). Slower, not different. ALTER ROLE "${OWNER}" CONNECTION LIMIT 6; gives it room for all 4.`,
      ]);
    } finally {
      await sql(adminUrl(), `ALTER ROLE ${OWNER} CONNECTION LIMIT -1`);
    }
    expect(await catalogFingerprint(sql, ownerUrl)).toEqual(before);
  });
});

