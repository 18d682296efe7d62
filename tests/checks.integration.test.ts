// Schema drift, integrity rules and file sync against real PostgreSQL databases, a real
// migrations folder and a real uploads directory (seed 004's three incidents).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, createMigratedDatabase, sql } from "./support/vitest-env";
import { readMigrations } from "../lib/migrate";
import {
  ChecksFileError,
  loadChecksFile,
  parseChecksFile,
  runChecks,
  type CheckResult,
  type CheckRun,
  type MigrationRow,
} from "../lib/backup/checks";
import { runIntegrityRules } from "../lib/backup/checks/integrity";
import { runFileSync } from "../lib/backup/checks/file-sync";
import { checkRunSchema, type FileSyncEntry, type IntegrityRule } from "../lib/validation/checks";

const tmp = mkdtempSync(path.join(tmpdir(), "vaultline-checks-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let appDbUrl: string;
beforeAll(async () => {
  appDbUrl = await createMigratedDatabase("checks_app");
});

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

const PRISMA_MIGRATIONS = `CREATE TABLE "_prisma_migrations" (
  id varchar(36) PRIMARY KEY NOT NULL,
  checksum varchar(64) NOT NULL,
  finished_at timestamptz,
  migration_name varchar(255) NOT NULL,
  logs text,
  rolled_back_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT now(),
  applied_steps_count integer NOT NULL DEFAULT 0
)`;

interface Applied {
  name: string;
  checksum: string;
  finished?: boolean;
  rolledBack?: boolean;
}

let rowSeq = 0;
async function targetWithMigrations(rows: Applied[]): Promise<string> {
  const url = await createDatabase("checks_target");
  await sql(url, PRISMA_MIGRATIONS);
  for (const r of rows) {
    rowSeq++;
    await sql(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, rolled_back_at, applied_steps_count)
       VALUES ($1, $2, $3, now() + $4 * interval '1 second',
               CASE WHEN $5 THEN now() + $4 * interval '1 second' END,
               CASE WHEN $6 THEN now() + $4 * interval '1 second' END, 1)`,
      [`00000000-0000-0000-0000-${String(rowSeq).padStart(12, "0")}`, r.checksum, r.name, rowSeq, r.finished ?? true, r.rolledBack ?? false],
    );
  }
  return url;
}

function migrationsDir(migrations: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmp, "migrations-"));
  for (const [name, text] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, "migration.sql"), text);
  }
  writeFileSync(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  return dir;
}

function byId(run: CheckRun, id: string): CheckResult {
  const r = run.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id} in ${run.results.map((x) => x.id).join(", ")}`);
  return r;
}

const INIT = "CREATE TABLE ads (id serial PRIMARY KEY, title text NOT NULL);\n";
const ADD_SLUG = "ALTER TABLE ads ADD COLUMN slug text;\n";
const ADD_FAVORITES = "CREATE TABLE user_favorites (user_id int, ad_id int);\n";
const BROKEN = "ALTER TABLE categories ADD COLUMN form_template jsonb;\n";

describe("schema drift", () => {
  it("against the migrations on disk, names extra, missing, failed, rolled-back and changed migrations", async () => {
    const dir = migrationsDir({
      "20260101000000_init": INIT,
      "20260102000000_add_slug": ADD_SLUG,
      "20260103000000_add_favorites": ADD_FAVORITES,
      "20260104000000_add_form_template": BROKEN,
    });
    const targetUrl = await targetWithMigrations([
      { name: "20251201000000_tried_once", checksum: sha256("x"), finished: false, rolledBack: true },
      { name: "20251215000000_hotfix_on_prod", checksum: sha256("hotfix") },
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260102000000_add_slug", checksum: sha256("ALTER TABLE ads ADD COLUMN slug varchar(50);\n") },
      { name: "20260104000000_add_form_template", checksum: sha256(BROKEN), finished: false },
    ]);

    const run = await runChecks({ targetUrl, appDbUrl, appMigrationsDir: dir });
    const r = byId(run, "drift:target-disk");

    expect(r.kind).toBe("drift");
    expect(r.status).toBe("fail");
    expect(r.details).toEqual({
      against: "disk",
      dir,
      targetTracksMigrations: true,
      onDisk: 4,
      applied: 3,
      appliedNotOnDisk: ["20251215000000_hotfix_on_prod"],
      onDiskNotApplied: ["20260103000000_add_favorites"],
      failed: ["20260104000000_add_form_template"],
      rolledBack: ["20251201000000_tried_once"],
      checksumMismatch: ["20260102000000_add_slug"],
    });
    for (const name of ["20260103000000_add_favorites", "20260104000000_add_form_template", "20251215000000_hotfix_on_prod"]) {
      expect(r.summary).toContain(name);
    }
    expect(run.status).toBe("fail");
  });

  it("an applied migration that is merely not on disk is a warning, not a failure", async () => {
    const dir = migrationsDir({ "20260101000000_init": INIT });
    const targetUrl = await targetWithMigrations([
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260105000000_newer_release", checksum: sha256("newer") },
    ]);
    const r = byId(await runChecks({ targetUrl, appDbUrl, appMigrationsDir: dir }), "drift:target-disk");
    expect(r.status).toBe("warn");
    expect(r.details).toMatchObject({ appliedNotOnDisk: ["20260105000000_newer_release"], onDiskNotApplied: [], failed: [] });
  });

  it("passes when the target has exactly the migrations on disk, even after a failed attempt was rolled back and re-applied", async () => {
    const dir = migrationsDir({ "20260101000000_init": INIT, "20260102000000_add_slug": ADD_SLUG });
    const targetUrl = await targetWithMigrations([
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260102000000_add_slug", checksum: sha256(ADD_SLUG), finished: false, rolledBack: true },
      { name: "20260102000000_add_slug", checksum: sha256(ADD_SLUG) },
    ]);
    const r = byId(await runChecks({ targetUrl, appDbUrl, appMigrationsDir: dir }), "drift:target-disk");
    expect(r.status).toBe("pass");
    expect(r.summary).toBe("The target has applied exactly the 2 migrations on disk.");
    expect(r.details).toMatchObject({ applied: 2, failed: [], rolledBack: [], checksumMismatch: [] });
  });

  it("fails a target that has no _prisma_migrations table: its schema changes are untracked", async () => {
    const dir = migrationsDir({ "20260101000000_init": INIT });
    const targetUrl = await createDatabase("checks_untracked");
    const r = byId(await runChecks({ targetUrl, appDbUrl, appMigrationsDir: dir }), "drift:target-disk");
    expect(r.status).toBe("fail");
    expect(r.summary).toMatch(/no _prisma_migrations table/);
    expect(r.details).toMatchObject({ targetTracksMigrations: false, onDiskNotApplied: ["20260101000000_init"] });
  });

  it("reads _prisma_migrations from the schema named by the URL's ?schema=, as Prisma does", async () => {
    const dir = migrationsDir({ "20260101000000_init": INIT });
    const url = await createDatabase("checks_schema");
    await sql(url, `CREATE SCHEMA app; SET search_path TO app; ${PRISMA_MIGRATIONS}`);
    await sql(url, `INSERT INTO app."_prisma_migrations" (id, checksum, migration_name, finished_at) VALUES ('1', $1, '20260101000000_init', now())`, [sha256(INIT)]);
    const targetUrl = `${url}?schema=app`;
    const r = byId(await runChecks({ targetUrl, appDbUrl, appMigrationsDir: dir }), "drift:target-disk");
    expect(r.status).toBe("pass");
    expect(r.details).toMatchObject({ targetTracksMigrations: true, applied: 1 });
  });

  it("against the newest backup's manifest, names migrations lost, added since, and changed", async () => {
    const targetUrl = await targetWithMigrations([
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260102000000_add_slug", checksum: sha256(ADD_SLUG) },
      { name: "20260110000000_add_views", checksum: sha256("views") },
      { name: "20260111000000_half_done", checksum: sha256("half"), finished: false },
    ]);
    const at = "2026-01-05T10:00:00.000Z";
    const manifest: MigrationRow[] = [
      { migration_name: "20260101000000_init", checksum: sha256(INIT), finished_at: at, rolled_back_at: null },
      { migration_name: "20260102000000_add_slug", checksum: sha256("old slug sql"), finished_at: at, rolled_back_at: null },
      { migration_name: "20260103000000_add_favorites", checksum: sha256(ADD_FAVORITES), finished_at: at, rolled_back_at: null },
    ];
    const r = byId(await runChecks({ targetUrl, appDbUrl, manifestMigrations: manifest }), "drift:target-backup");
    expect(r.status).toBe("fail");
    expect(r.details).toEqual({
      against: "backup",
      targetTracksMigrations: true,
      inBackup: 3,
      applied: 3,
      appliedSinceBackup: ["20260110000000_add_views"],
      missingFromTarget: ["20260103000000_add_favorites"],
      checksumMismatch: ["20260102000000_add_slug"],
      failedInTarget: ["20260111000000_half_done"],
      failedInBackup: [],
    });
    expect(r.summary).toContain("20260103000000_add_favorites");
  });

  it("passes against a manifest with the same migrations, and warns when the backup records none", async () => {
    const targetUrl = await targetWithMigrations([
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260102000000_add_slug", checksum: sha256(ADD_SLUG) },
    ]);
    const rows = await sql<MigrationRow>(targetUrl, `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`);
    const same = byId(await runChecks({ targetUrl, appDbUrl, manifestMigrations: rows }), "drift:target-backup");
    expect(same.status).toBe("pass");

    const none = byId(await runChecks({ targetUrl, appDbUrl, manifestMigrations: null }), "drift:target-backup");
    expect(none.status).toBe("warn");
    expect(none.details).toMatchObject({ inBackup: 0, appliedSinceBackup: ["20260101000000_init", "20260102000000_add_slug"] });
  });

  it("checks Vaultline's own database: current passes, unmigrated fails naming the missing migration", async () => {
    const targetUrl = await createDatabase("checks_t");
    const ok = byId(await runChecks({ targetUrl, appDbUrl }), "drift:vaultline");
    expect(ok.status).toBe("pass");

    const empty = await createDatabase("checks_empty_app");
    const bad = byId(await runChecks({ targetUrl, appDbUrl: empty }), "drift:vaultline");
    expect(bad.status).toBe("fail");
    const own = readMigrations().map((m) => m.name);
    expect(own.length).toBeGreaterThan(0);
    expect(bad.details).toMatchObject({ missing: own });
    expect(bad.summary).toContain(own[0]);
  });

  it("reports an unreachable target as an error result instead of throwing", async () => {
    const u = new URL(appDbUrl);
    u.pathname = "/no_such_database_here";
    const dir = migrationsDir({ "20260101000000_init": INIT });
    const run = await runChecks({ targetUrl: u.toString(), appDbUrl, appMigrationsDir: dir, manifestMigrations: [] });
    for (const id of ["drift:target-disk", "drift:target-backup"]) {
      const r = byId(run, id);
      expect(r.status).toBe("error");
      expect(r.details).toMatchObject({ error: expect.stringContaining("no_such_database_here") });
    }
    expect(byId(run, "drift:vaultline").status).toBe("pass");
    expect(run.status).toBe("error");
  });
});

const rule = (r: Partial<IntegrityRule> & Pick<IntegrityRule, "name" | "sql">): IntegrityRule => ({
  severity: "fail",
  timeoutMs: 10_000,
  maxRows: 1_000,
  ...r,
});

const SLUGS = "SELECT id, slug FROM ads WHERE slug IS NULL OR slug = '' ORDER BY id";

describe("integrity rules", () => {
  let dirty: string;
  let clean: string;
  const ADS = "CREATE TABLE ads (id serial PRIMARY KEY, title text NOT NULL, slug text, created_at timestamptz NOT NULL DEFAULT '2026-01-02T03:04:05Z')";

  beforeAll(async () => {
    dirty = await createDatabase("checks_dirty");
    clean = await createDatabase("checks_clean");
    for (const url of [dirty, clean]) await sql(url, ADS);
    await sql(dirty, `INSERT INTO ads (title, slug) VALUES ('Bike', 'bike-1'), ('Sofa', NULL), ('Lamp', ''), ('Desk', 'desk-4')`);
    await sql(clean, `INSERT INTO ads (title, slug) VALUES ('Bike', 'bike-1'), ('Desk', 'desk-2')`);
  });

  const adsSnapshot = (url: string) => sql(url, "SELECT id, title, slug FROM ads ORDER BY id");

  it("fails on seeded NULL and empty slugs with the count and the offending rows, and passes on clean data", async () => {
    const rules = [rule({ name: "ads-without-slug", description: "every ad needs a slug for /ad/<slug>", sql: SLUGS })];
    const [bad] = await runIntegrityRules(dirty, rules);
    expect(bad).toMatchObject({ id: "integrity:ads-without-slug", kind: "integrity", status: "fail" });
    expect(bad.details).toMatchObject({ count: 2, capped: false, columns: ["id", "slug"], sample: [{ id: 2, slug: null }, { id: 3, slug: "" }] });
    expect(bad.summary).toBe("2 rows violate ads-without-slug: every ad needs a slug for /ad/<slug>");

    const [good] = await runIntegrityRules(clean, rules);
    expect(good.status).toBe("pass");
    expect(good.details).toMatchObject({ count: 0, sample: [] });
  });

  it("reads a single zero count as a pass and a non-zero count as the number of offending rows; severity warn warns", async () => {
    const count = "SELECT count(*) AS broken FROM ads WHERE slug IS NULL OR slug = ''";
    const [bad, warned] = await runIntegrityRules(dirty, [
      rule({ name: "slug-count", sql: count }),
      rule({ name: "slug-count-warn", sql: `${count};`, severity: "warn" }),
    ]);
    expect(bad.status).toBe("fail");
    expect(bad.details).toMatchObject({ count: 2, sample: [] });
    expect(warned.status).toBe("warn");

    const [good] = await runIntegrityRules(clean, [rule({ name: "slug-count", sql: count })]);
    expect(good.status).toBe("pass");
    expect(good.details.count).toBe(0);
  });

  it("does not read a single id column as a count", async () => {
    const [r] = await runIntegrityRules(dirty, [rule({ name: "first-null", sql: "SELECT id FROM ads WHERE slug IS NULL" })]);
    expect(r.status).toBe("fail");
    expect(r.details).toMatchObject({ count: 1, sample: [{ id: 2 }] });
  });

  it("runs rules read-only: writes of every form fail with an error and the data is unchanged", async () => {
    const before = await adsSnapshot(dirty);
    const results = await runIntegrityRules(dirty, [
      rule({ name: "delete", sql: "DELETE FROM ads RETURNING id" }),
      rule({ name: "update", sql: "UPDATE ads SET slug = 'fixed' WHERE slug IS NULL RETURNING id" }),
      rule({ name: "plain-update", sql: "UPDATE ads SET slug = 'fixed'" }),
      rule({ name: "sequence", sql: "SELECT nextval('ads_id_seq')" }),
      rule({ name: "second-statement", sql: "SELECT 1 WHERE false; DELETE FROM ads" }),
      rule({ name: "escape-transaction", sql: "SELECT 1 WHERE false; COMMIT; DELETE FROM ads" }),
      rule({ name: "flip-read-only", sql: "SELECT set_config('transaction_read_only', 'off', true) WHERE false IS NOT NULL" }),
      rule({ name: "still-works", sql: SLUGS }),
    ]);
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    for (const name of ["delete", "update", "plain-update", "sequence"]) {
      expect(by[name].status, name).toBe("error");
      expect(by[name].details.error, name).toMatch(/read-only/);
      expect(by[name].summary, name).toMatch(new RegExp(`^${name} could not run: it tried to write`));
    }
    for (const name of ["second-statement", "escape-transaction"]) {
      expect(by[name].status, name).toBe("error");
      expect(by[name].details.error, name).toMatch(/^a rule must be a single SQL statement/);
    }
    expect(by["flip-read-only"].status).toBe("error");
    expect(by["flip-read-only"].details.error).toMatch(/read-write mode must be set before any query/);
    expect(by["still-works"].status).toBe("fail");
    expect(await adsSnapshot(dirty)).toEqual(before);
    expect(before).toHaveLength(4);
  });

  it("stops a slow rule at its timeout with an error, and the next rule still runs", async () => {
    const started = Date.now();
    const [slow, next] = await runIntegrityRules(dirty, [
      rule({ name: "slow", sql: "SELECT pg_sleep(5)", timeoutMs: 1_000 }),
      rule({ name: "next", sql: SLUGS }),
    ]);
    expect(slow.status).toBe("error");
    expect(slow.details.error).toMatch(/timed out after 1s/);
    expect(slow.durationMs).toBeLessThan(4_000);
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(next.status).toBe("fail");
  });

  it("reports bad SQL and a missing table as errors without stopping the other rules", async () => {
    const results = await runIntegrityRules(dirty, [
      rule({ name: "no-table", sql: "SELECT id FROM ads_archive WHERE slug IS NULL" }),
      rule({ name: "typo", sql: "SELEC id FROM ads" }),
      rule({ name: "fine", sql: SLUGS }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["error", "error", "fail"]);
    expect(results[0].details.error).toContain('relation "ads_archive" does not exist');
    expect(results[1].details.error).toMatch(/syntax error/);
  });

  it("caps the rows it reads at maxRows and keeps only the first ten as a sample", async () => {
    const [r] = await runIntegrityRules(dirty, [
      rule({ name: "many", sql: "SELECT g AS n, now() AS at FROM generate_series(1, 50) g", maxRows: 20 }),
    ]);
    expect(r.status).toBe("fail");
    expect(r.details).toMatchObject({ count: 20, capped: true });
    expect(r.details.sample).toHaveLength(10);
    expect(r.details.sample?.[0]).toMatchObject({ n: 1, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(r.summary).toMatch(/^More than 20 rows violate many/);
  });

  it("reports every rule as an error when the database is unreachable", async () => {
    const u = new URL(dirty);
    u.pathname = "/missing_db";
    const results = await runIntegrityRules(u.toString(), [rule({ name: "a", sql: SLUGS }), rule({ name: "b", sql: SLUGS })]);
    expect(results.map((r) => r.status)).toEqual(["error", "error"]);
  });
});

describe("file sync", () => {
  let url: string;
  let uploads: string;

  beforeAll(async () => {
    url = await createDatabase("checks_files");
    await sql(url, "CREATE TABLE ad_images (id serial PRIMARY KEY, file_path text)");
    await sql(url, "CREATE TABLE galleries (id serial PRIMARY KEY, images text[])");
    await sql(
      url,
      `INSERT INTO ad_images (file_path) VALUES
        ('/uploads/ads/ad-1.webp'), ('/uploads/ads/2026/ad-2.webp'), ('/uploads/ads/ad-1.webp'),
        ('/uploads/ads/ad-1759979208010-abc.webp'), (NULL), (''),
        ('https://cdn.example.com/ad-9.webp'), ('/uploads/ads/../../../etc/passwd')`,
    );
    await sql(url, `INSERT INTO galleries (images) VALUES (ARRAY['ad-1.webp', '2026/ad-2.webp']), (ARRAY['gone.webp'])`);
    uploads = mkdtempSync(path.join(tmp, "uploads-"));
    mkdirSync(path.join(uploads, "2026"));
    for (const f of ["ad-1.webp", "2026/ad-2.webp", "stray.webp", ".gitkeep"]) writeFileSync(path.join(uploads, f), "x");
  });

  const entry = (e: Partial<FileSyncEntry>): FileSyncEntry => ({
    name: "ad-images",
    table: "ad_images",
    column: "file_path",
    dir: uploads,
    prefix: "/uploads/ads/",
    timeoutMs: 10_000,
    ...e,
  });

  it("finds rows whose file is missing and files no row references", async () => {
    const [r] = await runFileSync(url, [entry({})]);
    expect(r).toMatchObject({ id: "files:ad-images", kind: "files", status: "fail" });
    expect(r.details).toMatchObject({
      referenced: 4,
      filesOnDisk: 4,
      skipped: 1,
      missingCount: 2,
      orphanCount: 1,
      missing: ["/uploads/ads/../../../etc/passwd", "/uploads/ads/ad-1759979208010-abc.webp"],
      orphans: ["stray.webp"],
    });
    expect(r.summary).toBe(
      `2 files referenced by ad_images.file_path missing from ${uploads}; 1 file in ${uploads} not referenced by ad_images.file_path.`,
    );
  });

  it("reads array columns element by element", async () => {
    const [r] = await runFileSync(url, [entry({ name: "galleries", table: "public.galleries", column: "images", prefix: undefined })]);
    expect(r.status).toBe("fail");
    expect(r.details).toMatchObject({ missing: ["gone.webp"], orphans: ["stray.webp"], referenced: 3 });
  });

  it("warns when files are only orphaned, and passes when disk and rows agree", async () => {
    const dir = mkdtempSync(path.join(tmp, "uploads-ok-"));
    mkdirSync(path.join(dir, "2026"));
    for (const f of ["ad-1.webp", "2026/ad-2.webp", "extra.webp"]) writeFileSync(path.join(dir, f), "x");
    const table = await createDatabase("checks_files_ok");
    await sql(table, "CREATE TABLE ad_images (file_path text)");
    await sql(table, "INSERT INTO ad_images VALUES ('/uploads/ads/ad-1.webp'), ('/uploads/ads/2026/ad-2.webp')");

    const [orphaned] = await runFileSync(table, [entry({ dir })]);
    expect(orphaned.status).toBe("warn");
    expect(orphaned.details).toMatchObject({ missingCount: 0, orphans: ["extra.webp"] });

    unlinkSync(path.join(dir, "extra.webp"));
    const [ok] = await runFileSync(table, [entry({ dir })]);
    expect(ok.status).toBe("pass");
    expect(ok.summary).toBe(`Every file referenced by ad_images.file_path (2) exists in ${dir}, and every file there is referenced.`);
  });

  it("reports a missing table, a missing column and a missing directory as errors", async () => {
    const results = await runFileSync(url, [
      entry({ name: "no-table", table: "ad_photos" }),
      entry({ name: "no-column", column: "path" }),
      entry({ name: "no-dir", dir: path.join(tmp, "nowhere") }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["error", "error", "error"]);
    expect(results[0].details.error).toContain('relation "ad_photos" does not exist');
    expect(results[1].details.error).toContain('column "path" does not exist');
    expect(results[2].details.error).toContain("does not exist");
  });

  it("refuses table and column names that are not plain identifiers", () => {
    const bad = JSON.stringify({
      fileSync: [{ name: "x", table: "ad_images; DROP TABLE ads", column: "file_path\" --", dir: "." }],
    });
    let err: unknown;
    try {
      parseChecksFile(bad, "/etc/vaultline/checks.json");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChecksFileError);
    const msg = (err as Error).message;
    expect(msg).toContain("/etc/vaultline/checks.json");
    expect(msg).toMatch(/fileSync\[0\]\.table: a table name like/);
    expect(msg).toMatch(/fileSync\[0\]\.column: a column name like/);
  });
});

describe("checks file", () => {
  const YAML_TEXT = `# integrity rules for the classifieds app
defaults:
  timeoutMs: 5000
integrity:
  - name: ads-without-slug
    description: Ads must have a slug
    sql: SELECT id FROM ads WHERE slug IS NULL OR slug = ''
    severity: fail
  - name: slow-one
    sql: SELECT pg_sleep(5)
    severity: warn
    timeoutMs: 1000
fileSync:
  - name: ad-images
    table: ad_images
    column: file_path
    dir: uploads/ads
    prefix: /uploads/ads/
`;
  const JSON_TEXT = JSON.stringify({
    defaults: { timeoutMs: 5000 },
    integrity: [
      { name: "ads-without-slug", description: "Ads must have a slug", sql: "SELECT id FROM ads WHERE slug IS NULL OR slug = ''", severity: "fail" },
      { name: "slow-one", sql: "SELECT pg_sleep(5)", severity: "warn", timeoutMs: 1000 },
    ],
    fileSync: [{ name: "ad-images", table: "ad_images", column: "file_path", dir: "uploads/ads", prefix: "/uploads/ads/" }],
  });

  function write(name: string, text: string): string {
    const dir = mkdtempSync(path.join(tmp, "conf-"));
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it("loads YAML and JSON to the same rules, with defaults filled in and dir resolved beside the file", async () => {
    const yamlFile = write("checks.yaml", YAML_TEXT);
    const jsonFile = write("checks.json", JSON_TEXT);
    const fromYaml = await loadChecksFile(yamlFile);
    const fromJson = await loadChecksFile(jsonFile);

    expect(fromYaml.integrity).toEqual([
      { name: "ads-without-slug", description: "Ads must have a slug", sql: "SELECT id FROM ads WHERE slug IS NULL OR slug = ''", severity: "fail", timeoutMs: 5000, maxRows: 1000 },
      { name: "slow-one", sql: "SELECT pg_sleep(5)", severity: "warn", timeoutMs: 1000, maxRows: 1000 },
    ]);
    expect(fromYaml.fileSync).toEqual([
      { name: "ad-images", table: "ad_images", column: "file_path", dir: path.join(path.dirname(yamlFile), "uploads/ads"), prefix: "/uploads/ads/", timeoutMs: 5000 },
    ]);
    expect(fromJson.integrity).toEqual(fromYaml.integrity);
    expect(fromJson.fileSync[0].dir).toBe(path.join(path.dirname(jsonFile), "uploads/ads"));
  });

  it("accepts a file that is only a list of rules, with the default severity and 10s timeout", async () => {
    const file = write("rules.yml", "- name: ads-without-slug\n  sql: SELECT 1 WHERE false\n");
    expect(await loadChecksFile(file)).toEqual({
      integrity: [{ name: "ads-without-slug", sql: "SELECT 1 WHERE false", severity: "fail", timeoutMs: 10_000, maxRows: 1_000 }],
      fileSync: [],
    });
  });

  async function loadError(name: string, text: string | null): Promise<{ file: string; message: string }> {
    const file = text === null ? path.join(tmp, "absent", name) : write(name, text);
    try {
      await loadChecksFile(file);
    } catch (e) {
      expect(e).toBeInstanceOf(ChecksFileError);
      return { file, message: (e as Error).message };
    }
    throw new Error(`${name} loaded`);
  }

  it("explains a malformed file naming the file and the bad field", async () => {
    const json = await loadError("checks.json", '{"integrity": [{"name": "a", "sql": "SELECT 1",}]}');
    expect(json.message).toContain(json.file);
    expect(json.message).toMatch(/not valid JSON at line 1, column \d+/);

    const yaml = await loadError("checks.yaml", "integrity:\n  - name: a\n    sql: [unclosed\n");
    expect(yaml.message).toContain(yaml.file);
    expect(yaml.message).toMatch(/not valid YAML/);

    const field = await loadError(
      "checks.yaml",
      "integrity:\n  - name: ok\n    sql: SELECT 1\n  - name: bad\n    sql: SELECT 2\n    severity: critical\n",
    );
    expect(field.message).toContain(field.file);
    expect(field.message).toMatch(/integrity\[1\]\.severity: .*"fail"\|"warn"/);

    const list = await loadError("rules.json", JSON.stringify([{ name: "a", sql: "" }]));
    expect(list.message).toMatch(/\[0\]\.sql: must not be empty/);

    const typo = await loadError("checks.yaml", "rules:\n  - name: a\n    sql: SELECT 1\n");
    expect(typo.message).toMatch(/Unrecognized key: "rules"/);

    const dup = await loadError("checks.json", JSON.stringify({ integrity: [{ name: "a", sql: "SELECT 1" }, { name: "a", sql: "SELECT 2" }] }));
    expect(dup.message).toMatch(/integrity\[1\]\.name: duplicate name "a"/);

    expect((await loadError("checks.toml", "x = 1")).message).toMatch(/name it \.json, \.yaml or \.yml/);
    expect((await loadError("checks.yaml", null)).message).toMatch(/file not found/);
  });
});

describe("runChecks", () => {
  it("runs drift, integrity and file sync together and reports the worst status", async () => {
    const dir = migrationsDir({ "20260101000000_init": INIT, "20260102000000_add_slug": ADD_SLUG });
    const targetUrl = await targetWithMigrations([
      { name: "20260101000000_init", checksum: sha256(INIT) },
      { name: "20260102000000_add_slug", checksum: sha256(ADD_SLUG) },
    ]);
    await sql(targetUrl, "CREATE TABLE ads (id serial PRIMARY KEY, slug text); CREATE TABLE ad_images (file_path text)");
    await sql(targetUrl, "INSERT INTO ads (slug) VALUES ('a-1'), (NULL); INSERT INTO ad_images VALUES ('/uploads/ads/ad-1.webp'), ('/uploads/ads/ad-2.webp')");
    const conf = mkdtempSync(path.join(tmp, "run-"));
    mkdirSync(path.join(conf, "uploads"));
    writeFileSync(path.join(conf, "uploads", "ad-1.webp"), "x");
    const checksFile = path.join(conf, "checks.yaml");
    writeFileSync(
      checksFile,
      [
        "integrity:",
        "  - name: ads-without-slug",
        "    sql: SELECT id FROM ads WHERE slug IS NULL OR slug = ''",
        "  - name: slug-count-ok",
        "    sql: SELECT count(*) FROM ads WHERE slug = 'never'",
        "fileSync:",
        "  - name: ad-images",
        "    table: ad_images",
        "    column: file_path",
        "    dir: uploads",
        "    prefix: /uploads/ads/",
        "",
      ].join("\n"),
    );
    const manifestMigrations = await sql<MigrationRow>(
      targetUrl,
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`,
    );

    const run = await runChecks({ targetUrl, appDbUrl, checksFile, appMigrationsDir: dir, manifestMigrations });

    expect(() => checkRunSchema.parse(run)).not.toThrow();
    expect(run.results.map((r) => [r.id, r.kind, r.status])).toEqual([
      ["drift:target-disk", "drift", "pass"],
      ["drift:target-backup", "drift", "pass"],
      ["drift:vaultline", "drift", "pass"],
      ["integrity:ads-without-slug", "integrity", "fail"],
      ["integrity:slug-count-ok", "integrity", "pass"],
      ["files:ad-images", "files", "fail"],
    ]);
    expect(run.status).toBe("fail");
    expect(byId(run, "files:ad-images").details).toMatchObject({ missing: ["/uploads/ads/ad-2.webp"] });
    expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    for (const r of run.results) expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("turns an unusable checks file into one error result and still runs the drift checks", async () => {
    const targetUrl = await targetWithMigrations([]);
    const checksFile = path.join(mkdtempSync(path.join(tmp, "bad-")), "checks.json");
    writeFileSync(checksFile, JSON.stringify({ integrity: [{ name: "x", sql: "SELECT 1", severity: "loud" }] }));

    const run = await runChecks({ targetUrl, appDbUrl, checksFile });
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ["drift:vaultline", "pass"],
      ["integrity:checks-file", "error"],
    ]);
    expect(run.status).toBe("error");
    const bad = byId(run, "integrity:checks-file");
    expect(bad.summary).toContain(checksFile);
    expect(bad.summary).toMatch(/integrity\[0\]\.severity/);
    expect(bad.details).toEqual({ file: checksFile, error: expect.stringMatching(/^integrity\[0\]\.severity: /) });
  });

  it("passes with nothing wrong and nothing configured beyond Vaultline's own schema", async () => {
    const run = await runChecks({ targetUrl: await createDatabase("checks_min"), appDbUrl });
    expect(run.status).toBe("pass");
    expect(run.results.map((r) => r.id)).toEqual(["drift:vaultline"]);
  });
});
