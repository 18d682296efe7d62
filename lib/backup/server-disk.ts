// A restore writes a whole second copy of the database on the server before the old one goes
// (the swap's fresh database; in place, the new rows beside the old until the transaction
// commits), and its WAL meanwhile. A server disk without that room filled up under it: the
// copy's COPY failed with "No space left on device" — and where the WAL shares that disk,
// the live database's next WAL write could not be made either, and PostgreSQL stopped the
// whole server (PANIC). A restore started at 3 a.m. to mend one database could take every
// database on the server down with it.
//
// PostgreSQL offers no free-space read over SQL, so the disk is measured only when the
// server runs on this machine and Vaultline can prove it is the same server: the data
// directory pg_settings names holds a postmaster.pid with the server's start time and port.
// Then the preview says what the copy needs beside what the disk has, and while the copy
// grows the restore watches the disk and stops before the last DISK_RESERVE_MB
// go. Anywhere else the preview says how much the copy needs and that the disk is not seen.
import { readFile, stat, statfs } from "node:fs/promises";
import path from "node:path";
import type { Client } from "pg";
import { formatBytes } from "../format";

/** Free space a restore leaves on the server's disk (DISK_RESERVE_MB's default). */
export const DEFAULT_DISK_RESERVE_BYTES = 1024 * 1024 * 1024;

/** What a restore writes there: the restored copy, the server's WAL, or both on one disk. */
export type DiskUse = "copy" | "wal";

export interface ServerDiskPlace {
  /** A directory on the disk: a tablespace's (or `base`), or `pg_wal`. */
  dir: string;
  holds: DiskUse[];
  /**
   * The tablespaces whose part of the copy lands on this disk — set only when the database
   * keeps relations in more than its own tablespace (a table or index with `TABLESPACE …`).
   */
  tablespaces?: string[];
  /** What the copy takes on this disk (zero for the WAL's alone). Absent before the copy was split by tablespace. */
  neededBytes?: number;
}

export interface ServerDisk extends ServerDiskPlace {
  /** Available to a non-root writer (statfs `bavail`): the server does not run as root. */
  freeBytes: number;
  totalBytes: number;
}

/** Where the server keeps the database and its WAL, or why that is not known here. */
export type ServerDiskLocation = { places: ServerDiskPlace[]; unmeasured: null } | { places: null; unmeasured: string };

export interface ServerFacts {
  /** Null when this role may not read it (superuser or pg_read_all_settings only). */
  dataDirectory: string | null;
  /** pg_postmaster_start_time, whole seconds since the epoch. */
  started: number;
  port: number;
  tablespace: string;
  /** pg_tablespace_location: empty for pg_default and pg_global. */
  location: string;
  databaseBytes: number;
  /** The server's tablespaces (pg_global aside) and their locations ("" for pg_default). */
  tablespaces: Array<{ name: string; location: string }>;
  /** Where this database keeps its relations. */
  placement: Placement;
}

/**
 * A database's relations kept in a tablespace other than the database's own, in bytes by
 * tablespace, beside the database's whole size. A restore (pg_restore, and pg_dump's
 * `SET default_tablespace`) recreates each of them in the same tablespace, so that part of
 * the copy lands on that tablespace's disk.
 */
export interface Placement {
  databaseBytes: number;
  placed: Array<{ tablespace: string; bytes: number }>;
}

// Every fork of every relation with storage in a tablespace of its own. pg_relation_size
// takes a share lock, which a migration holding its table waits out: a second at most, then
// pg_class's own figures (as of the last VACUUM or ANALYZE) instead.
const PLACED = (size: string) => `
  SELECT t.spcname AS tablespace, coalesce(sum(${size}), 0)::text AS bytes
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_tablespace t ON t.oid = c.reltablespace
   WHERE c.reltablespace <> 0 AND t.spcname <> 'pg_global' AND c.relpersistence <> 't'
   GROUP BY t.spcname ORDER BY t.spcname`;
const EXACT_SIZE = ["main", "fsm", "vm", "init"].map((f) => `pg_catalog.pg_relation_size(c.oid, '${f}')`).join(" + ");
const ESTIMATED_SIZE = "c.relpages::bigint * pg_catalog.current_setting('block_size')::bigint";

/** Where the connected database keeps its relations (a client outside any transaction). */
export async function relationPlacement(client: Pick<Client, "query">): Promise<Placement> {
  type Row = { tablespace: string; bytes: string };
  let rows: Row[];
  try {
    await client.query("BEGIN READ ONLY");
    await client.query("SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '30s'");
    rows = (await client.query<Row>(PLACED(EXACT_SIZE))).rows;
    await client.query("COMMIT");
  } catch {
    await client.query("ROLLBACK").catch(() => undefined);
    rows = (await client.query<Row>(PLACED(ESTIMATED_SIZE))).rows;
  }
  const size = await client.query<{ n: string }>("SELECT pg_catalog.pg_database_size(pg_catalog.current_database())::text AS n");
  return { databaseBytes: Number(size.rows[0].n), placed: rows.map((r) => ({ tablespace: r.tablespace, bytes: Number(r.bytes) })).filter((r) => r.bytes > 0) };
}

/** What the server says about itself; any role that may connect can ask. */
export async function serverFacts(client: Pick<Client, "query">): Promise<ServerFacts> {
  const { rows } = await client.query<{ dataDirectory: string | null; started: string; port: string; tablespace: string; location: string; databaseBytes: string }>(
    `SELECT (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'data_directory') AS "dataDirectory",
            floor(extract(epoch FROM pg_catalog.pg_postmaster_start_time()))::bigint::text AS started,
            pg_catalog.current_setting('port') AS port,
            t.spcname AS tablespace, pg_catalog.pg_tablespace_location(t.oid) AS location,
            pg_catalog.pg_database_size(d.oid)::text AS "databaseBytes"
       FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON t.oid = d.dattablespace
      WHERE d.datname = pg_catalog.current_database()`,
  );
  const r = rows[0];
  const spaces = await client.query<{ name: string; location: string }>(
    "SELECT spcname AS name, pg_catalog.pg_tablespace_location(oid) AS location FROM pg_catalog.pg_tablespace WHERE spcname <> 'pg_global' ORDER BY 1",
  );
  return {
    dataDirectory: r.dataDirectory,
    started: Number(r.started),
    port: Number(r.port),
    tablespace: r.tablespace,
    location: r.location,
    databaseBytes: Number(r.databaseBytes),
    tablespaces: spaces.rows,
    placement: await relationPlacement(client),
  };
}

/** One tablespace's part of the copy. */
export interface CopyShare {
  tablespace: string;
  bytes: number;
}

/**
 * The copy split by tablespace: `totalBytes` (the backup's size, or the live database's) in
 * the proportions the placement has; the database's own tablespace takes the rest.
 */
export function copyShares(ownTablespace: string, totalBytes: number, placement: Placement): CopyShare[] {
  const whole = Math.max(placement.databaseBytes, 1);
  const others = placement.placed
    .filter((p) => p.tablespace !== ownTablespace)
    .map((p) => ({ tablespace: p.tablespace, bytes: Math.round((totalBytes * Math.min(p.bytes, whole)) / whole) }));
  const rest = Math.max(0, totalBytes - others.reduce((n, p) => n + p.bytes, 0));
  return [{ tablespace: ownTablespace, bytes: rest }, ...others];
}

/**
 * The server's disks as this machine sees them, once its postmaster.pid proves the data
 * directory here is the server's own (the same path, start time and port): a path that only
 * happens to exist here (another container's, an old copy) is never measured.
 */
export async function locateServerDisks(f: ServerFacts, shares: CopyShare[] = [{ tablespace: f.tablespace, bytes: f.databaseBytes }]): Promise<ServerDiskLocation> {
  if (!f.dataDirectory) {
    return { places: null, unmeasured: "this role may not read the server's data directory (a superuser or a member of pg_read_all_settings may)" };
  }
  const pidFile = await readFile(path.join(f.dataDirectory, "postmaster.pid"), "utf8").catch(() => null);
  if (pidFile === null) {
    return { places: null, unmeasured: `the server's data directory (${f.dataDirectory}) cannot be read here: the server runs on another machine, or as a user whose files Vaultline may not read` };
  }
  // postmaster.pid: pid, data directory, start time (epoch seconds), port, … (PostgreSQL's pidfile.h).
  const [, dir, started, port] = pidFile.split("\n").map((l) => l.trim());
  if (dir !== f.dataDirectory || Math.abs(Number(started) - f.started) > 1 || Number(port) !== f.port) {
    return { places: null, unmeasured: `${f.dataDirectory} on this machine belongs to another server than the target's` };
  }
  const base = path.join(f.dataDirectory, "base");
  const locationOf = (tablespace: string) => (tablespace === f.tablespace ? f.location : f.tablespaces.find((t) => t.name === tablespace)?.location) || base;
  // A share in a tablespace this server does not have is left out: PostgreSQL refuses to
  // create there, and pg_restore leaves those relations out with an error.
  const known = shares.filter((s) => s.tablespace === f.tablespace || f.tablespaces.some((t) => t.name === s.tablespace));
  const named = known.length > 1;
  const wanted: Array<{ dir: string; use: DiskUse; share?: CopyShare }> = [
    ...known.map((share) => ({ dir: locationOf(share.tablespace), use: "copy" as const, share })),
    { dir: path.join(f.dataDirectory, "pg_wal"), use: "wal" },
  ];
  const places: Array<ServerDiskPlace & { dev: number }> = [];
  for (const { dir, use, share } of wanted) {
    const s = await stat(dir).catch(() => null);
    if (!s) return { places: null, unmeasured: `${dir} cannot be read here` };
    let place = places.find((p) => p.dev === s.dev);
    if (!place) places.push((place = { dir, holds: [], dev: s.dev, ...(named ? { tablespaces: [] } : {}), neededBytes: 0 }));
    if (!place.holds.includes(use)) place.holds.push(use);
    if (share) {
      place.neededBytes! += share.bytes;
      place.tablespaces?.push(share.tablespace);
    }
  }
  return { places: places.map(({ dev: _dev, ...p }) => p), unmeasured: null };
}

export async function measureServerDisks(places: ServerDiskPlace[]): Promise<ServerDisk[] | null> {
  try {
    return await Promise.all(
      places.map(async (p) => {
        const s = await statfs(p.dir);
        return { ...p, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
      }),
    );
  } catch {
    return null;
  }
}

/** The plan the preview shows and the restore records. */
export interface ServerDiskPlan {
  /** What the copy takes: the database's size when it was backed up, or (older backups) the live database's now. */
  neededBytes: number;
  basis: "backup" | "live";
  tablespace: string;
  /** Free space the restore leaves: it stops before the copy or its WAL take it. */
  reserveBytes: number;
  disks: ServerDisk[] | null;
  /** Why the disks were not measured; null when they were. */
  unmeasured: string | null;
}

/**
 * `placement` is where the database being restored keeps its relations (the server's own
 * database by default; a drill's scratch copy takes the target's).
 */
export async function planServerDisk(
  f: ServerFacts,
  opts: { backupDatabaseBytes: number | undefined; reserveBytes: number; placement?: Placement },
): Promise<{ plan: ServerDiskPlan; places: ServerDiskPlace[] | null }> {
  const backup = opts.backupDatabaseBytes;
  const placement = opts.placement ?? f.placement;
  const neededBytes = backup ?? placement.databaseBytes;
  const located = await locateServerDisks(f, copyShares(f.tablespace, neededBytes, placement));
  const disks = located.places ? await measureServerDisks(located.places) : null;
  return {
    plan: {
      neededBytes,
      basis: backup === undefined ? "live" : "backup",
      tablespace: f.tablespace,
      reserveBytes: opts.reserveBytes,
      disks,
      unmeasured: located.unmeasured ?? (disks ? null : "the server's disk could not be measured"),
    },
    places: disks ? located.places : null,
  };
}

/** What the copy takes on a disk: its own figure, or (a plan recorded before the split) the whole copy. */
export const copyBytesOn = (d: Pick<ServerDiskPlace, "holds" | "neededBytes">, plan: Pick<ServerDiskPlan, "neededBytes">): number =>
  !d.holds.includes("copy") ? 0 : (d.neededBytes ?? plan.neededBytes);

/** Why the copy will not fit on a measured disk (its free space less the reserve), or a disk is already below the reserve; null otherwise. */
export function serverDiskProblem(plan: ServerDiskPlan): string | null {
  // A disk already below the reserve (the WAL's, say) stops the restore as soon as it starts.
  const low = plan.disks?.find((d) => d.freeBytes < plan.reserveBytes);
  if (low) {
    return (
      `The server's disk ${low.dir} (${usesOf(low)}) has ${formatBytes(low.freeBytes)} free of ${formatBytes(low.totalBytes)}, less than the ${formatBytes(plan.reserveBytes)} ` +
      `a restore leaves free (DISK_RESERVE_MB): a restore stops as soon as it starts. Free space on the server first`
    );
  }
  const short = plan.disks?.find((d) => d.holds.includes("copy") && d.freeBytes - plan.reserveBytes < copyBytesOn(d, plan));
  if (!short) return null;
  const part = short.tablespaces?.length ? `The restored copy's part in tablespace${short.tablespaces.length > 1 ? "s" : ""} ${short.tablespaces.join(", ")} needs` : "The restored copy needs";
  return (
    `${part} about ${formatBytes(copyBytesOn(short, plan))} on the server's disk (${short.dir}), which has ${formatBytes(short.freeBytes)} free, ` +
    `and the restore keeps ${formatBytes(plan.reserveBytes)} of it free (DISK_RESERVE_MB): it will most likely stop before it ends, with the live database untouched. ` +
    `Free space on the server first`
  );
}

export interface DiskGuard {
  stop(): void;
}

/**
 * Watches the disks while the copy grows and calls `onShort` once, with the reason, when one
 * has less than `reserveBytes` free. A failed measure is not a stop: the next one may work.
 */
export function guardServerDisks(places: ServerDiskPlace[], opts: { reserveBytes: number; intervalMs?: number; onShort: (reason: string) => void }): DiskGuard {
  let stopped = false;
  let busy = false;
  const check = async () => {
    if (busy || stopped) return;
    busy = true;
    try {
      const disks = await measureServerDisks(places);
      const short = disks?.find((d) => d.freeBytes < opts.reserveBytes);
      if (short && !stopped) {
        stopped = true;
        clearInterval(timer);
        opts.onShort(shortReason(short, opts.reserveBytes));
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), opts.intervalMs ?? 1000);
  timer.unref();
  void check();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

function usesOf(d: ServerDiskPlace): string {
  const copy = d.tablespaces?.length ? `the restored copy's part in tablespace${d.tablespaces.length > 1 ? "s" : ""} ${d.tablespaces.join(", ")}` : "the restored copy";
  return d.holds.length === 2 ? `${copy} and the server's WAL` : d.holds[0] === "copy" ? copy : "the server's WAL";
}

/**
 * A restore's or drill's watch on the server's disks: `signal` aborts, with the reason, once
 * a watched disk has less than the reserve free. Nothing is watched until `watch` is called.
 */
export function diskWatch(onShort?: (reason: string) => void) {
  const low = new AbortController();
  let guard: DiskGuard | null = null;
  return {
    signal: low.signal,
    /** Why the watch stopped the work; null while it has not. */
    reason: (): string | null => (low.signal.aborted ? (low.signal.reason as Error).message : null),
    watch(places: ServerDiskPlace[] | null | undefined, opts: { reserveBytes: number; intervalMs?: number }) {
      if (!places) return;
      guard?.stop();
      guard = guardServerDisks(places, {
        ...opts,
        onShort: (reason) => {
          onShort?.(reason);
          low.abort(new Error(reason));
        },
      });
    },
    stop() {
      guard?.stop();
      guard = null;
    },
  };
}

export function shortReason(d: ServerDisk, reserveBytes: number): string {
  return (
    `Stopped before the server's disk filled up: ${d.dir} (${usesOf(d)}) had ${formatBytes(d.freeBytes)} free of ${formatBytes(d.totalBytes)}, ` +
    `less than the ${formatBytes(reserveBytes)} the restore leaves free (DISK_RESERVE_MB). Free space on the server, and restore again`
  );
}
