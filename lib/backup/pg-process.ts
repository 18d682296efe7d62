// Child-process plumbing shared by pg_dump and pg_restore: exit as a promise, the tail of
// stderr turned into a human reason, cancellation by signal, and no secret in any message.
import { spawn, type ChildProcess } from "node:child_process";
import { alterFunctionSql, contextFunctions } from "./search-path-probe";

/** A PostgreSQL client tool failed; message is safe to show (password scrubbed). */
export class PgToolError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number | null,
    public readonly stderr: string,
  ) {
    super(message);
    this.name = "PgToolError";
  }
}

export function abortError(what: string, reason?: unknown): Error {
  const err = new Error(`${what} cancelled`, { cause: reason });
  err.name = "AbortError";
  return err;
}

const STDERR_LINES = 20;
const KILL_GRACE_MS = 5_000;

export interface ToolProcess {
  child: ChildProcess;
  /** Resolves on exit code 0; rejects PgToolError (or AbortError when signal fired). */
  exited: Promise<void>;
  /** Everything kept from stderr so far (last lines, secrets scrubbed). */
  stderrTail(): string;
}

export interface SpawnToolOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Strings never to show in messages, e.g. the database password. */
  secrets?: string[];
  stdin?: "pipe" | "ignore";
  /**
   * "ignore" for a tool whose output nobody reads: an unread pipe fills (~200 KB) and the
   * tool stops there for good (psql printing a result per lo_create froze an in-place
   * restore of 20,000 large objects, decision 139). Default "pipe".
   */
  stdout?: "pipe" | "ignore";
  /**
   * Sees each whole stderr line first; a line it returns true for is its own (a `--verbose`
   * progress line) and is not kept for the failure's reason.
   */
  onStderrLine?: (line: string) => boolean;
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return scrubPasswords(out);
}

/**
 * Passwords a tool may echo from the statement that failed (pg_restore's "Command was: …",
 * psql's QUERY): a user mapping's or a foreign server's `OPTIONS (password '…')`, a
 * subscription's `CONNECTION '… password=… …'` (quoted or not, inside an SQL literal or
 * not), a URL's `user:password@`. What it cannot know — a secret in a function's body — it
 * cannot take out.
 */
export function scrubPasswords(text: string): string {
  return text
    .replace(/(\b\w*password\s+)'(?:[^']|'')*'/gi, "$1'***'")
    .replace(/(\b\w*password\s*=\s*)(?:''(?:[^']|'''')*''|'(?:[^'\\]|\\.)*'|(?:''|[^\s'])+)/gi, "$1***")
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi, "$1***@");
}

/** The last useful stderr lines without the tool's "pg_dump: error:" prefixes (psql's "psql:<stdin>:80:" too). */
export function reasonFromStderr(stderr: string, tool: string): string {
  const raw = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const prefix = `^${tool}:(?:[^:\\s]*:\\d+:)?\\s*`;
  const lines = raw.map((l) => l.replace(new RegExp(`${prefix}(error:|warning:|detail:|hint:)?\\s*`, "i"), ""));
  // The first error says what went wrong; a multi-line command after it ("Command was: …")
  // and a parallel run's "a worker process died unexpectedly" would push it out of the tail.
  // psql's is "psql:<stdin>:80: ERROR:  …", followed by LINE, HINT, QUERY and CONTEXT.
  const first = raw.findIndex((l) => new RegExp(`${prefix}(error|fatal):`, "i").test(l));
  // What came before it (psql's NOTICEs, pg_restore's progress) is not the reason.
  // pg_dump's "…failed: PQgetResult() failed." is followed by the server's own error: kept.
  const server = first >= 0 && /^Error message from server:/i.test(lines[first + 1] ?? "") ? 1 : 0;
  const said = first < 0 ? lines.slice(-3).join("; ") : [...lines.slice(first, first + 1 + server), ...lines.slice(first + 1 + server).slice(-2)].join("; ");
  const hint = searchPathHint(raw) ?? recoveryConflictHint(stderr);
  return hint ? `${said} — ${hint}` : said;
}

/**
 * What to do when a standby cancelled the dump (decision 156). A hot standby replaying the
 * primary's changes cancels a query that holds what a change needs — a table the primary
 * locks (an ALTER, a TRUNCATE, a VACUUM truncating it) or rows the primary's VACUUM removes
 * — once `max_standby_streaming_delay` (30 s by default) has passed. A dump holds a lock on
 * every table and one snapshot for its whole length, so on a busy primary it meets one.
 */
export function recoveryConflictHint(text: string): string | null {
  if (!/conflict with recovery/i.test(text)) return null;
  return (
    "the standby cancelled the dump to replay the primary's changes (a recovery conflict: the primary locked a table the dump was reading, or vacuumed rows its snapshot still needed). " +
    "On the standby, set hot_standby_feedback = on (the primary then keeps the rows the dump's snapshot needs) and raise max_standby_streaming_delay above the dump's length (a lock then waits for the dump), or back up from the primary"
  );
}


/**
 * What to do when a function of the backup cannot find an object during the restore. pg_dump's
 * archives restore with an empty search_path (PostgreSQL's answer to CVE-2018-1058), so a
 * function that names a table, a function or a type without its schema fails wherever the
 * restore runs it: an index on it, a CHECK constraint or a generated column during COPY, a
 * materialized view's refresh. `pg_restore` alone fails the same way; the fix is the
 * function's, on the live database.
 */
export function searchPathHint(lines: string[]): string | null {
  const missing = lines.map((l) => /ERROR:\s+(.*\bdoes not exist\b.*)$/.exec(l)?.[1]).find(Boolean);
  if (!missing) return null;
  const fn = contextFunctions(lines.filter((l) => /CONTEXT:/.test(l)).join("\n"))[0];
  if (!fn) return null;
  return (
    `function ${fn} names something without its schema (${missing}). A restore runs with an empty search_path, as pg_dump's archives set it (CVE-2018-1058), so the name is not found — by pg_restore alone too. ` +
    `On the live database, give the function a search_path (${alterFunctionSql(fn)} — or the schema the name is in) or write the schema into its body, then take a new backup; docs/recovery.md restores this backup by hand`
  );
}

export function spawnTool(bin: string, args: string[], opts: SpawnToolOptions = {}): ToolProcess {
  const tool = bin.split("/").pop() ?? bin;
  const secrets = opts.secrets ?? [];
  const child = spawn(bin, args, {
    env: { ...process.env, ...opts.env },
    stdio: [opts.stdin ?? "ignore", opts.stdout ?? "pipe", "pipe"],
  });
  let lines: string[] = [];
  let partial = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    const parts = (partial + s).split("\n");
    partial = parts.pop() ?? "";
    const onLine = opts.onStderrLine;
    lines.push(...(onLine ? parts.filter((l) => !onLine(l)) : parts));
    if (lines.length > STDERR_LINES) lines = lines.slice(-STDERR_LINES);
    // A single endless line must not grow without bound either.
    if (partial.length > 8192) partial = partial.slice(-8192);
  });
  const stderrTail = () => scrub([...lines, partial].join("\n"), secrets);

  let killTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    killTimer ??= setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    killTimer.unref();
  };
  const onAbort = () => kill();
  if (opts.signal?.aborted) kill();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const exited = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
    };
    child.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") {
        settle(
          new PgToolError(
            `${tool} not found at ${bin}: install the PostgreSQL client tools or set PG_BIN_DIR`,
            null,
            "",
          ),
        );
      } else settle(new PgToolError(`${tool} could not start: ${e.message}`, null, ""));
    });
    child.once("close", (code, signal) => {
      if (opts.signal?.aborted) return settle(abortError(tool, opts.signal.reason));
      if (code === 0) return settle();
      const reason = reasonFromStderr(stderrTail(), tool) || (signal ? `killed by ${signal}` : `exit code ${code}`);
      settle(new PgToolError(`${tool} failed: ${reason}`, code, stderrTail()));
    });
  });
  // The caller may attach its handler late (after consuming stdout); never an unhandled rejection.
  exited.catch(() => undefined);
  return { child, exited, stderrTail };
}

export function killTool(p: ToolProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
}

/** A write to a tool that had already closed its stdin: the tool's exit code tells why. */
export function isPipeError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null | undefined)?.code;
  return code === "EPIPE" || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED";
}

/**
 * A write that broke because its reader stopped, from Node or from a tool writing into the
 * next one: Node's EPIPE, or the tool's own words. A child's stdio is a socket pair on Linux,
 * so a tool may say "Connection reset by peer" rather than "Broken pipe" (pg_restore did, in
 * CI, for a psql stopped by "out of shared memory", and its words hid psql's).
 */
export function isBrokenWrite(e: unknown): boolean {
  return isPipeError(e) || (e instanceof PgToolError && /SIGPIPE|broken pipe|connection reset by peer/i.test(e.message));
}
