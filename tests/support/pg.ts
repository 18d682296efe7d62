// PostgreSQL for standalone scripts (bench, fault runner): an embedded server in a temp
// dir, or the server named by an admin URL. tests/helpers/pg.ts needs Vitest's inject(),
// so these scripts use this instead.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { freePort, startEmbeddedPostgres } from "../../../lib/embedded-postgres";
import { migrate } from "../../../lib/migrate";

export interface PgServer {
  /** URL of the maintenance database (CREATE/DROP DATABASE run here). */
  adminUrl: string;
  urlFor(database: string): string;
  createDatabase(prefix?: string): Promise<string>;
  createMigratedDatabase(prefix?: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Starts an embedded PostgreSQL 15 (or wraps `adminUrl` when given). */
export async function startPg(opts: { adminUrl?: string; label?: string } = {}): Promise<PgServer> {
  let adminUrl: string;
  let stopServer: () => Promise<void> = async () => {};
  if (opts.adminUrl) {
    adminUrl = opts.adminUrl;
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), `vaultline-${opts.label ?? "standalone"}-pg-`));
    // initdb runs as the unprivileged postgres user when we are root.
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dir: path.join(dir, "data"), port: await freePort(), password: "standalone-pg-password", persistent: false });
    adminUrl = server.url("postgres");
    stopServer = async () => {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const urlFor = (database: string) => {
    const u = new URL(adminUrl);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const created: string[] = [];
  const createDatabase = async (prefix = "t") => {
    const name = `${prefix}_${randomBytes(6).toString("hex")}`;
    await sql(adminUrl, `CREATE DATABASE "${name}"`);
    created.push(name);
    return urlFor(name);
  };
  const dropDatabase = async (url: string) => {
    const name = new URL(url).pathname.slice(1);
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
      // On a server we did not start, remove what we created; ours goes with its dir.
      if (opts.adminUrl) for (const n of created) await dropDatabase(urlFor(n)).catch(() => {});
      await stopServer();
    },
  };
}
