// pg_dump and pg_restore as streams, and the version rule between them: pg_dump must be
// at least as new as the server it dumps (seed incident: "server version mismatch").
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Transform, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { withClient, type Session } from "./pg-client";
import { databaseHost, libpqConnection } from "./libpq";
import type { TableRows } from "./row-counts";
import { PgToolError, isPipeError, killTool, spawnTool, type SpawnToolOptions } from "./pg-process";
import { writeDataOffsets } from "./archive-offsets";
import { restoreWhileReading } from "./streamed-restore";
import { toolPath } from "./tool-path";
import { componentLogger } from "../log";
import type { LiveProgress } from "./live-progress";

const log = componentLogger("pg-restore");

export { PgToolError } from "./pg-process";

const execFileAsync = promisify(execFile);

export interface PgVersion {
  /** 15 for 15.x; 9.6 for the pre-10 scheme. */
  major: number;
  /** e.g. "15.18". */
  full: string;
}

/** The oldest server pg_dump 15 (and later) can dump. */
const OLDEST_DUMPABLE = 9.2;

export function pgBinary(name: string, pgBinDir?: string): string {
  return pgBinDir ? path.join(pgBinDir, name) : name;
}

/** Parses `pg_dump --version` output, e.g. "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
export function parseToolVersion(output: string): PgVersion {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) throw new Error(`unrecognised version output: ${output.trim().slice(0, 100)}`);
  const first = Number(m[1]);
  if (first >= 10) return { major: first, full: m[2] !== undefined ? `${first}.${m[2]}` : `${first}` };
  const second = Number(m[2] ?? 0);
  return { major: first + second / 10, full: [m[1], m[2], m[3]].filter((x) => x !== undefined).join(".") };
}

/** Parses server_version_num (e.g. 150018, 90624). */
export function parseServerVersionNum(num: number): PgVersion {
  if (num >= 100000) {
    const major = Math.floor(num / 10000);
    return { major, full: `${major}.${num % 10000}` };
  }
  const major = Math.floor(num / 10000) + (Math.floor(num / 100) % 100) / 10;
  return { major, full: `${major}.${num % 100}` };
}

/**
 * How long a `pg_dump --version` answer is reused. The health checks ask every few seconds
 * in every web process, and each spawn blocks a ~300 MB process for 7–16 ms while it forks
 * (decision 111). A minute still sees an upgraded client soon; caching by the binary's
 * identity would not (Debian's pg_dump is a wrapper that picks the newest installed).
 */
export const TOOL_VERSION_TTL_MS = 60_000;
const toolVersions = new Map<string, { at: number; version: PgVersion }>();

export async function pgDumpVersion(binDir?: string, now = Date.now()): Promise<PgVersion> {
  const bin = pgBinary("pg_dump", binDir);
  const known = toolVersions.get(bin);
  if (known && now - known.at < TOOL_VERSION_TTL_MS) return known.version;
  try {
    const { stdout } = await execFileAsync(bin, ["--version"], { timeout: 10_000 });
    const version = parseToolVersion(stdout);
    toolVersions.set(bin, { at: now, version });
    return version;
  } catch (e) {
    toolVersions.delete(bin);
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PgToolError(`pg_dump not found at ${bin}: install the PostgreSQL client tools or set PG_BIN_DIR`, null, "");
    }
    throw e;
  }
}

export async function serverVersion(url: Session): Promise<PgVersion> {
  return withClient(
    url,
    async (client) => {
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      return parseServerVersionNum(Number(rows[0].v));
    },
    "vaultline-inspect",
  );
}

export type Compatibility = { ok: true } | { ok: false; reason: string };

/** The pure rule: pg_dump may be newer than the server, never older; and not hopelessly newer. */
export function compareDumpVersions(pgDump: PgVersion, server: PgVersion): Compatibility {
  if (server.major > pgDump.major) {
    return {
      ok: false,
      reason: `pg_dump ${pgDump.major} cannot dump server ${server.major}: install PostgreSQL ${server.major} client tools or set PG_BIN_DIR`,
    };
  }
  if (server.major < OLDEST_DUMPABLE) {
    return {
      ok: false,
      reason: `server ${server.full} is older than pg_dump ${pgDump.major} supports (${OLDEST_DUMPABLE} or later): use older client tools via PG_BIN_DIR`,
    };
  }
  return { ok: true };
}

export type DumpCompatibility =
  | { ok: true; pgDump: PgVersion; server: PgVersion }
  | { ok: false; reason: string };

export async function checkDumpCompatibility(url: string, binDir?: string): Promise<DumpCompatibility> {
  let dumpV: PgVersion;
  try {
    dumpV = await pgDumpVersion(binDir);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  let serverV: PgVersion;
  try {
    serverV = await serverVersion(url);
  } catch (e) {
    return { ok: false, reason: `cannot connect to ${databaseHost(url)}: ${(e as Error).message}` };
  }
  return dumpCompatibility(dumpV, serverV);
}

/**
 * checkDumpCompatibility with both versions in hand: pg_dump's (or why it could not be
 * asked), and the server's as a session already open read it (a backup's, decision 193).
 */
export function dumpCompatibility(pgDump: PgVersion | Error, server: PgVersion): DumpCompatibility {
  if (pgDump instanceof Error) return { ok: false, reason: pgDump.message };
  const verdict = compareDumpVersions(pgDump, server);
  return verdict.ok ? { ok: true, pgDump, server } : verdict;
}

export interface DumpOptions {
  binDir?: string;
  signal?: AbortSignal;
  schemaOnly?: boolean;
  /** Schemas left out of the dump (`--exclude-schema`), e.g. a job queue's own tables. */
  excludeSchemas?: string[];
  /** Give up on a table lock after this long instead of queueing behind a migration forever. */
  lockWaitTimeoutMs?: number;
  /** An exported snapshot to dump (`--snapshot`), so other readers see exactly the dumped rows. */
  snapshot?: string;
  /** Extra arguments, e.g. `--compress=0` when a codec outside pg_dump compresses (compression.ts). */
  extraArgs?: string[];
}

export interface DumpProcess {
  /** The custom-format archive. Errors (instead of ending) if pg_dump fails or is cancelled. */
  stdout: Readable;
  /** Resolves when pg_dump exits 0; rejects PgToolError with a readable reason, or AbortError. */
  done: Promise<void>;
}

/** Starts `pg_dump -Fc` (plus opts.extraArgs) against url. The password reaches pg_dump through PGPASSWORD only. */
export function spawnPgDump(url: string, opts: DumpOptions = {}): DumpProcess {
  const conn = libpqConnection(url);
  const args = ["--format=custom", "--no-password", `--dbname=${conn.dbname}`];
  if (opts.schemaOnly) args.push("--schema-only");
  for (const schema of opts.excludeSchemas ?? []) args.push(`--exclude-schema=${schema}`);
  if (opts.lockWaitTimeoutMs) args.push(`--lock-wait-timeout=${opts.lockWaitTimeoutMs}`);
  if (opts.snapshot) args.push(`--snapshot=${opts.snapshot}`);
  args.push(...(opts.extraArgs ?? []));
  const proc = spawnTool(pgBinary("pg_dump", opts.binDir), args, {
    env: { ...conn.env, PGAPPNAME: "vaultline-backup" },
    signal: opts.signal,
    secrets: [conn.password],
  });
  // A killed pg_dump closes stdout like a finished one. Holding back the end until the exit
  // status is known makes a failed dump an error downstream, never a short "complete" archive.
  const gate = new Transform({
    transform(chunk, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      proc.exited.then(() => cb(), (e: Error) => cb(e));
    },
  });
  pipeline(proc.child.stdout!, gate).catch((e: unknown) => {
    // The consumer went away (or gate failed): stop pg_dump instead of letting it block.
    killTool(proc);
    if (!gate.destroyed) gate.destroy(e as Error);
  });
  return { stdout: gate, done: proc.exited };
}

export interface RestoreOptions {
  binDir?: string;
  signal?: AbortSignal;
  /** Drop objects before recreating them (`--clean --if-exists`). */
  clean?: boolean;
  /** All or nothing. */
  singleTransaction?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** Every object in the database's own tablespace, not the one the archive names (`--no-tablespaces`, decision 173). */
  noTablespaces?: boolean;
  /** Parallel restore; needs a seekable file, so the input is spooled to a private temp file. */
  jobs?: number;
  /** Parallel restore only: the spool directory's name prefix in the temp dir (restore-spool.ts). */
  spoolPrefix?: string;
  /** Parallel restore only: called when the schema is made, before any data is loaded (not on the classic path). */
  afterSchema?: () => Promise<unknown> | void;
  /** Parallel restore only: called when every table's data is in, before indexes and constraints. */
  onDataLoaded?: () => Promise<unknown> | void;
  /**
   * Parallel restore only: the archive's size, when known (the manifest's
   * `compression.inputBytes`). A table bigger than this over `jobs` has its rows cut into
   * parts loaded side by side (decision 126); without it no table is cut.
   */
  archiveBytes?: number;
  /** Parallel restore only: given the counts a heartbeat reads (live-progress.ts). */
  onProgress?: (p: LiveProgress) => void;
}

export interface RestoreOutcome {
  /** Each table's rows as the archive went by (the streamed parallel restore, decision 158); null where not counted. */
  rows: TableRows[] | null;
}

/** Feeds input (a custom-format archive) to pg_restore against url. */
export async function spawnPgRestore(input: Readable, url: string, opts: RestoreOptions = {}): Promise<RestoreOutcome> {
  const conn = libpqConnection(url);
  const args = ["--no-password", "--exit-on-error", `--dbname=${conn.dbname}`];
  if (opts.clean) args.push("--clean", "--if-exists");
  if (opts.singleTransaction) args.push("--single-transaction");
  if (opts.noOwner) args.push("--no-owner");
  if (opts.noPrivileges) args.push("--no-privileges");
  if (opts.noTablespaces) args.push("--no-tablespaces");
  // Resolved past Debian's Perl wrapper: a restore starts pg_restore once per loader batch.
  const bin = await toolPath("pg_restore", opts.binDir);
  const toolOpts: SpawnToolOptions = {
    env: { ...conn.env, PGAPPNAME: "vaultline-restore" },
    signal: opts.signal,
    secrets: [conn.password],
    // Restoring into a database, pg_restore prints nothing worth reading (decision 139).
    stdout: "ignore",
  };

  if (opts.jobs && opts.jobs > 1) {
    if (opts.singleTransaction) {
      throw new Error("parallel restore (jobs > 1) cannot run as a single transaction");
    }
    const dir = await mkdtemp(path.join(tmpdir(), opts.spoolPrefix ?? "vaultline-restore-"));
    const splitAfter = opts.archiveBytes === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(opts.archiveBytes / opts.jobs);
    try {
      // Tables load while the archive still arrives (streamed-restore.ts).
      const r = await restoreWhileReading(input, { bin, args, tool: toolOpts, jobs: opts.jobs, dir, signal: opts.signal, splitAfter, afterSchema: opts.afterSchema, onDataLoaded: opts.onDataLoaded, onProgress: opts.onProgress });
      if (r.streamed) return { rows: r.rows };
      // A format the indexer does not read: the classic way, from the whole spooled file.
      log.warn({ reason: r.index.disabled }, "archive not restorable while reading; restoring from the spooled file");
      // Our archives come from a pipe, without data offsets; write them in, or each
      // --jobs worker scans block by block for its table (lib/backup/archive-offsets.ts).
      const patched = await writeDataOffsets(r.file, r.index);
      if ("skipped" in patched) log.warn({ reason: patched.skipped }, "restoring without data offsets (slower parallel restore)");
      const proc = spawnTool(bin, [...args, `--jobs=${opts.jobs}`, r.file], toolOpts);
      await proc.exited;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return { rows: null };
  }

  const proc = spawnTool(bin, args, { ...toolOpts, stdin: "pipe" });
  let inputError: unknown;
  // Registered before pipeline's own handler: pg_restore is killed before its stdin closes,
  // so a damaged input can never look like a complete archive and be committed.
  input.once("error", (e) => {
    inputError = e;
    killTool(proc, "SIGKILL");
  });
  const fed = pipeline(input, proc.child.stdin!).catch((e: unknown) => {
    inputError ??= e;
  });
  try {
    await proc.exited;
  } catch (e) {
    await fed;
    throw isPipeError(inputError) || inputError === undefined ? e : inputError;
  }
  await fed;
  if (inputError !== undefined && !isPipeError(inputError)) throw inputError;
  return { rows: null };
}

/**
 * `pg_restore --list` of an archive on stdin. pg_restore stops reading after the table of
 * contents; the rest of input is still read to the end so callers hashing or decrypting
 * it see every byte (and any integrity error at the end).
 */
export async function pgRestoreList(input: Readable, binDir?: string): Promise<string> {
  const proc = spawnTool(pgBinary("pg_restore", binDir), ["--list"], { stdin: "pipe" });
  const chunks: Buffer[] = [];
  proc.child.stdout!.on("data", (c: Buffer) => chunks.push(c));
  const stdoutDone = once(proc.child.stdout!, "end").catch(() => undefined);
  try {
    await feedTolerantly(input, proc.child.stdin!);
  } catch (e) {
    killTool(proc, "SIGKILL");
    await proc.exited.catch(() => undefined);
    throw e;
  }
  await proc.exited;
  await stdoutDone;
  return Buffer.concat(chunks).toString("utf8");
}

/** Writes input to sink with back-pressure; once sink closes, keeps reading input to its end. */
async function feedTolerantly(input: Readable, sink: Writable): Promise<void> {
  let open = true;
  const closed = () => {
    open = false;
  };
  sink.on("error", closed);
  sink.on("close", closed);
  for await (const chunk of input) {
    if (!open || sink.destroyed) continue;
    if (!sink.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          sink.off("drain", done);
          sink.off("close", done);
          resolve();
        };
        sink.on("drain", done);
        sink.on("close", done);
      });
    }
  }
  if (open && !sink.destroyed) sink.end();
}
