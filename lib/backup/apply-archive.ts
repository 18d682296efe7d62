// Applies a stored, encrypted pg_dump archive to the target IN PLACE so that it ends EXACTLY
// as the backup — all or nothing, and committed only after every stored byte was checked:
//
//   storage → SHA-256(stored) → OpenPGP decrypt → decompress → pg_restore -f - → hold back the tail → psql
//
// psql runs one transaction: the caller's prologue removes everything the application
// owns (restore-plan.ts: its schemas with CASCADE, large objects, …), so nothing made after
// the backup survives and nothing that depends on a restored object can block the restore;
// then pg_restore's script recreates the backup with its owners and grants. The final COMMIT
// sits in the held-back tail and reaches psql only once the stored checksum matched and
// decryption ended cleanly (the OpenPGP integrity check arrives at the very end of the
// stream); an epilogue may run just before it. On any failure psql is killed before it sees
// COMMIT, and PostgreSQL rolls everything back.
import { Transform, Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createDecryptStream, type DecryptKey } from "./crypto";
import { createDecompressor, type CompressionCodec } from "./compression";
import { createHashingStream } from "./hashing";
import { pgBinary } from "./dump";
import { isBrokenWrite, killTool, spawnTool } from "./pg-process";
import { libpqConnection } from "./libpq";
import type { LiveProgress } from "./live-progress";

/** Holds back the last `keep` bytes until release(); destroy() discards them. */
export function createTailHolder(keep: number) {
  let held: Buffer = Buffer.alloc(0);
  let releaseTail: (() => void) | null = null;
  let reached: () => void = () => {};
  /** Resolves when the input has ended and only the held tail remains. */
  const ended = new Promise<void>((r) => (reached = r));
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      held = held.length ? Buffer.concat([held, chunk]) : Buffer.from(chunk);
      if (held.length > keep) {
        const out = held.subarray(0, held.length - keep);
        held = Buffer.from(held.subarray(held.length - keep));
        cb(null, out);
      } else cb();
    },
    flush(cb) {
      // The tail leaves only when release() says the input was verified.
      releaseTail = () => {
        if (held.length) this.push(held);
        cb();
      };
      reached();
    },
  });
  return {
    stream,
    ended,
    /** Lets the tail through, with `before` inserted ahead of its last COMMIT. */
    release(before = ""): boolean {
      if (!releaseTail) return false;
      if (before) {
        const at = held.lastIndexOf("COMMIT;");
        if (at < 0) return false;
        held = Buffer.concat([held.subarray(0, at), Buffer.from(before), held.subarray(at)]);
      }
      releaseTail();
      return true;
    },
  };
}

/**
 * A sink that forwards to dest (with back-pressure) while dest accepts data, and quietly
 * drops the rest once dest has closed — the reader exiting is judged by its exit code.
 */
export function forwardUntilClosed(dest: Writable): Writable {
  let closed = false;
  dest.on("error", () => {
    closed = true;
  });
  dest.on("close", () => {
    closed = true;
  });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (closed) return cb();
      if (dest.write(chunk)) return cb();
      const done = () => {
        dest.off("drain", done);
        dest.off("close", done);
        cb();
      };
      dest.once("drain", done);
      dest.once("close", done);
    },
    final(cb) {
      if (!closed) dest.end();
      cb();
    },
  });
}

export interface ApplyOptions {
  storedStream: Readable;
  /** What decrypts: a passphrase, or a private key (crypto.ts). */
  passphrase: DecryptKey;
  expectedStoredSha256: string;
  /** The part's codec from its manifest; absent (older archives) = none. */
  compression?: { codec: CompressionCodec };
  /** A stage the decompressed archive passes through before pg_restore (extension-versions.ts). */
  archive?: Transform;
  targetUrl: string;
  /** SQL run first, inside the transaction: clears what the backup will recreate. */
  prologue: string;
  /** SQL run last, just before COMMIT. */
  epilogue?: string;
  /** Restore owners (needs superuser or membership in each owning role). */
  keepOwners: boolean;
  /** Restore grants (needs every grantee role to exist). */
  keepPrivileges: boolean;
  /** Every object in the database's own tablespace (`--no-tablespaces`, decision 173). */
  noTablespaces?: boolean;
  binDir?: string;
  signal?: AbortSignal;
  /** How long a statement waits for another session's lock before the restore fails, rolled back (default 300). */
  lockTimeoutSeconds?: number;
  /** Given the counts a heartbeat reads (live-progress.ts): bytes of the stored object read, which the pipes hold to what psql has taken. */
  onProgress?: (p: LiveProgress) => void;
}

export async function applyArchive(o: ApplyOptions): Promise<void> {
  const conn = libpqConnection(o.targetUrl);
  const env = { ...conn.env, PGAPPNAME: "vaultline-restore" };
  const restore = spawnTool(
    pgBinary("pg_restore", o.binDir),
    ["--single-transaction", "--exit-on-error", "--file=-", ...(o.keepOwners ? [] : ["--no-owner"]), ...(o.keepPrivileges ? [] : ["--no-privileges"]), ...(o.noTablespaces ? ["--no-tablespaces"] : [])],
    { stdin: "pipe", signal: o.signal, secrets: [conn.password] },
  );
  const psql = spawnTool(
    pgBinary("psql", o.binDir),
    ["--no-psqlrc", "--quiet", "--no-password", "-v", "ON_ERROR_STOP=1", `--dbname=${conn.dbname}`, "--file=-"],
    // Its results (a row per lo_create, per setval, …) are read by no one: to /dev/null.
    { stdin: "pipe", stdout: "ignore", env, signal: o.signal, secrets: [conn.password] },
  );
  const killAll = () => {
    killTool(psql, "SIGKILL");
    killTool(restore, "SIGKILL");
  };

  const stored = createHashingStream();
  o.onProgress?.({ unit: "stored", read: stored.bytes, loaded: stored.bytes });
  const tail = createTailHolder(64 * 1024);
  // Free of the database's own statement and idle timeouts (decision 141): the prologue may
  // drop thousands of objects, and the session idles while pg_restore reads the archive.
  psql.child.stdin!.write(`BEGIN READ WRITE;\nSET LOCAL lock_timeout = '${Math.round((o.lockTimeoutSeconds ?? 300) * 1000)}ms';\nSET LOCAL statement_timeout = 0;\nSET LOCAL idle_in_transaction_session_timeout = 0;\n${o.prologue}\n`);

  try {
    // pg_restore may stop reading once it has the last archive entry; the input is still
    // read to its end, because the stored checksum and OpenPGP's integrity check are only
    // known there — and COMMIT waits for both.
    const head = [o.storedStream, stored.stream, createDecryptStream(o.passphrase), createDecompressor(o.compression)] as const;
    const sink = forwardUntilClosed(restore.child.stdin!);
    const feed = o.archive ? pipeline(...head, o.archive, sink, { signal: o.signal }) : pipeline(...head, sink, { signal: o.signal });
    const out = pipeline(restore.child.stdout!, tail.stream, psql.child.stdin!, { signal: o.signal });
    // Awaited below on success; on a failure the processes are killed and this breaks too.
    out.catch(() => undefined);
    // A failure on either side fails the whole thing at once.
    const failFast = Promise.race([
      feed.then(() => new Promise<never>(() => {})),
      restore.exited.then(() => new Promise<never>(() => {})),
      psql.exited.then(() => {
        throw new Error("psql ended before the restore script was complete");
      }),
    ]);
    await Promise.race([Promise.all([feed, restore.exited]), failFast]);
    if (stored.digest() !== o.expectedStoredSha256) {
      throw new Error(`the archive read during the restore does not match its checksum (${stored.digest()}); nothing was committed`);
    }
    // Verified: let COMMIT through.
    await Promise.race([tail.ended, failFast]);
    if (!tail.release(o.epilogue ? `${o.epilogue}\n` : "")) throw new Error("the restore script did not end cleanly; nothing was committed");
    await Promise.all([out, psql.exited]);
  } catch (e) {
    // psql stopped on an error (ON_ERROR_STOP) and what was still being written to it broke:
    // the error is psql's, the broken write only its echo — Node's "write EPIPE", or
    // pg_restore's SIGPIPE or "Connection reset by peer", whichever came first. It reported
    // those for "out of shared memory" (decision 145).
    const cause = isBrokenWrite(e) ? await exitError(psql, 2000) : null;
    killAll();
    throw cause ?? e;
  }
}

/**
 * Whether PostgreSQL ended the restore's transaction to break a deadlock (SQLSTATE 40P01).
 * The transaction was rolled back by then: nothing of the restore was committed (decision
 * 204). Read from psql's words, which carry no SQLSTATE: a server's messages in English.
 */
export const isDeadlock = (e: unknown): boolean => e instanceof Error && /\bdeadlock detected\b/.test(e.message);

/** The error a tool exited with, if it exits with one within ms; null otherwise. */
async function exitError(tool: { exited: Promise<void> }, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([tool.exited.then(() => null, (err: unknown) => err), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
