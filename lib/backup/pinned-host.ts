// One server per job for a failover URL (decision 190): the host a job's first session goes
// to, chosen once as libpq would, is the one every later session and tool of that job is
// given, so that a host that does not answer costs the job its connection timeout once, not
// once per session, and pg_dump or pg_restore never pick another server than the job's own.
import { hasSeveralHosts, sessionHost, urlHosts, withOneHost } from "../pg-hosts";
import { serverClient } from "./swap";

/**
 * `url` naming only the host a session on it goes to now (`chooseHost`'s rule, by
 * `target_session_attrs`): on the target's database, or on a maintenance database when the
 * target's is not there (a restore that creates it). `url` itself when it names one host.
 * Throws as a session would: with what each host said when none answers.
 */
export async function pinnedTarget(url: string): Promise<string> {
  if (!hasSeveralHosts(url)) return url;
  const c = await serverClient(url);
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
