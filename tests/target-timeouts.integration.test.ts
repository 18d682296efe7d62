// A production database often bounds its application's sessions: ALTER DATABASE … SET
// statement_timeout, idle_in_transaction_session_timeout. Vaultline's own sessions on the
// target must not inherit them (pg_dump and pg_restore free theirs). They did (decision
// 141): the server ended the transaction whose snapshot pg_dump dumps while the dump ran —
// an 'error' event with no listener, which ends the worker — and cancelled the checksum of
// a table that took longer than the statement timeout, so drills never compared it.
// Here 100 ms each (and idle_session_timeout, PostgreSQL 14's, decision 143), a table whose
// checksum takes longer, and thousands of large objects for the in-place restore's prologue
// to unlink.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { databaseOf } from "../lib/backup/swap";
import { updateSettings } from "../lib/settings";
import { runDrill } from "../lib/backup/drill";
import { parseManifest } from "../lib/backup/manifest";

const ROWS = 400_000;

/** The test's own sessions, free of the database's timeouts (Vaultline's connect without this). */
const free = (url: string) => {
  const u = new URL(url);
  u.searchParams.set("options", "-c statement_timeout=0 -c idle_in_transaction_session_timeout=0 -c idle_session_timeout=0");
  return u.toString();
};

afterAll(async () => {
  await stopBosses();
});

describe.each(["swap", "in-place"] as const)("a database with short statement and idle timeouts of its own (%s restore)", (strategy) => {
  let env: TestEnv;
  const unhandled: unknown[] = [];
  const onUncaught = (e: unknown) => unhandled.push(e);

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await sql(
      env.targetUrl,
      `CREATE TABLE events (id int PRIMARY KEY, body text);
       INSERT INTO events SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, ${ROWS}) g;
       CREATE TABLE docs (id int PRIMARY KEY, body oid);
       INSERT INTO docs SELECT g, lo_from_bytea(0, convert_to('doc ' || g, 'UTF8')) FROM generate_series(1, 3000) g;`,
    );
    const db = databaseOf(env.targetUrl);
    await sql(env.targetUrl, `ALTER DATABASE "${db}" SET statement_timeout = '100ms'`);
    await sql(env.targetUrl, `ALTER DATABASE "${db}" SET idle_in_transaction_session_timeout = '100ms'`);
    await sql(env.targetUrl, `ALTER DATABASE "${db}" SET idle_session_timeout = '100ms'`);
    await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, { type: "user", label: "admin@example.com" });
    process.on("uncaughtException", onUncaught);
  }, 300_000);

  afterAll(async () => {
    process.off("uncaughtException", onUncaught);
    await env.cleanup();
  });

  it("the backup checksums every table, nothing ends a session under it, a drill compares every table, and the restore is exact", async () => {
    const [{ slow }] = await sql<{ slow: boolean }>(env.targetUrl, "SELECT sum(length(md5(t::text))) > 0 AS slow FROM events t").then(
      () => [{ slow: false }],
      (e: Error) => [{ slow: /statement timeout/.test(e.message) }],
    );
    expect(slow, "the table's checksum must outlast the database's statement timeout for this test to mean anything").toBe(true);
    const before = await catalogFingerprint(sql, free(env.targetUrl));

    const id = await fullBackup(env);
    // Past the idle timeout after the dump: a session ended now would surface as an error.
    await new Promise((r) => setTimeout(r, 300));
    expect(unhandled).toEqual([]);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const manifest = parseManifest((await env.ctx.storage.getBytes((job.metadata as { manifestKey: string }).manifestKey)).toString("utf8"));
    expect(manifest.tableChecksums?.tables["public.events"]).toMatchObject({ rows: ROWS, checksum: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const drill = await runDrill(env.ctx, id);
    expect(drill.reason).toBeUndefined();
    expect(drill.note).toBeUndefined();
    expect(drill.tables.find((t) => t.table === "public.events")).toMatchObject({ ok: true, actual: ROWS });

    await sql(free(env.targetUrl), "DELETE FROM events WHERE id % 2 = 0; SELECT lo_unlink(body) FROM docs WHERE id > 1500;");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(await catalogFingerprint(sql, free(env.targetUrl))).toEqual(before);
    expect(unhandled).toEqual([]);
  }, 300_000);
});
