// A TCP proxy in front of a PostgreSQL server that records each session's startup packet:
// its application_name and when it came. For tests that count the sessions a job opens on
// the target (node-pg's and libpq's: pg_dump, pg_restore, psql), without server logs. A
// libpq SSLRequest is passed on and its answer read as the server gives it; the startup
// packet that follows is the one recorded (the URL must say sslmode=disable for it to be
// readable: an encrypted one is recorded as "(encrypted)").
import net from "node:net";

export interface RecordedSession {
  application: string;
  at: number;
}

export interface CountingProxy {
  port: number;
  sessions: RecordedSession[];
  /** application_name → sessions opened, since the last clear. */
  counts(): Record<string, number>;
  clear(): void;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/**
 * The startup packet's application_name ("(none)" without one), or null when `b` does not yet
 * hold a whole packet. An SSLRequest or GSSENCRequest answers "" with its 8 bytes to skip.
 */
export function startupApplication(b: Buffer): { application: string; rest: number } | null {
  if (b.length < 8) return null;
  const len = b.readInt32BE(0);
  const code = b.readInt32BE(4);
  if (len === 8 && (code === SSL_REQUEST || code === GSS_REQUEST)) return { application: "", rest: 8 };
  if (b.length < len) return null;
  const fields = b.subarray(8, len).toString("utf8").split("\0");
  const i = fields.indexOf("application_name");
  return { application: i >= 0 && i % 2 === 0 ? fields[i + 1]! : "(none)", rest: len };
}

export async function startCountingProxy(to: { host: string; port: number }): Promise<CountingProxy> {
  const sessions: RecordedSession[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(to.port, to.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let head = Buffer.alloc(0);
    let recorded = false;
    let encrypted = false;
    upstream.on("data", (d: Buffer) => {
      // The answer to an SSLRequest: 'S' means what follows is TLS.
      if (!recorded && d.length === 1 && d[0] === 0x53) encrypted = true;
      client.write(d);
    });
    client.on("data", (d: Buffer) => {
      if (!recorded) {
        head = Buffer.concat([head, d]);
        if (encrypted) {
          sessions.push({ application: "(encrypted)", at: Date.now() });
          recorded = true;
        } else {
          let p = startupApplication(head);
          while (p && p.application === "" && p.rest === 8) {
            head = head.subarray(8);
            p = startupApplication(head);
          }
          if (p) {
            sessions.push({ application: p.application, at: Date.now() });
            recorded = true;
          }
        }
      }
      upstream.write(d);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    counts() {
      const out: Record<string, number> = {};
      for (const s of sessions) out[s.application] = (out[s.application] ?? 0) + 1;
      return out;
    },
    clear() {
      sessions.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
