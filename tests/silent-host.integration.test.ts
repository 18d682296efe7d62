// Decision 190: a failover URL whose first host does not answer at all — a primary gone with
// its machine, its address black-holed, so a connection waits for its connect_timeout. Each of
// a job's sessions chose its host afresh (decision 183), so a backup paid that timeout once per
// session and pg_dump once more. Now a job chooses once and gives every session and tool that
// host. Here the first host is a socket that takes connections and never answers (counted,
// with the application each one names), the second the real server; the database is an
// application's (owner role, extensions, two schemas, partitions, a view, a large object).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { manifestOf } from "./support/manifests";
import { buildAppDatabase, LATER_MIGRATION_SQL, asAppRole } from "./support/app-fixture";
import { runBackup } from "../lib/backup/run-backup";
import { runRestore, startRestore } from "../lib/backup/restore";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { testTargetConnection } from "../lib/backup/target-test";
import { runChecksNow } from "../lib/deploy/checks-store";
import { startupApplication } from "./support/counting-proxy";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

/** A host that accepts connections and never says a word; what each startup packet named. */
async function silentHost() {
  const applications: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    // sslmode=disable: the first packet is the startup message.
    s.once("data", (b: Buffer) => applications.push(startupApplication(b)?.application ?? "(partial)"));
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return {
    port: (server.address() as net.AddressInfo).port,
    applications,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

describe("a failover URL whose first host never answers", () => {
  let env: TestEnv;
  let silent: Awaited<ReturnType<typeof silentHost>>;
  let url: string;

  beforeAll(async () => {
    silent = await silentHost();
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    await buildAppDatabase((u, text) => sql(u, text), adminUrl(), env.targetUrl);
    const u = new URL(env.targetUrl);
    // connect_timeout=2: what each attempt on the silent host costs.
    url = `postgresql://${u.username}:${u.password}@127.0.0.1:${silent.port},${u.hostname}:${u.port}${u.pathname}?sslmode=disable&connect_timeout=2`;
    env.ctx = { ...env.ctx, targetUrl: url };
  });
  afterAll(async () => {
    const names = swapNames(databaseOf(env.targetUrl), "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
    await silent.close();
  });

  let backupId: string;
  let original: Record<string, string>;

  it("a backup asks the silent host once, not once per session, and pg_dump never", async () => {
    original = await catalogFingerprint(sql, env.targetUrl);
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const t0 = Date.now();
    const r = await runBackup(env.ctx, job.id);
    const seconds = (Date.now() - t0) / 1000;
    expect(r.failureReason).toBeUndefined();
    expect(r.status).toBe("SUCCEEDED");
    backupId = job.id;
    // One choice for the job (one connect_timeout of 2 s); pg_dump (vaultline-backup) is given the
    // host. Each session choosing afresh, the silent host was asked 8 times (the pooler probe,
    // inspection, checksums, lock watch, pg_dump), 12.7 s in all.
    expect(silent.applications).toHaveLength(1);
    expect(silent.applications).not.toContain("vaultline-backup");
    expect(seconds).toBeLessThan(15);
    // The manifest names the URL's hosts as written, and the one it was dumped from.
    const { m: manifest } = await manifestOf(env, job.id);
    expect(manifest.database.host).toBe(`127.0.0.1:${silent.port},${new URL(env.targetUrl).hostname}:${new URL(env.targetUrl).port}`);
    expect(manifest.database.dumpedFrom).toBe(`${new URL(env.targetUrl).hostname}:${new URL(env.targetUrl).port}`);
  }, 120_000);

  it("the target test asks it once and says which host answered", async () => {
    silent.applications.length = 0;
    const t0 = Date.now();
    const r = await testTargetConnection(url);
    // Each session choosing afresh: 4 times, 8.3 s.
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.reasons[0]!.message).toMatch(/, host 2 of 2/);
    expect(r.canBackup).toBe(true);
    expect(silent.applications).toHaveLength(1);
  }, 60_000);

  // Each choosing afresh: the preview 5 times (10.6 s), the drill 9 times (19.3 s).
  it("a restore's preview and a drill on the target's server each ask it once", async () => {
    silent.applications.length = 0;
    const t0 = Date.now();
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.manifest?.id).toBe(backupId);
    expect(silent.applications).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(15_000);
    silent.applications.length = 0;
    const drill = await runDrill(env.ctx, backupId);
    expect(drill.reason).toBeUndefined();
    // Drills are off in this catalogue's settings, so the backup holds no checksums: row counts.
    expect(drill).toMatchObject({ ok: true, compared: "row-counts" });
    expect(drill.tables.map((t) => t.table)).toContain("public.orders_2026");
    expect(silent.applications).toHaveLength(1);
  }, 120_000);

  it("checks run outside a job (Run checks now, the gate's) ask it once, not once per rule", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vaultline-silent-checks-"));
    try {
      await mkdir(path.join(dir, "uploads"));
      const checksFile = path.join(dir, "checks.yaml");
      await writeFile(
        checksFile,
        [
          "integrity:",
          "  - name: orders-without-customer",
          "    sql: SELECT o.id FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL",
          "  - name: negative-invoices",
          "    sql: SELECT id FROM billing.invoices WHERE total_cents < 0",
          "  - name: customers-without-email",
          "    sql: SELECT id FROM customers WHERE email = ''",
          "fileSync:",
          "  - name: customer-avatars",
          "    table: customers",
          "    column: name",
          "    dir: uploads",
          "    prefix: /never/",
          "",
        ].join("\n"),
      );
      silent.applications.length = 0;
      const t0 = Date.now();
      const run = await runChecksNow({ ...env.ctx, checksFile });
      const ran = run.results.filter((r) => ["orders-without-customer", "negative-invoices", "customers-without-email", "customer-avatars"].some((n) => r.id.includes(n)));
      expect(ran.map((r) => [r.id, r.status, r.summary])).toHaveLength(4);
      expect(ran.every((r) => r.status !== "error"), JSON.stringify(ran)).toBe(true);
      expect(silent.applications).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("with no host answering, a backup says what each host said, not what a maintenance database said", async () => {
    // The silent host, then a port nothing listens on.
    const closed = await new Promise<number>((res) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => res(port));
      });
    });
    const u = new URL(env.targetUrl);
    const none = `postgresql://${u.username}:${u.password}@127.0.0.1:${silent.port},127.0.0.1:${closed}${u.pathname}?sslmode=disable&connect_timeout=2`;
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const r = await runBackup({ ...env.ctx, targetUrl: none }, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(new RegExp(`no host of the URL is reachable \\(target_session_attrs=any\\): 127\\.0\\.0\\.1:${silent.port}: .*; 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
    expect(r.failureReason).not.toMatch(/maintenance/);
    expect(r.failureReason).not.toContain(u.password);
  }, 60_000);

  it("a swap restore after a later migration asks it once for itself and once for its safety backup, and is exact", async () => {
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    silent.applications.length = 0;
    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    const t0 = Date.now();
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    expect(Date.now() - t0).toBeLessThan(40_000);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(original);
    // The restore's own choice and its safety backup's: pg_restore's two jobs, the copy's
    // sessions and the samplers are given the host. Each choosing afresh: 36 times, 65 s.
    expect(silent.applications).toHaveLength(2);
  }, 180_000);
});
