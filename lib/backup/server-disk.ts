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
  /** A directory on the disk: the database's tablespace (or `base`), or `pg_wal`. */
  dir: string;
  holds: DiskUse[];
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
  return { dataDirectory: r.dataDirectory, started: Number(r.started), port: Number(r.port), tablespace: r.tablespace, location: r.location, databaseBytes: Number(r.databaseBytes) };
}

/**
 * The server's disks as this machine sees them, once its postmaster.pid proves the data
 * directory here is the server's own (the same path, start time and port): a path that only
 * happens to exist here (another container's, an old copy) is never measured.
 */
export async function locateServerDisks(f: ServerFacts): Promise<ServerDiskLocation> {
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
  const wanted: Array<[string, DiskUse]> = [
    [f.location || path.join(f.dataDirectory, "base"), "copy"],
    [path.join(f.dataDirectory, "pg_wal"), "wal"],
  ];
  const places: Array<ServerDiskPlace & { dev: number }> = [];
  for (const [dir, use] of wanted) {
    const s = await stat(dir).catch(() => null);
    if (!s) return { places: null, unmeasured: `${dir} cannot be read here` };
    const same = places.find((p) => p.dev === s.dev);
    if (same) same.holds.push(use);
    else places.push({ dir, holds: [use], dev: s.dev });
  }
  return { places: places.map(({ dir, holds }) => ({ dir, holds })), unmeasured: null };
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

export async function planServerDisk(
  f: ServerFacts,
  opts: { backupDatabaseBytes: number | undefined; reserveBytes: number },
): Promise<{ plan: ServerDiskPlan; places: ServerDiskPlace[] | null }> {
  const located = await locateServerDisks(f);
  const disks = located.places ? await measureServerDisks(located.places) : null;
  const backup = opts.backupDatabaseBytes;
  return {
    plan: {
      neededBytes: backup ?? f.databaseBytes,
      basis: backup === undefined ? "live" : "backup",
      tablespace: f.tablespace,
      reserveBytes: opts.reserveBytes,
      disks,
      unmeasured: located.unmeasured ?? (disks ? null : "the server's disk could not be measured"),
    },
    places: disks ? located.places : null,
  };
}

/** The disk that will hold the copy, when it was measured. */
export function copyDisk(plan: Pick<ServerDiskPlan, "disks">): ServerDisk | null {
  return plan.disks?.find((d) => d.holds.includes("copy")) ?? null;
}

/** Why the copy will not fit on the measured disk (its free space less the reserve), or a disk is already below the reserve; null otherwise. */
export function serverDiskProblem(plan: ServerDiskPlan): string | null {
  // A disk already below the reserve (the WAL's, say) stops the restore as soon as it starts.
  const low = plan.disks?.find((d) => d.freeBytes < plan.reserveBytes);
  if (low) {
    return (
      `The server's disk ${low.dir} (${usesOf(low)}) has ${formatBytes(low.freeBytes)} free of ${formatBytes(low.totalBytes)}, less than the ${formatBytes(plan.reserveBytes)} ` +
      `a restore leaves free (DISK_RESERVE_MB): a restore stops as soon as it starts. Free space on the server first`
    );
  }
  const disk = copyDisk(plan);
  if (!disk) return null;
  const room = disk.freeBytes - plan.reserveBytes;
  if (room >= plan.neededBytes) return null;
  return (
    `The restored copy needs about ${formatBytes(plan.neededBytes)} on the server's disk (${disk.dir}), which has ${formatBytes(disk.freeBytes)} free, ` +
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
  return d.holds.length === 2 ? "the restored copy and the server's WAL" : d.holds[0] === "copy" ? "the restored copy" : "the server's WAL";
}

export function shortReason(d: ServerDisk, reserveBytes: number): string {
  return (
    `Stopped before the server's disk filled up: ${d.dir} (${usesOf(d)}) had ${formatBytes(d.freeBytes)} free of ${formatBytes(d.totalBytes)}, ` +
    `less than the ${formatBytes(reserveBytes)} the restore leaves free (DISK_RESERVE_MB). Free space on the server, and restore again`
  );
}
