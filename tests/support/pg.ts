// PostgreSQL for every test runner: an embedded server in a temp dir (Vitest's global
// setup, the fault suite, the bench), or a server already running, named by an admin URL
// (each Vitest file, through vitest-env.ts). Each caller makes its own databases on it.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { freePort, startEmbeddedPostgres } from "../../lib/embedded-postgres";
import { migrate } from "../../lib/migrate";
import { sql } from "./sql";

export { sql };

/** The same database's URL, connecting as another role. */
export function urlAs(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

export interface PgServer {
  /** URL of the maintenance database (CREATE/DROP DATABASE run here). */
  adminUrl: string;
  urlFor(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Creates a database with every Vaultline migration applied. */
  createMigratedDatabase(prefix?: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}


/**
 * Databases on the server at `adminUrl`. `stop()` drops the databases made through this
 * object (only where `dropCreated`: a shared server's other users may still need theirs).
 */
export function pgOn(adminUrl: string, opts: { dropCreated?: boolean } = {}): PgServer {
  const urlFor = (database: string) => {
    const u = new URL(adminUrl);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const created: string[] = [];
  const createDatabase = async (prefix = "t") => {
    const name = `${prefix}_${randomBytes(6).toString("hex")}`;
    await sql(adminUrl, `CREATE DATABASE "${name}"`);
    if (opts.dropCreated) created.push(name);
    return urlFor(name);
  };
  const dropDatabase = async (url: string) => {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    await sql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
  return {
    adminUrl,
    urlFor,
    createDatabase,
    async createMigratedDatabase(prefix = "app") {
      const url = await createDatabase(prefix);
      await migrate(url);
      return url;
    },
    dropDatabase,
    async stop() {
      for (const n of created) await dropDatabase(urlFor(n)).catch(() => {});
    },
  };
}

/** Starts an embedded PostgreSQL 15 in a temp dir (or wraps `adminUrl` when given). */
export async function startPg(opts: { adminUrl?: string; label?: string; flags?: string[] } = {}): Promise<PgServer> {
  // On a server we did not start, remove what we created; ours goes with its dir.
  if (opts.adminUrl) return pgOn(opts.adminUrl, { dropCreated: true });
  const dir = mkdtempSync(path.join(tmpdir(), `vaultline-${opts.label ?? "standalone"}-pg-`));
  // initdb runs as the unprivileged postgres user when we are root.
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres({ dir: path.join(dir, "data"), port: await freePort(), password: "standalone-pg-password", persistent: false, flags: opts.flags });
  return {
    ...pgOn(server.url("postgres")),
    async stop() {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
