// libpq's failover form, `postgresql://app@db1:5432,db2:5432/shop?target_session_attrs=read-write`
// (decision 183): several hosts in one URL, tried in order for each connection until one
// answers as `target_session_attrs` asks. pg_dump, pg_restore and psql follow it themselves;
// WHATWG's URL parser (and so node-pg's) does not take it at all. Here the URL is read and
// edited through a stand-in with one placeholder host, the host list kept aside, so every
// reader of a target's URL (its database, its parameters, the password kept out of argv)
// works on both forms; `lib/backup/pg-client.ts` picks the host for each of Vaultline's own
// sessions, by libpq's rules.

/** libpq's `target_session_attrs` (PostgreSQL 14+; PostgreSQL 15's client knows all six). */
export const SESSION_ATTRS = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const;
export type SessionAttrs = (typeof SESSION_ATTRS)[number];

/** One host of a URL: as written (`db1`, `[::1]`) and its port, libpq's 5432 when none is written. */
export interface UrlHost {
  host: string;
  port: number;
}

const PLACEHOLDER = "vaultline-several-hosts.invalid";
const SCHEME = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/is;

interface Split {
  prefix: string;
  userinfo: string;
  hostspec: string;
  rest: string;
}

function split(url: string): Split | null {
  const m = SCHEME.exec(url);
  if (!m) return null;
  const authority = m[2]!;
  const at = authority.lastIndexOf("@");
  return { prefix: m[1]!, userinfo: at < 0 ? "" : authority.slice(0, at + 1), hostspec: authority.slice(at + 1), rest: m[3]! };
}

/** True for libpq's failover form: a comma in the URL's host part (not in its password or parameters). */
export function hasSeveralHosts(url: string): boolean {
  return split(url)?.hostspec.includes(",") ?? false;
}

function parseHost(spec: string): UrlHost {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(spec);
  if (!m || !m[1]) throw new TypeError(`"${spec}" is not a host[:port]`);
  return { host: m[1], port: m[2] ? Number(m[2]) : 5432 };
}

/** The hosts of a URL in the order libpq tries them; one for a plain URL. Throws TypeError on a malformed list. */
export function urlHosts(url: string): UrlHost[] {
  const s = split(url);
  if (!s || !s.hostspec.includes(",")) {
    const u = new URL(url);
    return [{ host: decodeURIComponent(u.hostname) || "localhost", port: u.port ? Number(u.port) : 5432 }];
  }
  return s.hostspec.split(",").map(parseHost);
}

/** `host:port` of each host, for messages and manifests (never credentials). */
export function describeHosts(url: string): string {
  return urlHosts(url)
    .map((h) => `${h.host}:${h.port}`)
    .join(",");
}

/** Said where a URL is refused: how a Unix socket with a user is written, in the host part… */
export const SOCKET_IN_HOST_HINT = "; a Unix socket with a user: postgresql://user:password@%2Fvar%2Frun%2Fpostgresql/db";
/** …or, for a target's URL, as libpq also takes it (socketHostInline). */
export const SOCKET_HINT = `${SOCKET_IN_HOST_HINT}, or postgresql://user:password@/db?host=/var/run/postgresql`;

/**
 * libpq's form with a user and an empty host, the host in a parameter — a Unix socket's
 * directory, most often: `postgresql://app:pw@/shop?host=/var/run/postgresql&port=5433` —
 * written as the same connection in the form WHATWG's parser (and node-pg's) reads, the host
 * percent-encoded in the host part: `postgresql://app:pw@%2Fvar%2Frun%2Fpostgresql:5433/shop`
 * (decision 203). The other parameters are kept as written (libpq reads `+` as `+`). Any
 * other URL is returned as it is.
 */
export function socketHostInline(url: string): string {
  const s = split(url);
  if (!s || s.hostspec !== "" || s.userinfo === "") return url;
  const m = /^([^?#]*)\?([^#]*)(#.*)?$/s.exec(s.rest);
  if (!m) return url;
  const pairs = m[2]!.split("&").filter(Boolean);
  const value = (key: string) => {
    const p = pairs.find((x) => x.split("=")[0] === key);
    return p === undefined ? null : decodeURIComponent(p.slice(key.length + 1));
  };
  const host = value("host");
  // Without one libpq uses its built-in socket directory, which differs by build: not guessed.
  if (!host || host.includes(",")) return url;
  const port = value("port");
  const rest = pairs.filter((x) => !["host", "port"].includes(x.split("=")[0]!));
  return `${s.prefix}${s.userinfo}${encodeURIComponent(host)}${port ? `:${port}` : ""}${m[1]}${rest.length ? `?${rest.join("&")}` : ""}${m[3] ?? ""}`;
}

/**
 * The URL as WHATWG's parser reads it, for its user, password, database and parameters. For
 * the failover form its host is a placeholder: ask `urlHosts` for the hosts.
 */
export function readDbUrl(url: string): URL {
  const s = split(url);
  if (!s || !s.hostspec.includes(",")) return new URL(url);
  for (const h of s.hostspec.split(",")) parseHost(h);
  return new URL(`${s.prefix}${s.userinfo}${PLACEHOLDER}${s.rest}`);
}

/** readDbUrl, or null for what is no URL (a malformed host list included): for validation, of a URL as written (socketHostInline's form too). */
export function readDbUrlOrNull(url: string): URL | null {
  try {
    return readDbUrl(socketHostInline(url));
  } catch {
    return null;
  }
}

/** `url` with `edit` applied to its user, password, database or parameters, every host kept. */
export function editDbUrl(url: string, edit: (u: URL) => void): string {
  const u = readDbUrl(url);
  edit(u);
  const out = u.toString();
  const s = split(url);
  if (!s || !s.hostspec.includes(",")) return out;
  if (u.hostname !== PLACEHOLDER) throw new Error("editDbUrl edits a URL's user, password, database and parameters, not its hosts");
  return out.replace(`${PLACEHOLDER}`, s.hostspec);
}

/**
 * Which host of `url`'s list a session opened through it went to (pg.Client's host and port
 * after connect), as `host:port` as written in the URL and its place in the list; null when it
 * is none of them.
 */
export function sessionHost(url: string, session: { host: string; port: number }): { spec: string; at: number; of: number } | null {
  const hosts = urlHosts(url);
  const i = hosts.findIndex((h) => h.port === session.port && h.host.replace(/^\[|\]$/g, "") === session.host.replace(/^\[|\]$/g, ""));
  return i < 0 ? null : { spec: `${hosts[i]!.host}:${hosts[i]!.port}`, at: i + 1, of: hosts.length };
}

/** The same URL naming only `h` (libpq's connection to one host of the list). */
export function withOneHost(url: string, h: UrlHost): string {
  const s = split(url);
  if (!s) throw new TypeError("not a postgres:// or postgresql:// URL");
  return `${s.prefix}${s.userinfo}${h.host}:${h.port}${s.rest}`;
}

/** The URL's target_session_attrs, else PGTARGETSESSIONATTRS, else libpq's `any`. Throws on a value libpq refuses. */
export function sessionAttrsOf(url: string, env: Record<string, string | undefined> = process.env): SessionAttrs {
  const v = readDbUrl(url).searchParams.get("target_session_attrs") ?? env.PGTARGETSESSIONATTRS ?? "any";
  if (!(SESSION_ATTRS as readonly string[]).includes(v)) throw new TypeError(`target_session_attrs=${v} is not one libpq knows (${SESSION_ATTRS.join(", ")})`);
  return v as SessionAttrs;
}

/** What a server said it is, asked on a session (`pg_is_in_recovery()`, `transaction_read_only`). */
export interface ServerState {
  inRecovery: boolean;
  readOnly: boolean;
}

/** Whether a server in `state` is one libpq keeps for `attrs` (prefer-standby: in its first pass). */
export function answersAs(attrs: SessionAttrs, state: ServerState): boolean {
  switch (attrs) {
    case "any":
      return true;
    case "read-write":
      return !state.readOnly;
    case "read-only":
      return state.readOnly;
    case "primary":
      return !state.inRecovery;
    case "standby":
    case "prefer-standby":
      return state.inRecovery;
  }
}

/** Words for a server's state, in the terms of `attrs`. */
export function stateWords(state: ServerState): string {
  if (state.inRecovery) return "a standby (in recovery)";
  return state.readOnly ? "read-only (default_transaction_read_only)" : "a read-write primary";
}

/**
 * For a failover URL whose target_session_attrs lets a standby answer (libpq's default
 * `any` takes the first host that accepts): what to add so that Vaultline's sessions and
 * pg_restore go to the primary. Null for a plain URL or one that asks for the primary already.
 */
export function primaryHint(url: string): string | null {
  if (!hasSeveralHosts(url)) return null;
  let attrs: SessionAttrs;
  try {
    attrs = sessionAttrsOf(url);
  } catch {
    return null;
  }
  if (attrs === "read-write" || attrs === "primary") return null;
  return `this target's URL names several hosts (${describeHosts(url)}) with target_session_attrs=${attrs}, which takes ${attrs === "any" ? "the first that answers" : "a standby"}: add target_session_attrs=read-write to it, and every session and pg_restore go to the primary`;
}
