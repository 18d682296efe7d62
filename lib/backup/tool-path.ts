// Where a PostgreSQL client tool really is (issue 14 §2, decision 127).
//
// Debian and Ubuntu install `/usr/bin/pg_restore` (and pg_dump, psql…) as a link to
// postgresql-common's `pg_wrapper`: a Perl script that picks a version — from PGCLUSTER,
// ~/.postgresqlrc, the local clusters, else the newest installed — and then execs
// `/usr/lib/postgresql/<version>/bin/pg_restore`. Starting Perl and PgCommon costs ~40 ms
// of CPU per run (20 runs of `pg_restore --version`: 0.96 CPU-s through the wrapper,
// 0.10 s direct), and a swap restore starts pg_restore about ten times — once per loader
// batch — on a host whose two CPUs the restore keeps busy.
//
// So the wrapper is asked once, with `--version`, which tool it would run; its answer
// names the version, and the versioned binary is used when it answers the very same
// line. The wrapper's choice does not depend on our arguments: we never pass --cluster,
// --host or --port (the connection is a URI in --dbname). Anything else — PG_BIN_DIR
// set, a tool that is not the wrapper, a versioned binary that is missing or answers
// differently, any error — keeps the name as given, exactly as before.
import { execFile } from "node:child_process";
import { access, constants, realpath } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** postgresql-common's layout: `<binRoot><version>/bin/<tool>` (PgCommon.pm, $binroot). */
export const DEBIAN_BIN_ROOT = "/usr/lib/postgresql/";
/** An answer is reused this long: a newer client installed meanwhile is seen within a minute. */
export const TOOL_PATH_TTL_MS = 60_000;

export interface ToolPathOptions {
  /** For tests: where the versioned binaries are, and the PATH searched. */
  binRoot?: string;
  pathEnv?: string;
  now?: number;
}

const resolved = new Map<string, { at: number; bin: Promise<string> }>();

/** The binary to run for `name`: in `binDir` when set, else the one the PATH's tool would run. */
export function toolPath(name: string, binDir?: string, opts: ToolPathOptions = {}): Promise<string> {
  if (binDir) return Promise.resolve(path.join(binDir, name));
  const pathEnv = opts.pathEnv ?? process.env.PATH ?? "";
  const binRoot = opts.binRoot ?? DEBIAN_BIN_ROOT;
  const key = [name, pathEnv, binRoot, process.env.PGCLUSTER ?? ""].join("\0");
  const now = opts.now ?? Date.now();
  const known = resolved.get(key);
  if (known && now - known.at < TOOL_PATH_TTL_MS) return known.bin;
  const bin = behindWrapper(name, pathEnv, binRoot).catch(() => name);
  resolved.set(key, { at: now, bin });
  return bin;
}

async function behindWrapper(name: string, pathEnv: string, binRoot: string): Promise<string> {
  const onPath = await findOnPath(name, pathEnv);
  if (!onPath) return name;
  if (path.basename(await realpath(onPath)) !== "pg_wrapper") return name;
  const said = await versionLine(onPath);
  // "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the directory is the major.
  const major = /\(PostgreSQL\)\s+(\d+)/.exec(said)?.[1];
  if (!major) return name;
  const direct = path.join(binRoot, major, "bin", name);
  if ((await versionLine(direct).catch(() => "")) !== said) return name;
  return direct;
}

async function findOnPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function versionLine(bin: string): Promise<string> {
  const { stdout } = await execFileAsync(bin, ["--version"], { timeout: 10_000 });
  return stdout.trim();
}
