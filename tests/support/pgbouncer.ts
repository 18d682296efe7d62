// PgBouncer in transaction mode in front of a test server, as a platform's "pooled" URL
// (decision 148). Debian's package puts it in /usr/sbin, which CI's PATH lacks; it refuses
// to run as root, so it runs as postgres (uid/gid set by Node, as the standby helper does).
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../lib/embedded-postgres";
import { asPostgres } from "./standby";

export const pgbouncerBinary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"].find((p) => existsSync(p));
export const canRunPgbouncer = process.getuid?.() === 0 && pgbouncerBinary !== undefined;

export interface Pooler {
  /** `serverUrl` with its host and port replaced by the pooler's. */
  pooled(serverUrl: string): string;
  stop(): Promise<void>;
}

async function listening(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port}`);
}

/** Starts PgBouncer (pool_mode = transaction) for every database on the server at `serverUrl`. */
export async function startPgbouncer(serverUrl: string): Promise<Pooler> {
  if (!pgbouncerBinary) throw new Error("pgbouncer is not installed");
  const server = new URL(serverUrl);
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-pgbouncer-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = decodeURIComponent(server.username);
  // Clients are trusted; the pooler logs in to the server with the password (SCRAM) from its auth file.
  writeFileSync(path.join(dir, "users.txt"), `"${user}" "${decodeURIComponent(server.password)}"\n`);
  writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${server.hostname} port=${server.port}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${path.join(dir, "users.txt")}`,
      "pool_mode = transaction",
      "max_client_conn = 200",
      "default_pool_size = 20",
      `logfile = ${path.join(dir, "pgbouncer.log")}`,
      "",
    ].join("\n"),
  );
  // Its log goes in the same directory, so the directory is postgres's.
  const { uid, gid } = asPostgres();
  for (const f of ["", "users.txt", "pgbouncer.ini"]) chownSync(path.join(dir, f), uid, gid);
  const child: ChildProcess = spawn(pgbouncerBinary, [path.join(dir, "pgbouncer.ini")], { uid, gid, stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await listening(port, Date.now() + 10_000);
  } catch (e) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    pooled(url: string) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async stop() {
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
