// A URL that reaches PostgreSQL through a connection pooler in transaction or statement mode
// (PgBouncer's `pool_mode = transaction`, Supabase's port 6543, most platforms' "pooled" URL —
// often the very DATABASE_URL the application uses). Such a pooler lends a server session
// to a client for one transaction, then to the next client: session state set outside a
// transaction stays on the server session, for whoever gets it next (decision 148).
//
// pg_dump sets its session (DateStyle, extra_float_digits, row_security = off, timeouts)
// before its transaction; pg_restore and psql set theirs (search_path = '', the client
// encoding, check_function_bodies, session_replication_role) and then run many
// transactions. Through such a pooler a dump may be taken with another client's settings
// and a restore may run with another's or leave its own behind: measured with PgBouncer
// 1.18, a swap restore's loaders left `search_path = ''` on the pooled sessions and the
// copy's check, run next on them, read every definition schema-qualified and refused the copy.
import { newClient } from "./pg-client";

/**
 * True when two sessions open at once on `url` reach the same server process — impossible
 * directly or through a session-mode pooler, which gives each client its own. A pooler
 * lending its idle server session to the next client shows it within a few round trips.
 * The probe sets nothing on its sessions (through a pooler a SET would stay behind for other
 * clients), so a database's own `idle_session_timeout` may end one between two queries
 * (CI found it, at 100 ms under load): a probe that fails proves nothing and answers false —
 * the work that follows connects on its own terms and reports its own errors.
 */
export async function sharesServerSessions(url: string, rounds = 3): Promise<boolean> {
  const opts = { connectionTimeoutMillis: 10_000, application_name: "vaultline-pooler-probe" };
  const a = await newClient(url, opts);
  const b = await newClient(url, opts);
  const pid = async (c: typeof a) => (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  try {
    await a.connect();
    let first = await pid(a);
    await b.connect();
    for (let i = 0; i < rounds; i++) {
      if (first === (await pid(b))) return true;
      first = await pid(a);
    }
    return false;
  } catch {
    return false;
  } finally {
    await Promise.all([a.end().catch(() => undefined), b.end().catch(() => undefined)]);
  }
}

/** Why nothing is dumped or restored through this URL, or null. */
export function poolerProblem(shared: boolean, what: "backup" | "restore" | "drill" = "restore"): string | null {
  if (!shared) return null;
  const verb = what === "backup" ? "backed up" : what === "drill" ? "drilled" : "restored";
  return `The URL reaches PostgreSQL through a connection pooler in transaction mode (two sessions shared one server process): nothing is ${verb} through it, because pg_dump, pg_restore and psql keep settings on their session that such a pooler hands on to other clients. Use the database's direct URL, or the pooler's session mode (PgBouncer pool_mode = session; Supabase: the session pooler on port 5432)`;
}
