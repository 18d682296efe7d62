// Connection details for pg_dump/pg_restore. The password travels in PGPASSWORD, never
// on the command line (visible to every user via `ps`), and parameters only Prisma or
// node-pg understand (`schema`, `connection_limit`…) are dropped because libpq rejects them.
import { describeHosts, editDbUrl, hasSeveralHosts, readDbUrl } from "../pg-hosts";

/** URI query parameters libpq accepts (PostgreSQL 15 "Parameter Key Words"). */
const LIBPQ_PARAMS = new Set([
  "host",
  "hostaddr",
  "port",
  "dbname",
  "user",
  "passfile",
  "channel_binding",
  "connect_timeout",
  "client_encoding",
  "options",
  "application_name",
  "fallback_application_name",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
  "tcp_user_timeout",
  "replication",
  "gssencmode",
  "sslmode",
  "requiressl",
  "sslcompression",
  "sslcert",
  "sslkey",
  "sslpassword",
  "sslrootcert",
  "sslcrl",
  "sslcrldir",
  "sslsni",
  "requirepeer",
  "ssl_min_protocol_version",
  "ssl_max_protocol_version",
  "krbsrvname",
  "gsslib",
  "service",
  "target_session_attrs",
  "load_balance_hosts",
]);

export interface LibpqConnection {
  /** A `postgresql://` URI without the password, for `--dbname`. */
  dbname: string;
  /** Extra environment for the child process (PGPASSWORD when the URL has one). */
  env: Record<string, string>;
  /** The password, so callers can scrub it from any text they show; may be empty. */
  password: string;
}

export function libpqConnection(url: string): LibpqConnection {
  // The failover form (h1,h2) goes to libpq as written: it picks the host (decision 183).
  const password = decodeURIComponent(readDbUrl(url).password);
  const dbname = editDbUrl(url, (u) => {
    u.password = "";
    for (const key of [...u.searchParams.keys()]) {
      if (!LIBPQ_PARAMS.has(key)) u.searchParams.delete(key);
    }
  });
  const env: Record<string, string> = {};
  if (password) env.PGPASSWORD = password;
  return { dbname, env, password };
}

/** The database name in a connection URL, for manifests. */
export function databaseName(url: string): string {
  return decodeURIComponent(readDbUrl(url).pathname.replace(/^\//, "")) || "postgres";
}

/** host[:port] of a connection URL (each host of libpq's failover form), with no credentials, for manifests and messages. */
export function databaseHost(url: string): string {
  if (hasSeveralHosts(url)) return describeHosts(url);
  const u = new URL(url);
  // A socket directory written in the host part is percent-encoded there (socketHostInline).
  const host = decodeURIComponent(u.hostname);
  return u.port ? `${host}:${u.port}` : host || "localhost";
}
