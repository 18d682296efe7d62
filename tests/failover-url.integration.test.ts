// libpq's failover form as a target's URL (decision 183), as an operator of a primary and a
// standby writes it for the application: `postgresql://…@host1,host2,host3/shop?
// target_session_attrs=read-write`. Decision 155 refused it (node-pg takes one host). Now
// Vaultline's own sessions pick the host as libpq does for pg_dump and pg_restore, so the
// backup's exported snapshot, its checks and pg_dump meet on one server, and both restores
// run on the primary wherever it is in the list. Here the first host is down and the second
// is a standby.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { canRunStandby, startPrimaryAndStandby, type PrimaryAndStandby } from "./support/standby";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { testTargetConnection } from "../lib/backup/target-test";
import { runRestore, startRestore } from "../lib/backup/restore";
import { previewRestore } from "../lib/backup/preview";
import { withDatabase } from "../lib/backup/swap";
import { withClient } from "../lib/backup/pg-client";
import { parseManifest } from "../lib/backup/manifest";
import { freePort } from "../lib/embedded-postgres";
import { SYSTEM } from "../lib/audit";

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!canRunStandby)("a target URL with several hosts (libpq's failover form)", () => {
  let pair: PrimaryAndStandby;
  let env: TestEnv;
  let primaryShop: string;
  let hosts: { dead: string; standby: string; primary: string };
  let password: string;
  /** The shop's URL naming `list`'s hosts in order, with `query`. */
  let failover: (list: string[], query?: string) => string;

  beforeAll(async () => {
    pair = await startPrimaryAndStandby();
    const admin = pair.primary.adminUrl;
    await sql(admin, "CREATE ROLE fo_owner LOGIN PASSWORD 'fo-owner-pw'");
    await sql(admin, "CREATE ROLE fo_reader");
    await sql(admin, "CREATE DATABASE shop OWNER fo_owner");
    primaryShop = withDatabase(admin, "shop");
    await sql(
      primaryShop,
      `CREATE SCHEMA app AUTHORIZATION fo_owner;
       CREATE EXTENSION pgcrypto SCHEMA app;
       SET ROLE fo_owner;
       CREATE TYPE app.state AS ENUM ('new', 'paid', 'shipped');
       CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY, placed date NOT NULL, state app.state NOT NULL DEFAULT 'new', total numeric(12,2), note text, PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
       CREATE TABLE app.orders_2025 PARTITION OF app.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE app.orders_2026 PARTITION OF app.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       INSERT INTO app.orders (placed, state, total, note) SELECT date '2025-01-01' + (g % 700), (ARRAY['new','paid','shipped']::app.state[])[1 + g % 3], g * 1.5, encode(app.digest(g::text, 'sha256'), 'hex') FROM generate_series(1, 40000) g;
       CREATE INDEX orders_note ON app.orders (note);
       CREATE VIEW app.paid AS SELECT id, total FROM app.orders WHERE state = 'paid';
       CREATE FUNCTION app.paid_total() RETURNS numeric LANGUAGE sql STABLE AS 'SELECT coalesce(sum(total), 0) FROM app.paid';
       GRANT USAGE ON SCHEMA app TO fo_reader;
       GRANT SELECT ON app.paid TO fo_reader;
       CREATE TABLE app.docs (id int PRIMARY KEY, body oid);
       INSERT INTO app.docs SELECT g, lo_from_bytea(0, convert_to('doc ' || g, 'UTF8')) FROM generate_series(1, 30) g;
       RESET ROLE;`,
    );
    await pair.caughtUp();
    const p = new URL(primaryShop);
    password = decodeURIComponent(p.password);
    hosts = { dead: `127.0.0.1:${await freePort()}`, standby: new URL(pair.standbyUrl("shop")).host, primary: p.host };
    failover = (list, query = "") => `postgresql://${p.username}:${p.password}@${list.join(",")}/shop${query}`;
    env = await makeEnv({ seed: false, overrides: { targetUrl: failover([hosts.dead, hosts.standby, hosts.primary], "?target_session_attrs=read-write"), drillDatabaseUrl: undefined } });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await pair?.stop();
  });

  it("the sessions and the target test go to the host target_session_attrs asks for, past a host that is down", async () => {
    const port = (url: string) => withClient(url, async (c) => (await c.query<{ port: number }>("SELECT inet_server_port() AS port")).rows[0]!.port);
    const [, standbyPort] = hosts.standby.split(":");
    const [, primaryPort] = hosts.primary.split(":");
    expect(await port(env.ctx.targetUrl)).toBe(Number(primaryPort));
    expect(await port(failover([hosts.dead, hosts.primary, hosts.standby], "?target_session_attrs=standby"))).toBe(Number(standbyPort));
    expect(await port(failover([hosts.dead, hosts.primary, hosts.standby], "?target_session_attrs=prefer-standby"))).toBe(Number(standbyPort));
    expect(await port(failover([hosts.dead, hosts.primary], "?target_session_attrs=prefer-standby"))).toBe(Number(primaryPort));
    expect(await port(failover([hosts.dead, hosts.standby, hosts.primary]))).toBe(Number(standbyPort));

    const t = await testTargetConnection(env.ctx.targetUrl);
    expect(t.reasons.filter((r) => !r.ok)).toEqual([]);
    expect([t.canBackup, t.canSwap, t.canRestoreInPlace]).toEqual([true, true, true]);
    expect(t.reasons.find((r) => r.check === "connect")?.message).toBe(`Connected to shop as ${new URL(primaryShop).username} on ${hosts.primary}, host 3 of 3 (target_session_attrs=read-write).`);

    // libpq's default (`any`) takes the standby that answers first: the test says a restore
    // cannot run there and what to add to the URL.
    const any = await testTargetConnection(failover([hosts.standby, hosts.primary]));
    expect(any.canBackup).toBe(true);
    expect(any.reasons.find((r) => r.check === "swap.writable")).toMatchObject({ ok: false, message: expect.stringMatching(/standby.*several hosts.*add target_session_attrs=read-write/) });

    // No host answers as asked: each one's answer, never the password.
    const none = await testTargetConnection(failover([hosts.dead, hosts.standby], "?target_session_attrs=read-write"));
    expect(none.ok).toBe(false);
    const said = none.reasons.find((r) => r.check === "connect")!.message;
    expect(said).toContain("no host of the URL is read-write (target_session_attrs=read-write)");
    expect(said).toContain(`${hosts.dead}: connect ECONNREFUSED`);
    expect(said).toContain(`${hosts.standby} is a standby (in recovery)`);
    expect(said).not.toContain(password);
  });

  it("backs up through the failover URL and restores on the primary exactly, by swap and in place", async () => {
    const before = await catalogFingerprint(sql, primaryShop);
    const id = await fullBackup(env);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const manifest = parseManifest((await env.ctx.storage.getBytes((job.metadata as { manifestKey: string }).manifestKey)).toString("utf8"));
    // The manifest names every host, never the password.
    expect(JSON.stringify(manifest)).toContain(`${hosts.dead},${hosts.standby},${hosts.primary}`);
    expect(JSON.stringify(manifest)).not.toContain(password);
    // …and the one pg_dump read from: the primary, third in the list (decision 184).
    expect(manifest.database.dumpedFrom).toBe(hosts.primary);

    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan?.standby).toBe(false);

    for (const strategy of ["swap", "in-place"] as const) {
      // A later migration and lost rows, on the primary.
      await sql(primaryShop, "DELETE FROM app.orders WHERE id % 5 = 0; DROP VIEW app.paid; ALTER TYPE app.state ADD VALUE 'refunded'; CREATE TABLE app.later (id int); SELECT lo_unlink(body) FROM app.docs WHERE id > 20;");
      const ctx = { ...env.ctx, restoreStrategy: strategy };
      const { restoreId } = await startRestore(ctx, id, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(ctx, restoreId), strategy).toBe("SUCCEEDED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.strategy).toBe(strategy);
      expect(await catalogFingerprint(sql, primaryShop), strategy).toEqual(before);
    }
    // The standby follows the primary's restored database.
    await pair.caughtUp();
    expect(await catalogFingerprint(sql, pair.standbyUrl("shop"))).toEqual(before);
  });

  it("with libpq's default the standby answers first: the restore refuses before anything and says what to add", async () => {
    const id = await fullBackup(env);
    const before = await catalogFingerprint(sql, primaryShop);
    const ctx = { ...env.ctx, targetUrl: failover([hosts.standby, hosts.primary]) };
    const preview = await previewRestore(ctx, id);
    expect(preview.warnings.join(" ")).toMatch(/standby.*several hosts.*add target_session_attrs=read-write.*refuses to run/);
    const { restoreId, preRestoreBackupId } = await startRestore(ctx, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(ctx, restoreId)).toBe("FAILED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toMatch(/standby.*several hosts \(127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\) with target_session_attrs=any.*add target_session_attrs=read-write.*Nothing was changed/);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("CANCELLED");
    expect(await catalogFingerprint(sql, primaryShop)).toEqual(before);
  });

  // Last: it ends the pair's primary. The story the form exists for — the target is not edited.
  it("after a failover (the standby promoted, the old primary gone) the same URL backs up and restores on the new primary", async () => {
    await pair.caughtUp();
    const before = await catalogFingerprint(sql, primaryShop);
    await sql(pair.standbyUrl("postgres"), "SELECT pg_promote(wait => true)");
    await pair.primary.stop();
    const promotedShop = pair.standbyUrl("shop");
    expect(await catalogFingerprint(sql, promotedShop)).toEqual(before);

    const t = await testTargetConnection(env.ctx.targetUrl);
    expect(t.reasons.filter((r) => !r.ok)).toEqual([]);
    expect(t.reasons.find((r) => r.check === "connect")?.message).toContain(`on ${hosts.standby}, host 2 of 3 (target_session_attrs=read-write).`);

    const id = await fullBackup(env);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const manifest = parseManifest((await env.ctx.storage.getBytes((job.metadata as { manifestKey: string }).manifestKey)).toString("utf8"));
    expect(manifest.database.dumpedFrom).toBe(hosts.standby);
    await sql(promotedShop, "DELETE FROM app.orders WHERE id % 3 = 0; DROP VIEW app.paid; CREATE TABLE app.after_failover (id int);");
    const { restoreId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, promotedShop)).toEqual(before);
  });
});
