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
// So the wrapper is asked once, with `--version`, which tool it would run: it runs
// `<binroot><version>/bin/<tool>` (PgCommon's get_program_path, binroot
// /usr/lib/postgresql/), so the version in its answer names the very file, which is then
// run directly. The answer is kept too: the restore's version check reads it instead of
// starting the tool again. The wrapper's choice does not depend on our arguments: we never
// pass --cluster, --host or --port (the connection is a URI in --dbname). Anything else —
// PG_BIN_DIR set, a tool that is not the wrapper, no such file, any error — keeps the name
// as given, exactly as before.
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

interface Resolved {
  bin: string;
  /** The wrapper's `--version` answer, when it was asked. */
  version?: string;
}
const resolved = new Map<string, { at: number; tool: Promise<Resolved> }>();

function resolve(name: string, binDir: string | undefined, opts: ToolPathOptions): Promise<Resolved> {
  if (binDir) return Promise.resolve({ bin: path.join(binDir, name) });
  const pathEnv = opts.pathEnv ?? process.env.PATH ?? "";
  const binRoot = opts.binRoot ?? DEBIAN_BIN_ROOT;
  const key = [name, pathEnv, binRoot, process.env.PGCLUSTER ?? ""].join("\0");
  const now = opts.now ?? Date.now();
  const known = resolved.get(key);
  if (known && now - known.at < TOOL_PATH_TTL_MS) return known.tool;
  const tool = behindWrapper(name, pathEnv, binRoot).catch(() => ({ bin: name }));
  resolved.set(key, { at: now, tool });
  return tool;
}

/** The binary to run for `name`: in `binDir` when set, else the one the PATH's tool would run. */
export async function toolPath(name: string, binDir?: string, opts: ToolPathOptions = {}): Promise<string> {
  return (await resolve(name, binDir, opts)).bin;
}

/** `<name> --version`'s answer from the binary `toolPath` gives: the wrapper's, when it was asked. */
export async function toolVersionLine(name: string, binDir?: string, opts: ToolPathOptions = {}): Promise<string> {
  const tool = await resolve(name, binDir, opts);
  return tool.version ?? (await versionLine(tool.bin));
}

async function behindWrapper(name: string, pathEnv: string, binRoot: string): Promise<Resolved> {
  const onPath = await findOnPath(name, pathEnv);
  if (!onPath) return { bin: name };
  if (path.basename(await realpath(onPath)) !== "pg_wrapper") return { bin: name };
  const said = await versionLine(onPath);
  // "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the directory is the major.
  const major = /\(PostgreSQL\)\s+(\d+)/.exec(said)?.[1];
  if (!major) return { bin: name, version: said };
  const direct = path.join(binRoot, major, "bin", name);
  if (!(await executable(direct))) return { bin: name, version: said };
  return { bin: direct, version: said };
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

async function versionLine(bin: string): Promise<string> {
  const { stdout } = await execFileAsync(bin, ["--version"], { timeout: 10_000 });
  return stdout.trim();
}
