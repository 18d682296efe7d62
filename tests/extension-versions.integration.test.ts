// Decision 152: an extension is restored at the version the database had. pg_dump writes
// `CREATE EXTENSION IF NOT EXISTS … WITH SCHEMA …` without a version, so a database older
// than its server's extension packages (hstore 1.4 where the server's default is 1.8) came
// back from an in-place restore at 1.8, and a swap restore failed its own check of the
// fresh copy ("extensions hstore differs"). The database here looks like an application's:
// an owner role, extensions in their own schema, a view through an extension's operator, a
// trigram index, an extension at the server's default beside the older ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { manifestOf, writeManifest } from "./support/manifests";
import { chunks } from "./support/chunks";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { ExtensionVersionPinner } from "../lib/backup/extension-versions";
import { stopBosses } from "../lib/queue";

const OLD = { hstore: "1.4", pg_trgm: "1.3", citext: "1.4" };

async function buildDatabase(url: string) {
  await sql(url, `DO $$ BEGIN CREATE ROLE catalog_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  await sql(
    url,
    `CREATE SCHEMA ext;
     GRANT USAGE ON SCHEMA ext TO catalog_owner;
     CREATE EXTENSION hstore SCHEMA ext VERSION '${OLD.hstore}';
     CREATE EXTENSION pg_trgm SCHEMA ext VERSION '${OLD.pg_trgm}';
     CREATE EXTENSION citext VERSION '${OLD.citext}';
     CREATE EXTENSION "uuid-ossp";
     CREATE SCHEMA shop AUTHORIZATION catalog_owner;
     CREATE TABLE shop.items (
       id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
       sku citext NOT NULL UNIQUE,
       name text NOT NULL,
       attrs ext.hstore NOT NULL DEFAULT ''::ext.hstore);
     CREATE INDEX items_name_trgm ON shop.items USING gin (name ext.gin_trgm_ops);
     CREATE VIEW shop.item_colours AS SELECT id, sku, attrs OPERATOR(ext.->) 'colour' AS colour FROM shop.items;
     INSERT INTO shop.items (sku, name, attrs)
       SELECT 'SKU-' || g, 'item number ' || g, ext.hstore(ARRAY['colour', 'size'], ARRAY[(ARRAY['red', 'green', 'blue'])[1 + g % 3], (g % 40)::text])
         FROM generate_series(1, 500) g;
     ALTER TABLE shop.items OWNER TO catalog_owner;
     ALTER VIEW shop.item_colours OWNER TO catalog_owner;`,
  );
}

const versions = async (url: string) =>
  Object.fromEntries((await sql<{ extname: string; extversion: string }>(url, "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")).map((r) => [r.extname, r.extversion]));

const defaults = async (url: string) =>
  Object.fromEntries((await sql<{ name: string; default_version: string }>(url, "SELECT name, default_version FROM pg_available_extensions WHERE name IN ('hstore', 'pg_trgm', 'citext', 'uuid-ossp')")).map((r) => [r.name, r.default_version]));

describe.each(["swap", "in-place"] as const)("a %s restore of a database whose extensions are older than the server's", (strategy) => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await buildDatabase(env.targetUrl);
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("brings each one back at the version it had, even after the live one was updated", async () => {
    const server = await defaults(env.targetUrl);
    // The premise: these versions are not the server's defaults, so pg_dump's statement alone would move them.
    for (const [name, v] of Object.entries(OLD)) expect(server[name]).not.toBe(v);
    const before = await catalogFingerprint(sql, env.targetUrl);
    expect(await versions(env.targetUrl)).toEqual({ ...OLD, "uuid-ossp": server["uuid-ossp"] });
    const backupId = await fullBackup(env);

    // After the backup: the operator updated hstore, and the rows changed.
    await sql(env.targetUrl, "ALTER EXTENSION hstore UPDATE; UPDATE shop.items SET name = 'renamed' WHERE sku < 'SKU-2'");
    expect((await versions(env.targetUrl)).hstore).toBe(server.hstore);

    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.extensionVersions).toEqual([
      { name: "citext", recorded: OLD.citext, restoredAs: OLD.citext, pinned: true, installable: true, serverDefault: server.citext },
      { name: "hstore", recorded: OLD.hstore, restoredAs: OLD.hstore, pinned: true, installable: true, serverDefault: server.hstore },
      { name: "pg_trgm", recorded: OLD.pg_trgm, restoredAs: OLD.pg_trgm, pinned: true, installable: true, serverDefault: server.pg_trgm },
    ]);
    expect(preview.warnings.join("\n")).not.toMatch(/default version/);

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(JSON.stringify(row.warnings ?? [])).not.toMatch(/default version/);
    expect(await versions(env.targetUrl)).toEqual({ ...OLD, "uuid-ossp": server["uuid-ossp"] });
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
    expect(await sql(env.targetUrl, "SELECT count(*)::int AS n FROM shop.item_colours WHERE colour = 'green'")).toEqual([{ n: 167 }]);
  });
});

describe("a backup whose manifest does not give the versions the server can install", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    await buildDatabase(env.targetUrl);
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("a manifest from before the versions were recorded: each version is found from the catalogue's hash", async () => {
    const before = await catalogFingerprint(sql, env.targetUrl);
    const backupId = await fullBackup(env);
    const { key, m } = await manifestOf(env, backupId);
    const catalog = (m as unknown as { catalog: { extensionVersions?: Record<string, string> } }).catalog;
    expect(catalog.extensionVersions).toEqual({ ...OLD, "uuid-ossp": expect.any(String) });
    delete catalog.extensionVersions;
    await writeManifest(env, backupId, key, m);

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
  });

  it("a version this server cannot install is restored at the default, and the preview and the record say so", async () => {
    const server = await defaults(env.targetUrl);
    const backupId = await fullBackup(env);
    const { key, m } = await manifestOf(env, backupId);
    // As a backup taken before the server's hstore package dropped 1.4 would read.
    const catalog = (m as unknown as { catalog: { extensionVersions: Record<string, string>; objects: { extensions: Record<string, { def: string }> } } }).catalog;
    catalog.extensionVersions.hstore = "0.9";
    catalog.objects.extensions.hstore.def = createHash("sha256").update("0.9 in ext").digest("hex").slice(0, 12);
    await writeManifest(env, backupId, key, m);

    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan?.extensionVersions?.find((e) => e.name === "hstore")).toEqual({
      name: "hstore",
      recorded: "0.9",
      restoredAs: server.hstore,
      pinned: false,
      installable: false,
      serverDefault: server.hstore,
    });
    expect(preview.warnings.join("\n")).toMatch(new RegExp(`restored at this server's default version, not the backup's, which this server cannot install: hstore 0\\.9 → ${server.hstore.replace(".", "\\.")}`));

    // The swap's check of its copy allows that one difference, and nothing else.
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(JSON.stringify(row.warnings)).toMatch(/hstore 0\.9 → /);
    expect(await versions(env.targetUrl)).toEqual({ ...OLD, hstore: server.hstore, "uuid-ossp": server["uuid-ossp"] });
  });

  it("a drill restores the older versions too, and passes", async () => {
    await sql(env.targetUrl, `DROP SCHEMA shop CASCADE; DROP EXTENSION hstore, pg_trgm, citext, "uuid-ossp"; DROP SCHEMA ext`);
    await buildDatabase(env.targetUrl);
    const backupId = await fullBackup(env);
    const r = await runDrill(env.ctx, backupId);
    expect(r.reason).toBeUndefined();
    expect(r.ok).toBe(true);
  });

  it("the archive's head is rewritten in place of pg_dump's statement, whatever the stream's chunks; everything else is byte for byte", async () => {
    const archive = execFileSync("pg_dump", ["-Fc", "-Z0", "--dbname", env.targetUrl], { maxBuffer: 1 << 28 });
    // Without the random key of psql's \restrict lines (PostgreSQL 15.14 on), which differs per run.
    const script = (b: Buffer) =>
      execFileSync("pg_restore", ["-f", "-"], { input: b, maxBuffer: 1 << 28 })
        .toString("utf8")
        .replace(/^\\(un)?restrict .*$/gm, "");
    const original = script(archive);
    expect(original).toContain("CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA ext;\n");
    const expected = original
      .replace("CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA ext;\n", "CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA ext VERSION '1.4';\n")
      .replace('CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;\n', `CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public VERSION 'it''s';\n`);
    expect(expected).not.toBe(original);
    for (const seed of [1, 5, 9]) {
      const pinner = new ExtensionVersionPinner(
        new Map([
          ["hstore", "1.4"],
          ["uuid-ossp", "it's"],
        ]),
      );
      const out = await buffer(Readable.from(chunks(archive, seed)).pipe(pinner));
      expect(pinner.skipped).toBeNull();
      expect(pinner.pinned.sort()).toEqual(["hstore", "uuid-ossp"]);
      expect(script(out)).toBe(expected);
      // Only the two statements grew; the data after the head is the original's, unchanged.
      expect(out.length).toBe(archive.length + " VERSION '1.4'".length + " VERSION 'it''s'".length);
      const half = Math.floor(archive.length / 2);
      expect(out.subarray(out.length - half).equals(archive.subarray(archive.length - half))).toBe(true);
    }
    // Not an archive it reads: passed as it came.
    const text = Buffer.from("-- a plain SQL script\nSELECT 1;\n");
    const pinner = new ExtensionVersionPinner(new Map([["hstore", "1.4"]]));
    expect((await buffer(Readable.from([text]).pipe(pinner))).equals(text)).toBe(true);
    expect(pinner.skipped).toMatch(/not a custom-format archive/);
  });
});

afterAll(async () => {
  await stopBosses();
});
