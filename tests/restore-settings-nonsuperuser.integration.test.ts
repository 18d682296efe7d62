// A swap restore sets the live database's own settings (ALTER DATABASE … SET, ALTER ROLE …
// IN DATABASE … SET) on its fresh copy. Through a role that is not a superuser — the
// database's owner, as on a managed server — a setting only a superuser may set made the
// swap fail after the whole restore had run ("permission denied to set parameter
// "log_min_duration_statement""). The plan now tries each setting first (rolled back): one
// the role may not set makes the restore run in place, and the preview says which and the
// GRANT that would allow the swap; granted, the swap runs and carries it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRoleOnce } from "./support/app-fixture";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { previewRestore } from "../lib/backup/preview";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { testTargetConnection } from "../lib/backup/target-test";

/** The target test's verdict on the swap's settings check. */
async function settingsCheck(url: string) {
  const r = await testTargetConnection(url);
  return r.reasons.find((x) => x.check === "swap.settings")!;
}

const OWNER = "vl_settings_owner";
const OTHER = "vl_settings_other";
const asOwner = (url: string) => {
  const u = new URL(url);
  u.username = OWNER;
  u.password = "settings-owner-pw-1";
  return u.toString();
};

const settings = async (url: string) =>
  (
    await sql<{ s: string }>(
      url,
      `SELECT coalesce(s.setrole::regrole::text, '-') || ':' || array_to_string(s.setconfig, ',') AS s
         FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database() ORDER BY 1`,
    )
  ).map((r) => r.s);

afterAll(async () => {
  await stopBosses();
});

describe("the database's own settings and a restore through its owner, not a superuser", () => {
  let env: TestEnv;
  let url: string;
  let db: string;

  beforeAll(async () => {
    for (const stmt of [`CREATE ROLE ${OWNER} LOGIN CREATEDB PASSWORD 'settings-owner-pw-1'`, `CREATE ROLE ${OTHER} NOLOGIN`]) await createRoleOnce(sql, adminUrl(), stmt);
    await sql(adminUrl(), `REVOKE SET ON PARAMETER log_min_duration_statement FROM ${OWNER}`);
    env = await makeEnv({ seed: false, overrides: { restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    // As a managed server's administrator would: the database given to the app's role, a
    // superuser-only setting and an ordinary one on it.
    await sql(
      env.targetUrl,
      `ALTER DATABASE "${db}" OWNER TO ${OWNER}; ALTER SCHEMA public OWNER TO ${OWNER};
       CREATE EXTENSION citext;
       ALTER DATABASE "${db}" SET log_min_duration_statement = 250;
       ALTER DATABASE "${db}" SET statement_timeout = '30s';`,
    );
    url = asOwner(env.targetUrl);
    await sql(url, `CREATE TABLE users (id serial PRIMARY KEY, email citext UNIQUE); INSERT INTO users (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 200) g;`);
    env.ctx.targetUrl = url;
  });

  afterAll(async () => {
    const names = swapNames(db, "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await sql(adminUrl(), `REVOKE SET ON PARAMETER log_min_duration_statement FROM ${OWNER}`);
    await sql(adminUrl(), `ALTER ROLE ${OWNER} NOCREATEROLE`);
    await env.cleanup();
  });

  it("a superuser-only setting: the preview plans in place and names the setting and its GRANT; the restore runs in place and keeps the settings", async () => {
    const before = await catalogFingerprint(sql, url);
    const id = await fullBackup(env);
    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan!.strategy).toBe("in-place");
    expect(preview.plan!.strategyReason).toContain(`${OWNER} may not set on a new database what ${db} has set: log_min_duration_statement (permission denied to set parameter "log_min_duration_statement"; GRANT SET ON PARAMETER log_min_duration_statement TO "${OWNER}";)`);
    expect(preview.plan!.strategyReason).not.toContain("statement_timeout");
    // The target's connection test says the same, with the grant.
    expect(await settingsCheck(url)).toMatchObject({ ok: false, grant: `GRANT SET ON PARAMETER log_min_duration_statement TO "${OWNER}";` });
    expect((await settingsCheck(url)).message).toContain("log_min_duration_statement (permission denied");
    // The probes changed nothing.
    expect(await settings(url)).toEqual(["-:log_min_duration_statement=250,statement_timeout=30s"]);

    await sql(url, "DELETE FROM users WHERE id > 100");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("in-place");
    expect(await catalogFingerprint(sql, url)).toEqual(before);
    expect(await settings(url)).toEqual(["-:log_min_duration_statement=250,statement_timeout=30s"]);
  });

  it("another role's setting in the database, which only a superuser or CREATEROLE may set: in place too", async () => {
    await sql(adminUrl(), `GRANT SET ON PARAMETER log_min_duration_statement TO ${OWNER}`);
    await sql(env.targetUrl, `ALTER ROLE ${OTHER} IN DATABASE "${db}" SET work_mem = '8MB'`);
    const id = await fullBackup(env);
    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan!.strategy).toBe("in-place");
    expect(preview.plan!.strategyReason).toMatch(new RegExp(`may not set on a new database what ${db} has set: work_mem for ${OTHER} \\(permission denied`));
    expect(preview.plan!.strategyReason).not.toContain("log_min_duration_statement");
    expect(await settingsCheck(url)).toMatchObject({ ok: false, grant: `ALTER ROLE "${OWNER}" CREATEROLE;` });
    // The grant named is the one that allows it.
    await sql(adminUrl(), `ALTER ROLE ${OWNER} CREATEROLE`);
    expect(await settingsCheck(url)).toMatchObject({ ok: true });
    expect((await previewRestore(env.ctx, id)).plan!.strategy).toBe("swap");
    await sql(adminUrl(), `ALTER ROLE ${OWNER} NOCREATEROLE`);
    await sql(env.targetUrl, `ALTER ROLE ${OTHER} IN DATABASE "${db}" RESET ALL`);
  });

  it("granted the parameter, the swap runs and carries every setting to the restored database", async () => {
    const before = await catalogFingerprint(sql, url);
    const id = await fullBackup(env);
    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan!.strategy).toBe("swap");
    expect(await settingsCheck(url)).toMatchObject({ ok: true });
    await sql(url, "DELETE FROM users WHERE id > 100");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("swap");
    expect(await catalogFingerprint(sql, url)).toEqual(before);
    expect(await settings(url)).toEqual(["-:log_min_duration_statement=250,statement_timeout=30s"]);
  });
});
