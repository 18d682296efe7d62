// Decision 153: functions that name objects without their schema. pg_dump's archives restore
// with an empty search_path, so `CREATE FUNCTION f_unaccent(text) … AS $$ SELECT
// unaccent('unaccent', $1) $$` — the classic immutable wrapper behind an index — cannot
// find unaccent while the restore builds the index; a PL/pgSQL function in a CHECK
// constraint fails COPY the same way. Raw pg_restore fails too. The preview says so before
// anything runs, the restore's and the drill's reasons say which function and what to do,
// and once the function has its search_path the database restores exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { testTargetConnection } from "../lib/backup/target-test";
import { searchPathProblems } from "../lib/backup/search-path-probe";
import pg from "pg";
import { stopBosses } from "../lib/queue";

async function buildDatabase(url: string) {
  await sql(url, `DO $$ BEGIN CREATE ROLE people_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await sql(
    url,
    `CREATE EXTENSION unaccent;
     CREATE SCHEMA people AUTHORIZATION people_owner;
     SET ROLE people_owner;
     -- Inlined when planned: the restore's CREATE INDEX fails "during inlining".
     CREATE FUNCTION people.f_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT unaccent('unaccent', $1) $$;
     -- Resolved when run: COPY fails on the first row the CHECK constraint sees.
     CREATE FUNCTION people.normalized(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN lower(f_unaccent(t)); END $$;
     -- The same, written safely: schema-qualified, and with a search_path of its own.
     CREATE FUNCTION people.initials(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT pg_catalog.upper(pg_catalog.left(t, 1)) $$;
     CREATE FUNCTION people.is_active(s text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE SET search_path = people, pg_catalog AS $$ BEGIN RETURN s = 'active'; END $$;
     CREATE TABLE people.users (
       id int PRIMARY KEY,
       name text NOT NULL CHECK (people.normalized(name) <> ''),
       status text NOT NULL DEFAULT 'active',
       initial text GENERATED ALWAYS AS (people.initials(name)) STORED);
     CREATE INDEX users_name_unaccent ON people.users (people.f_unaccent(name));
     CREATE INDEX users_active ON people.users (id) WHERE people.is_active(status);
     CREATE MATERIALIZED VIEW people.name_counts AS SELECT people.f_unaccent(name) AS name, count(*) AS n FROM people.users GROUP BY 1;
     RESET ROLE;`,
  );
  await sql(url, `SET search_path = people, public; INSERT INTO people.users (id, name) SELECT g, (ARRAY['Zoë', 'Chloé', 'Renée'])[1 + g % 3] || ' ' || g FROM generate_series(1, 300) g; REFRESH MATERIALIZED VIEW people.name_counts`);
  // PostgreSQL builds an index as its table's owner; so does the preview's probe, never as a
  // superuser. This predicate fails (as "does not exist") only with a superuser's rights.
  await sql(
    url,
    `SET ROLE people_owner;
     CREATE FUNCTION people.guard(s text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
       BEGIN
         IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN RAISE EXCEPTION 'ran with a superuser''s rights' USING ERRCODE = 'undefined_function'; END IF;
         RETURN s <> '';
       END $$;
     CREATE INDEX users_guarded ON people.users (id) WHERE people.guard(status);`,
  );
}

describe.each(["swap", "in-place"] as const)("a %s restore of a database whose functions rely on the search_path", (strategy) => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await buildDatabase(env.targetUrl);
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("is named by the preview, fails saying which function and what to do, and changes nothing", async () => {
    const backupId = await fullBackup(env);
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.searchPath).toEqual([
      { kind: "check constraint", name: "people.users.users_name_check", error: "function f_unaccent(text) does not exist", fn: "people.normalized(text)" },
      { kind: "index", name: "people.users_name_unaccent", error: "function unaccent(unknown, text) does not exist", fn: "f_unaccent" },
      { kind: "materialized view", name: "people.name_counts", error: "function unaccent(unknown, text) does not exist", fn: "f_unaccent" },
    ]);
    const warning = preview.warnings.find((w) => w.startsWith("The restore is likely to fail"));
    expect(warning).toMatch(/3 expressions it evaluates then name something it cannot find — check constraint people\.users\.users_name_check \(through function people\.normalized\(text\)\)/);
    expect(warning).toContain("ALTER FUNCTION people.normalized(text) SET search_path = public");

    // Through a role that is neither a superuser nor a member of the tables' owner (a managed
    // database's admin user): the same expressions are tried, as that role.
    await sql(env.targetUrl, `DO $$ BEGIN CREATE ROLE probe_reader LOGIN PASSWORD 'probe-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await sql(env.targetUrl, "GRANT USAGE ON SCHEMA people TO probe_reader; GRANT SELECT ON ALL TABLES IN SCHEMA people TO probe_reader");
    const asReader = new URL(env.targetUrl);
    asReader.username = "probe_reader";
    asReader.password = "probe-pw";
    const readerClient = new pg.Client({ connectionString: asReader.toString() });
    await readerClient.connect();
    try {
      expect(await searchPathProblems(readerClient, [])).toEqual(preview.plan?.searchPath);
    } finally {
      await readerClient.end();
    }
    await sql(env.targetUrl, "REVOKE ALL ON ALL TABLES IN SCHEMA people FROM probe_reader; REVOKE USAGE ON SCHEMA people FROM probe_reader");

    // "Test connection" says it before any restore is needed.
    const tested = await testTargetConnection(env.targetUrl);
    expect(tested.restorable).toBe(false);
    expect(tested.reasons.find((r) => r.check === "restore.search_path")).toEqual({ check: "restore.search_path", ok: false, message: warning });
    expect([tested.ok, tested.canBackup, tested.canSwap]).toEqual([true, true, true]);

    const before = await catalogFingerprint(sql, env.targetUrl);
    const { status, row } = await restore(env, backupId);
    expect(status).toBe("FAILED");
    // COPY meets the CHECK constraint first; the reason keeps PostgreSQL's own error line.
    expect(row.failureReason).toMatch(/function f_unaccent\(text\) does not exist/);
    expect(row.failureReason).toMatch(/function people\.normalized\(text\) names something without its schema .*ALTER FUNCTION people\.normalized\(text\) SET search_path = public/);
    expect(row.failureReason).toMatch(strategy === "swap" ? /The live database was never touched/ : /rolled back: the database is exactly as it was/);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
  });

  it("restores exactly once the functions have their search_path, and the preview has nothing to say", async () => {
    await sql(env.targetUrl, "ALTER FUNCTION people.normalized(text) SET search_path = people, public; ALTER FUNCTION people.f_unaccent(text) SET search_path = public");
    const before = await catalogFingerprint(sql, env.targetUrl);
    const backupId = await fullBackup(env);
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.searchPath).toEqual([]);
    expect(preview.warnings.join("\n")).not.toMatch(/likely to fail/);
    expect((await testTargetConnection(env.targetUrl)).restorable).toBe(true);
    await sql(env.targetUrl, "DELETE FROM people.users WHERE id > 100");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
  });
});

describe("a domain whose CHECK calls such a function", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await sql(
      env.targetUrl,
      `CREATE SCHEMA crm;
       CREATE FUNCTION crm.email_pattern() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '^[^@]+@[^@]+$' $$;
       CREATE FUNCTION crm.is_email(v text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN v ~ email_pattern(); END $$;
       CREATE DOMAIN crm.email AS text CHECK (crm.is_email(VALUE));
       CREATE DOMAIN crm.safe_email AS text CHECK (VALUE ~ crm.email_pattern());
       CREATE TABLE crm.contacts (id int PRIMARY KEY, email crm.email NOT NULL, backup_email crm.safe_email);
       SET search_path = crm, public;
       INSERT INTO crm.contacts SELECT g, 'c' || g || '@example.com', 'b' || g || '@example.com' FROM generate_series(1, 50) g;`,
    );
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("is named by the preview (COPY checks every value it loads into the domain), the safe one is not", async () => {
    const backupId = await fullBackup(env);
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.searchPath).toEqual([
      { kind: "domain", name: "crm.email.email_check", error: "function email_pattern() does not exist", fn: "crm.is_email(text)" },
    ]);
    const { status, row } = await restore(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(/function crm\.is_email\(text\) names something without its schema \(function email_pattern\(\) does not exist\)/);
  });
});

describe("a drill of such a backup", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildDatabase(env.targetUrl);
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("fails, and says which function and what to do", async () => {
    const backupId = await fullBackup(env);
    const r = await runDrill(env.ctx, backupId);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/function people\.normalized\(text\) names something without its schema/);
  });
});

afterAll(async () => {
  await stopBosses();
});
