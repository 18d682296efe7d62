// Decision 156: a backup from a standby that the standby cancels. A hot standby replaying the
// primary's changes cancels a query holding what a change needs once
// max_standby_streaming_delay has passed; a dump holds a lock on every table for its whole
// length, so a primary that ALTERs a table meanwhile — a deploy's migration — fails the
// backup with "canceling statement due to conflict with recovery". The reason now says what
// happened and which of the standby's settings (or the primary) avoid it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { canRunStandby, startPrimaryAndStandby, type PrimaryAndStandby } from "./support/standby";
import { stopBosses } from "../lib/queue";
import { runBackup } from "../lib/backup/run-backup";
import { withDatabase } from "../lib/backup/swap";

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!canRunStandby)("a backup from a standby that cancels it", () => {
  let pair: PrimaryAndStandby;
  let env: TestEnv;
  let primaryShop: string;

  beforeAll(async () => {
    // No waiting at all: the first conflicting change cancels the dump at once.
    pair = await startPrimaryAndStandby({ standbySettings: ["max_standby_streaming_delay=0"] });
    await sql(pair.primary.adminUrl, "CREATE DATABASE shop");
    primaryShop = withDatabase(pair.primary.adminUrl, "shop");
    await sql(
      primaryShop,
      `CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
       INSERT INTO events SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 1500000) g;
       CREATE TABLE settings (key text PRIMARY KEY, value text);
       INSERT INTO settings VALUES ('theme', 'dark');`,
    );
    await pair.caughtUp();
    env = await makeEnv({ seed: false, overrides: { targetUrl: pair.standbyUrl("shop"), drillDatabaseUrl: undefined } });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await pair?.stop();
  });

  it("fails saying the standby cancelled it, and what to set", async () => {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const running = runBackup(env.ctx, job.id);
    // pg_dump is copying a table on the standby: it holds a lock on each table it dumps.
    await waitFor(async () => {
      const rows = await sql<{ n: number }>(pair.standbyUrl("postgres"), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vaultline-backup' AND query LIKE 'COPY %'");
      return rows[0].n > 0;
    }, 60_000);
    // A migration on the primary: its lock, replayed on the standby, conflicts with the dump's.
    await sql(primaryShop, "ALTER TABLE settings ADD COLUMN updated_at timestamptz");
    const r = await running;
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/conflict with recovery/);
    expect(r.failureReason).toMatch(/the standby cancelled the dump to replay the primary's changes/);
    expect(r.failureReason).toMatch(/hot_standby_feedback = on .* max_standby_streaming_delay .* or back up from the primary/);
  }, 120_000);
});
