// A primary and a streaming standby of it, for backups taken from a read replica (decision
// 144). The primary is an embedded server (startPg); the standby is a pg_basebackup of it
// (postgresql-client's tool) started with the embedded package's own binaries as the
// `postgres` user — so only when the tests run as root, like the tablespace test. No
// runuser: it lives in /usr/sbin, which CI's PATH does not have; Node sets the uid itself.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../lib/embedded-postgres";
import { startPg, sql, type PgServer } from "./pg";

const run = promisify(execFile);

export const canRunStandby = process.getuid?.() === 0;

/** The server runs as the `postgres` user (embedded-postgres made it for initdb when root). */
export function asPostgres(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres user on this machine");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** The embedded package's pg_ctl (its binaries export their paths). */
async function embeddedPgCtl(): Promise<string> {
  const bins = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
  return bins.pg_ctl;
}

export interface PrimaryAndStandby {
  primary: PgServer;
  /** The standby's URL for a database (same role and password as the primary's). */
  standbyUrl(database: string): string;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** `standbySettings`: more `-c name=value` for the standby (a conflict test sets max_standby_streaming_delay). */
export async function startPrimaryAndStandby(opts: { standbySettings?: string[] } = {}): Promise<PrimaryAndStandby> {
  const primary = await startPg({ label: "primary" });
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-standby-"));
  chmodSync(dir, 0o755);
  const data = path.join(dir, "data");
  const port = await freePort();
  const pgCtl = await embeddedPgCtl();
  const u = new URL(primary.adminUrl);
  try {
    await run("pg_basebackup", ["-d", primary.adminUrl, "-D", data, "-R", "-X", "stream", "-c", "fast"], { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } });
    const owner = asPostgres();
    await run("chown", ["-R", `${owner.uid}:${owner.gid}`, dir]);
    chmodSync(data, 0o700);
    await run(pgCtl, ["-D", data, "-l", path.join(dir, "log"), "-w", "start", "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c hot_standby=on -c max_connections=200${(opts.standbySettings ?? []).map((s) => ` -c ${s}`).join("")}`], asPostgres());
  } catch (e) {
    const log = await readFile(path.join(dir, "log"), "utf8").catch(() => "");
    await primary.stop();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the standby did not start: ${(e as Error).message}\n${log}`);
  }
  const standbyUrl = (database: string) => {
    const s = new URL(primary.adminUrl);
    s.port = String(port);
    s.pathname = `/${database}`;
    return s.toString();
  };
  return {
    primary,
    standbyUrl,
    async caughtUp() {
      const [{ lsn }] = await sql<{ lsn: string }>(primary.adminUrl, "SELECT pg_current_wal_lsn()::text AS lsn");
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
        const [{ ok }] = await sql<{ ok: boolean }>(standbyUrl("postgres"), "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [lsn]);
        if (ok) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the standby did not catch up within 30 s");
    },
    async stop() {
      await run(pgCtl, ["-D", data, "-m", "immediate", "stop"], asPostgres()).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      await primary.stop();
    },
  };
}
