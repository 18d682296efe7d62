// An in-place restore that PostgreSQL ends to break a deadlock (decision 204). A CI run saw
// tests/restore-grantees' in-place restore fail so ("deadlock detected; Process 7437 waits for
// AccessShareLock on relation …; blocked by process 7436"), rolled back, on a database a
// migration had just deleted rows from; it passed on every run before and after. On a live
// database the same comes from any session that holds one table the restore replaces and then
// reads another the restore already holds: each waits for the other, and PostgreSQL ends one
// of them — the restore, when its own check comes first. The transaction was rolled back
// whole, so the same restore can run again, and now does, once, and says so.
//
// Here a report takes that part, deterministically: it holds `shop.orders` (as autovacuum
// does, SHARE UPDATE EXCLUSIVE), waits until the restore waits for it, then reads
// `shop.customers`, which the restore's DROP SCHEMA … CASCADE took first. Its own
// deadlock_timeout is long, so PostgreSQL's check ends the restore, not the report.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { startRestore, runRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import type { RestoreActivityDto } from "../lib/validation/restores";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

const SCHEMA = `
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, email text NOT NULL UNIQUE, tenant text NOT NULL);
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com', 't' || (g % 3) FROM generate_series(1, 3000) g;
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers, total numeric(10,2));
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 3000, g / 10.0 FROM generate_series(1, 20000) g;
CREATE TABLE shop.refunds (id int PRIMARY KEY, order_id bigint REFERENCES shop.orders, amount numeric(10,2));
INSERT INTO shop.refunds SELECT g, g * 7, 1 FROM generate_series(1, 500) g;`;

/** A session that holds `held`, and on `read()` reads `then` and commits. */
async function report(url: string, held: string, then: string) {
  const c = new pg.Client({ connectionString: url, application_name: "nightly-report" });
  c.on("error", () => undefined);
  await c.connect();
  // Never the one PostgreSQL ends: its deadlock check comes long after the restore's (1 s).
  await c.query(`SET deadlock_timeout = '60s'; BEGIN; LOCK TABLE ${held} IN SHARE UPDATE EXCLUSIVE MODE`);
  const pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  return {
    pid,
    async read() {
      const [{ n }] = (await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${then}`)).rows;
      await c.query("COMMIT");
      return n;
    },
    end: () => c.end(),
  };
}

describe("an in-place restore that PostgreSQL ends to break a deadlock with another session", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place", heartbeatMs: 40, restoreLockTimeoutSeconds: 60 } });
    await sql(env.targetUrl, SCHEMA);
  }, 120_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("runs once more, rolled back in between: exact, the session's read answered, and the warning names the session", async () => {
    const before = await catalogFingerprint(sql, env.targetUrl);
    const backupId = await fullBackup(env);
    await sql(env.targetUrl, "DELETE FROM shop.refunds WHERE id % 2 = 0; DELETE FROM shop.orders WHERE id % 3 = 0 AND id NOT IN (SELECT order_id FROM shop.refunds)");
    const session = await report(env.targetUrl, "shop.orders", "shop.customers");
    try {
      const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      const run = runRestore(env.ctx, restoreId);
      // Once the restore waits for the held table, the session reads the one the restore holds.
      let seen = false;
      const read = (async () => {
        for (let i = 0; i < 1500 && !seen; i++) {
          const a = (await env.db.restoreJob.findUnique({ where: { id: restoreId } }))?.activity as RestoreActivityDto | null;
          seen = !!a?.sessions.some((s) => s.waitingFor.some((b) => b.pid === session.pid));
          if (!seen) await new Promise((res) => setTimeout(res, 20));
        }
        return session.read();
      })();
      const [status, n] = await Promise.all([run, read]);
      expect(seen, "the restore was seen waiting for the session").toBe(true);
      expect(n).toBe("3000");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(row.warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            String.raw`^PostgreSQL ended the restore's first attempt to break a deadlock \(it had waited \d+ s for a lock held by pid ${session.pid} \(user \S+, application "nightly-report", from 127\.0\.0\.1\), .*\)\. It was rolled back whole, nothing had changed, and the restore ran again\.$`,
          ),
        ),
      ]);
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
    } finally {
      await session.end();
    }
  });
});
