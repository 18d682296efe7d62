// A connection URL means to node-pg what it means to libpq (decision 146). The same URL
// reaches pg_dump, pg_restore and psql (libpq) and Vaultline's own sessions (node-pg), and
// the two read `sslmode` differently: node-pg 8 takes `require` and `verify-ca` for
// `verify-full`, and without `sslmode` it never encrypts, where libpq tries SSL first. So a
// target with `sslmode=require` on a server whose certificate is its own (a managed
// database's private CA) was backed up by nobody: pg_dump would have connected, and every
// Node session failed with "self-signed certificate". A server that accepts only SSL
// connections, with no `sslmode` in the URL, failed the same way ("no encryption").
import net from "node:net";
import type pg from "pg";
import { parse, toClientConfig } from "pg-connection-string";
import { hasSeveralHosts, readDbUrl } from "../pg-hosts";
import { SSL_MODES } from "../validation/targets";

export type SslMode = (typeof SSL_MODES)[number];

const isSslMode = (m: string): m is SslMode => (SSL_MODES as readonly string[]).includes(m);

/** Says which `sslmode` libpq rejects, before a backup finds out from pg_dump. */
export class SslModeError extends Error {
  constructor(readonly mode: string) {
    super(`sslmode=${mode} is not a libpq SSL mode (${SSL_MODES.join(", ")}): pg_dump and pg_restore would refuse the URL`);
    this.name = "SslModeError";
  }
}

/** The URL's sslmode, else PGSSLMODE, else libpq's default `prefer`. Throws SslModeError. */
export function sslModeOf(url: string, env: Record<string, string | undefined> = process.env): SslMode {
  const mode = readDbUrl(url).searchParams.get("sslmode") ?? env.PGSSLMODE ?? "prefer";
  if (!isSslMode(mode)) throw new SslModeError(mode);
  return mode;
}

/** node-pg's settings for `url` with `mode` read as libpq reads it (pg-connection-string's libpq mode). */
function configWith(url: string, mode: "disable" | "require" | "verify-ca" | "verify-full"): pg.ClientConfig {
  const u = new URL(url);
  u.searchParams.delete("uselibpqcompat");
  u.searchParams.set("sslmode", mode);
  return toClientConfig(parse(u.toString(), { useLibpqCompat: true }));
}

/** Where node-pg will connect: null for a Unix socket (libpq never uses SSL there). */
function tcpAddress(config: pg.ClientConfig): { host: string; port: number } | null {
  const host = config.host ?? "localhost";
  if (host.startsWith("/")) return null;
  return { host, port: config.port ?? 5432 };
}

/**
 * libpq's first question to a server, and its answer: an SSLRequest packet, one byte back
 * ('S' or 'N'). False when the server cannot be reached (the real connection then says why).
 */
export async function serverOffersSsl(host: string, port: number, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (offered: boolean) => {
      socket.destroy();
      resolve(offered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])));
    socket.once("data", (b: Buffer) => done(b[0] === 0x53));
  });
}

/**
 * node-pg's settings for a pool (no round trip to decide): the explicit modes as libpq reads
 * them; `prefer` and `allow` (and no sslmode) connect without SSL, as node-pg always has —
 * say `sslmode=require` for a server that accepts only SSL.
 */
export function poolConfig(url: string): pg.ClientConfig {
  // A pool connects without asking which host is which; only a target's sessions follow libpq's failover form.
  if (hasSeveralHosts(url)) throw new TypeError("Vaultline's own database takes one host: a URL with several hosts (libpq's failover form) is for targets (decision 183)");
  const mode = sslModeOf(url);
  return configWith(url, mode === "prefer" || mode === "allow" ? "disable" : mode);
}

/**
 * The `application_name` of Vaultline's own pool on `url` (its database): the URL's, when it
 * names one, else `vaultline`. A restore asked to end the sessions blocking it spares this
 * name as well as every `vaultline…` one (decisions 185, 188).
 */
export function ownApplicationName(url: string): string {
  return poolConfig(url).application_name || "vaultline";
}

/**
 * node-pg's settings for one session, as libpq would connect: for `prefer` (libpq's default)
 * and `allow`, SSL without verification when the server offers it, else none. libpq's
 * further fallbacks (a server whose pg_hba refuses the SSL connection it offered) are not
 * followed.
 */
export async function sessionConfig(url: string, extra: Omit<pg.ClientConfig, "connectionString"> = {}): Promise<pg.ClientConfig> {
  const mode = sslModeOf(url);
  let config: pg.ClientConfig;
  if (mode === "prefer" || mode === "allow") {
    const plain = configWith(url, "disable");
    const address = tcpAddress(plain);
    const offered = address !== null && (await serverOffersSsl(address.host, address.port, extra.connectionTimeoutMillis || undefined));
    config = offered ? configWith(url, "require") : plain;
  } else {
    config = configWith(url, mode);
  }
  return { ...config, ...extra };
}
