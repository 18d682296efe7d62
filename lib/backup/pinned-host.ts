// One server per job for a failover URL (decision 190): the host a job's first session goes
// to, chosen once as libpq would, is the one every later session and tool of that job is
// given, so that a host that does not answer costs the job its connection timeout once, not
// once per session, and pg_dump or pg_restore never pick another server than the job's own.
import type pg from "pg";
import { hasSeveralHosts, sessionHost, urlHosts, withOneHost } from "../pg-hosts";
import { connectSession } from "./pg-client";
import { maintenanceClient } from "./swap";

/**
 * `url` naming only the host a session on it goes to now (`chooseHost`'s rule, by
 * `target_session_attrs`), on the target's database — or, `orMaintenance`, on a maintenance
 * database when that fails (a restore that creates the target's database). `url` itself when
 * it names one host. Throws the target's session's error (what each host said when none
 * answers), not the maintenance database's.
 */
export async function pinnedTarget(url: string, opts: { orMaintenance?: boolean } = {}): Promise<string> {
  if (!hasSeveralHosts(url)) return url;
  let c: pg.Client;
  try {
    c = await connectSession(url);
  } catch (e) {
    if (!opts.orMaintenance) throw e;
    c = await maintenanceClient(url).catch(() => Promise.reject(e));
  }
  try {
    return pinnedTo(url, c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** `url` naming only the host `session` (opened through it) went to; `url` itself for one host. */
export function pinnedTo(url: string, session: { host: string; port: number }): string {
  if (!hasSeveralHosts(url)) return url;
  const at = sessionHost(url, { host: session.host, port: session.port });
  // A session on none of the URL's hosts cannot occur (each is opened on one of them).
  return at ? withOneHost(url, urlHosts(url)[at.at - 1]!) : url;
}
