// The night the server itself is new (decision 171): the disk was lost, a PostgreSQL was set up
// again, and the backup is restored into it. Roles are the server's, not the database's, and
// pg_dump writes none: a restore that keeps owners and grants was refused until someone had
// made, by hand, every role the database named. Now the backup records them and the restore,
// asked to, makes them first. The backup is of the application fixture (an owner role,
// schemas, partitions, extensions, views, row-level security) with roles of every kind a real
// database names: a group acting through membership, a login member of it with settings, an
// expiry, a connection limit and a comment, a role only a column grant names, one only a
// policy names, one only default privileges name. The "rebuilt" server is a second PostgreSQL
// that has none of them; the restore is judged by the catalogue-and-data fingerprint and by
// each role's definition read back from the new server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { makeTablespace, type TestTablespace } from "./support/tablespace";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase, APP_ROLE, READER_ROLE } from "./support/app-fixture";
import { fullBackup } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { startRestore, runRestore } from "../lib/backup/restore";
import { databaseOf } from "../lib/backup/swap";
import { readRoleDefinitions, type RoleDefinition } from "../lib/backup/role-definitions";
import { manifestCatalog } from "../lib/backup/catalog-snapshot";
import { withClient } from "../lib/backup/pg-client";
import { missingTablespacesWords } from "../lib/backup/tablespaces";
import { keysForJob } from "../lib/backup/manifest";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const fingerprint = (url: string) => catalogFingerprint(sql, url);
const GROUP = "vl_rb_group";
const ANALYST = "vl_rb_analyst";
const COLUMN_ONLY = "vl_rb_column";
const POLICY_ONLY = "vl_rb_policy";
const DEFAULTS_ONLY = "vl_rb_defaults";
const OURS = [GROUP, ANALYST, COLUMN_ONLY, POLICY_ONLY, DEFAULTS_ONLY];
/** The role Vaultline connects to the rebuilt server as in the refusal test: CREATEDB and CREATEROLE, not a superuser. */
const OPERATOR = "vl_rb_operator";

/** Roles are the server's: made once, tolerating the other describe's run (and reruns). */
async function addRoles(dbUrl: string): Promise<void> {
  const made = (stmt: string) => `DO $$ BEGIN ${stmt}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`;
  await sql(
    adminUrl(),
    [
      made(`CREATE ROLE ${GROUP} NOLOGIN`),
      made(`CREATE ROLE ${ANALYST} LOGIN PASSWORD 'analyst-pw-1' NOINHERIT CONNECTION LIMIT 7 VALID UNTIL '2030-01-01 00:00:00+00'`),
      made(`CREATE ROLE ${COLUMN_ONLY} NOLOGIN`),
      made(`CREATE ROLE ${POLICY_ONLY} NOLOGIN`),
      made(`CREATE ROLE ${DEFAULTS_ONLY} NOLOGIN BYPASSRLS`),
      `ALTER ROLE ${DEFAULTS_ONLY} BYPASSRLS`,
      `ALTER ROLE ${ANALYST} SET work_mem = '12MB'`,
      `ALTER ROLE ${ANALYST} SET search_path = "$user", billing`,
      `COMMENT ON ROLE ${ANALYST} IS 'the analyst''s login'`,
      `GRANT ${GROUP} TO ${ANALYST} WITH ADMIN OPTION`,
      `GRANT pg_read_all_stats TO ${GROUP}`,
    ].join(";\n"),
  );
  await sql(
    dbUrl,
    `GRANT SELECT ON billing.invoices TO ${GROUP};
     GRANT SELECT (id, email) ON public.customers TO ${COLUMN_ONLY};
     CREATE POLICY ${POLICY_ONLY}_reads ON billing.invoices FOR SELECT TO ${POLICY_ONLY}, ${READER_ROLE} USING (tenant = 'b');
     ALTER DEFAULT PRIVILEGES FOR ROLE ${APP_ROLE} IN SCHEMA billing GRANT SELECT ON TABLES TO ${DEFAULTS_ONLY};`,
  );
}

/** Each role's definition on a server, without whether it has a password (a backup holds none). */
async function definitions(url: string, names: string[]): Promise<Record<string, Omit<RoleDefinition, "hadPassword">>> {
  const defs = await withClient(url, (c) => readRoleDefinitions(c, names));
  return Object.fromEntries(defs.filter((d) => names.includes(d.name)).map(({ hadPassword: _p, ...d }) => [d.name, d]));
}

async function manifestText(env: TestEnv, backupId: string): Promise<string> {
  const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
  return (await env.ctx.storage.getBytes(keysForJob(env.ctx, job).manifest)).toString("utf8");
}
const recordedRoles = async (env: TestEnv, backupId: string) =>
  (manifestCatalog(JSON.parse(await manifestText(env, backupId)) as object)?.roleDefinitions ?? []).map((d) => d.name);

/** A confirmed restore with these options, run to its end: its status and row. */
async function restoreWith(env: TestEnv, backupId: string, opts: { createRoles?: boolean; tablespaces?: "default" } = {}) {
  const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE", ...opts });
  const status = await runRestore(env.ctx, restoreId);
  return { status, row: await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } }) };
}

const rolesOn = async (url: string, names: string[]) =>
  (await sql<{ rolname: string }>(url, "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1", [names])).map((r) => r.rolname);

afterAll(async () => {
  await stopBosses();
});

describe.each(["swap", "in-place"] as const)("a restore onto a rebuilt server (%s)", (strategy) => {
  let env: TestEnv;
  let rebuilt: PgServer;
  let db: string;
  let backupId: string;
  let original: Record<string, string>;
  let recorded: Record<string, Omit<RoleDefinition, "hadPassword">>;
  let needed: string[];

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await addRoles(env.targetUrl);
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    needed = await recordedRoles(env, backupId);
    recorded = await definitions(env.targetUrl, [APP_ROLE, READER_ROLE, ...OURS]);
    rebuilt = await startPg({ label: "rebuilt" });
    env.ctx.targetUrl = rebuilt.urlFor(db);
  }, 300_000);

  afterAll(async () => {
    await rebuilt?.stop();
    await env?.cleanup();
  });

  it("the backup recorded every role its objects and its database name, and those joined to them, never a password", async () => {
    expect(needed).toEqual(expect.arrayContaining([APP_ROLE, READER_ROLE, ...OURS]));
    const text = await manifestText(env, backupId);
    expect(text).not.toContain("analyst-pw-1");
    expect(text).not.toContain("app-role-password-1");
    expect(recorded[ANALYST]).toMatchObject({
      login: true,
      inherit: false,
      connectionLimit: 7,
      validUntil: "2030-01-01 00:00:00.000000+00",
      settings: ["work_mem=12MB", 'search_path="$user", billing'],
      comment: "the analyst's login",
      memberOf: [{ role: GROUP, admin: true }],
    });
    expect(recorded[GROUP].memberOf).toEqual([{ role: "pg_read_all_stats", admin: false }]);
  });

  it("the preview on the new server says which roles are missing and that the backup can make them", async () => {
    const p = await previewRestore(env.ctx, backupId);
    expect(p.missingDatabase).toMatchObject({ name: db, canCreate: true });
    expect(p.missingRoles?.creatable).toEqual(expect.arrayContaining([APP_ROLE, READER_ROLE, ...OURS]));
    expect(p.missingRoles?.unknown).toEqual([]);
    expect(p.missingRoles?.passwordless).toEqual(expect.arrayContaining([APP_ROLE, ANALYST]));
    expect(p.missingRoles?.passwordless).not.toContain(GROUP);
    expect(p.warnings.join(" ")).toMatch(/roles the backup needs are not on this server \(.*vl_app.*\); the backup recorded how to make them/);
  });

  it("without createRoles the restore is refused as before, and the server is as it was", async () => {
    const { status, row } = await restoreWith(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(/^Owners and grants cannot be restored as they were: Role .* does not exist on this server/);
    expect(row.failureReason).toMatch(/was dropped again: the server is as it was\.$/);
    expect(await rolesOn(rebuilt.adminUrl, needed)).toEqual([]);
    expect(await sql(rebuilt.adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [db])).toEqual([]);
  });

  it("with createRoles the roles are made as recorded, then the database, exactly", async () => {
    const { status, row } = await restoreWith(env, backupId, { createRoles: true });
    const restoreId = row.id;
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.createRoles).toBe(true);
    // Every object with its owner and grants, the policy's roles, the default privileges,
    // the database's owner, settings and grants, and every row.
    expect(await fingerprint(env.ctx.targetUrl)).toEqual(original);
    expect(await definitions(rebuilt.adminUrl, [APP_ROLE, READER_ROLE, ...OURS])).toEqual(recorded);
    expect(await rolesOn(rebuilt.adminUrl, needed)).toEqual([...needed].sort());
    expect(row.warnings[0]).toMatch(new RegExp(`^Roles the backup needs were missing on this server and were created as it recorded them: .*${ANALYST}.*; without a password \\(a backup holds none\\)`));
    const made = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.roles_created" }, orderBy: { at: "desc" } });
    expect(made.details).toMatchObject({ restoreId, roles: expect.arrayContaining([APP_ROLE, ...OURS]) });
    // No password came with them: the application's role cannot log in until one is set.
    const [pw] = await sql<{ has: boolean }>(rebuilt.adminUrl, "SELECT rolpassword IS NOT NULL AS has FROM pg_authid WHERE rolname = $1", [APP_ROLE]);
    expect(pw.has).toBe(false);
  });
});

describe("a restore that made roles and then failed", () => {
  let env: TestEnv;
  let rebuilt: PgServer;
  let db: string;
  let operatorUrl: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await addRoles(env.targetUrl);
    // The reader owns a table too: a role only granted something needs no membership (decision 182).
    await sql(env.targetUrl, `CREATE TABLE billing.reader_notes (id int PRIMARY KEY); ALTER TABLE billing.reader_notes OWNER TO ${READER_ROLE}`);
    rebuilt = await startPg({ label: "rebuilt" });
    // The new server's administrator made the reader role already, and Vaultline's role (not
    // a superuser) is no member of it: it may make the others but not give objects to that one.
    await sql(rebuilt.adminUrl, `CREATE ROLE ${OPERATOR} LOGIN PASSWORD 'operator-pw-1' CREATEDB CREATEROLE; CREATE ROLE ${READER_ROLE} NOLOGIN`);
    const u = new URL(rebuilt.urlFor(db));
    u.username = OPERATOR;
    u.password = "operator-pw-1";
    operatorUrl = u.toString();
  }, 300_000);

  afterAll(async () => {
    await rebuilt?.stop();
    await env?.cleanup();
  });

  /** A backup of the fixture as it is now, restored onto the rebuilt server as the operator. */
  const backupThenRestore = async () => {
    env.ctx.targetUrl = env.targetUrl;
    const backupId = await fullBackup(env);
    const needed = (await recordedRoles(env, backupId)).filter((n) => n !== READER_ROLE);
    env.ctx.targetUrl = operatorUrl;
    const { status, row } = await restoreWith(env, backupId, { createRoles: true });
    expect(status).toBe("FAILED");
    return { row, needed };
  };

  it("a role only a superuser may make: none is made, and the reason names it", async () => {
    const { row, needed } = await backupThenRestore();
    // BYPASSRLS (the defaults-only role has it) needs a superuser before PostgreSQL 16: its
    // statement fails the one transaction, and nothing is left.
    expect(row.failureReason).toMatch(/^The roles .* could not be created: must be superuser to create bypassrls users, at CREATE ROLE "vl_rb_defaults"\. None was made\. Nothing was changed\.$/);
    expect(await rolesOn(rebuilt.adminUrl, needed)).toEqual([]);
    expect(await sql(rebuilt.adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [db])).toEqual([]);
  });

  it("made, then refused: dropped again with the database it made, and the server is as it was", async () => {
    await sql(adminUrl(), `ALTER ROLE ${DEFAULTS_ONLY} NOBYPASSRLS`);
    const { row, needed } = await backupThenRestore();
    expect(row.failureReason).toMatch(new RegExp(`^Owners and grants cannot be restored as they were: ${OPERATOR} may not give objects to ${READER_ROLE} \\(GRANT`));
    expect(row.failureReason).toMatch(
      new RegExp(`\\. Nothing was changed\\. The database ${db}, which this restore had created, was dropped again: the server is as it was\\. The roles this restore had created \\(.*\\) were dropped again\\.$`),
    );
    const made = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.roles_created", details: { path: ["restoreId"], equals: row.id } } });
    expect(made.details).toMatchObject({ roles: expect.arrayContaining([APP_ROLE, ...OURS]) });
    expect(await rolesOn(rebuilt.adminUrl, needed)).toEqual([]);
    expect(await rolesOn(rebuilt.adminUrl, [READER_ROLE, OPERATOR])).toEqual([OPERATOR, READER_ROLE].sort());
    expect(await sql(rebuilt.adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [db])).toEqual([]);
    const dropped = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.roles_dropped" }, orderBy: { at: "desc" } });
    expect(dropped.details).toMatchObject({ restoreId: row.id, roles: expect.arrayContaining([APP_ROLE, ...OURS]) });
  });
});

// Decision 173: a table and an index on a disk of their own (a tablespace), which the rebuilt
// server does not have. Needs root, to give the tablespace's directory to the server's user.
const TABLESPACE = "vl_rb_fast";
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot).each(["swap", "in-place"] as const)("a backup whose objects are in a tablespace the rebuilt server lacks (%s)", (strategy) => {
  let env: TestEnv;
  let rebuilt: PgServer;
  let db: string;
  let space: TestTablespace;
  let backupId: string;
  let original: Record<string, string>;

  beforeAll(async () => {
    space = await makeTablespace(adminUrl(), TABLESPACE);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    await sql(
      env.targetUrl,
      `CREATE TABLE hot (id int PRIMARY KEY, v text) TABLESPACE ${TABLESPACE};
       INSERT INTO hot SELECT g, 'v' || g FROM generate_series(1, 5000) g;
       CREATE INDEX hot_v ON hot (v) TABLESPACE ${TABLESPACE};
       CREATE TABLE cold (id int); INSERT INTO cold SELECT generate_series(1, 100);`,
    );
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    rebuilt = await startPg({ label: "rebuilt" });
    env.ctx.targetUrl = rebuilt.urlFor(db);
  }, 300_000);

  afterAll(async () => {
    await rebuilt?.stop();
    await env?.cleanup();
    await space?.drop();
  });

  it("the backup names the tablespace; the preview says the server lacks it and what to do", async () => {
    expect(manifestCatalog(JSON.parse(await manifestText(env, backupId)) as object)?.tablespaces).toEqual([TABLESPACE]);
    const p = await previewRestore(env.ctx, backupId);
    expect(p.missingTablespaces).toEqual([TABLESPACE]);
    expect(p.warnings).toContain(`${missingTablespacesWords([TABLESPACE])}. Keeping them as the backup names them, the restore refuses to run.`);
  });

  it("kept as the backup names it, the restore refuses before anything, with what to do", async () => {
    const { status, row } = await restoreWith(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toBe(
      `Objects in the backup are placed in a tablespace this server does not have (${TABLESPACE}). Create it on the server first (CREATE TABLESPACE "${TABLESPACE}" LOCATION '…';), or restore with "tablespaces": "default" to place every object in the database's own tablespace. Nothing was changed.`,
    );
    // Refused before the database was made, and before the safety backup.
    expect(await sql(rebuilt.adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [db])).toEqual([]);
    const safety = await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } });
    expect(safety.status).toBe("CANCELLED");
  });

  it("asked for the database's own tablespace, every object goes there, exactly", async () => {
    const { status, row } = await restoreWith(env, backupId, { tablespaces: "default" });
    const restoreId = row.id;
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.defaultTablespace).toBe(true);
    expect(await fingerprint(env.ctx.targetUrl)).toEqual(original);
    expect(await sql(env.ctx.targetUrl, "SELECT relname, reltablespace FROM pg_class WHERE relname IN ('hot', 'hot_v', 'hot_pkey', 'cold') ORDER BY 1")).toEqual([
      { relname: "cold", reltablespace: 0 },
      { relname: "hot", reltablespace: 0 },
      { relname: "hot_pkey", reltablespace: 0 },
      { relname: "hot_v", reltablespace: 0 },
    ]);
    const requested = await env.db.auditEvent.findFirstOrThrow({ where: { action: "restore.requested", details: { path: ["restoreId"], equals: restoreId } } });
    expect(requested.details).toMatchObject({ tablespaces: "default" });
  });
});
