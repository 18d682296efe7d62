// Parallel restore while the archive is still arriving (issue 14 §2, decision 113).
//
// `pg_restore --jobs` needs the whole archive in a seekable file before it starts, so a
// swap restore used to read the backup in first (download, decrypt, decompress: about a
// third of the time) and only then load it. Here pg_restore starts as soon as the table
// of contents has gone by, and each table's data is loaded while the rest still arrives:
//
//   1. The archive is spooled to a private file; `ArchiveOffsetIndexer` reports the
//      header + TOC and where each data block starts.
//   2. pre-data: `pg_restore --section=pre-data` on a file holding only the header + TOC
//      (schemas, types, tables, functions… — nothing that needs data).
//   3. data: every data block (TABLE DATA, large objects) is handed, in archive order, to
//      one of `jobs` loaders: `pg_restore --use-list=<that entry>`. A block already whole
//      in the spool file is read there by pg_restore itself, once its position is written
//      into the spool file's own TOC (the bytes pg_dump writes in a seekable file); a block
//      still arriving is fed on stdin — the header + TOC followed by that block alone, read
//      from the spool file as it grows. pg_restore issues the COPY, with the entry's own
//      column list and session settings: nothing of the archive is interpreted here beyond
//      block and chunk boundaries.
//      A big table's rows are cut into parts of about `splitBytes` (decision 126), each a
//      loader run of its own, so one table fills every job: a cut is made only between two
//      chunks, after one whose last byte is a newline — in COPY text always a row's end —
//      and only in archives whose data pg_dump did not compress (`-Z0`, ours since decision
//      50: one chunk per row; a zlib archive's chunks are pieces of one stream). A part is
//      fed framed as a block of its own: the block's header before it, a zero-length chunk
//      after it.
//   4. the rest: `pg_restore --jobs --section=data --section=post-data --use-list=<every
//      entry without a block>` on the header + TOC file — sequence values, indexes,
//      constraints, triggers, materialized view data, grants; partitioned indexes'
//      attachments one at a time, and what depends on them after (restPasses).
//
// Each TOC entry is restored by exactly one step: pg_restore decides pre-data versus the
// rest from the same TOC in steps 2 and 4, and step 3 takes exactly the entries step 4's
// list leaves out. An archive the indexer does not understand at its TOC (another format
// version) is answered with `{ streamed: false }` once fully spooled, for the classic path.
import { EventEmitter, once } from "node:events";
import { open, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArchiveOffsetIndexer, dataBlockHeader, endOfBlock, offsetField, positionUnset, type ArchiveIndex, type TocEntry } from "./archive-offsets";
import { isPipeError, killTool, spawnTool, type SpawnToolOptions, type ToolProcess } from "./pg-process";
import type { LiveProgress } from "./live-progress";
import type { TableRows } from "./row-counts";

const READ_CHUNK = 1024 * 1024;

/** The spool file's writer: counts what has reached the file and says so. */
export class Spool extends Writable {
  written = 0;
  ended = false;
  failure: Error | null = null;
  readonly progress = new EventEmitter();

  constructor(private readonly fh: FileHandle) {
    super({ highWaterMark: 1024 * 1024 });
    this.progress.setMaxListeners(0);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.fh.write(chunk, 0, chunk.length, this.written).then(
      ({ bytesWritten }) => {
        if (bytesWritten !== chunk.length) return cb(new Error("short write to the restore's spool file"));
        this.written += chunk.length;
        this.progress.emit("more");
        cb();
      },
      (e: Error) => cb(e),
    );
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.ended = true;
    this.progress.emit("more");
    cb();
  }

  fail(e: Error): void {
    this.failure ??= e;
    this.progress.emit("more");
  }
}

/** A data block, or part of a table's rows when a big one is cut (`cont`, `cut`). */
interface Block {
  dumpId: number;
  start: number;
  /** Known once the next block starts, or the archive ends. */
  end?: number;
  /** Starts inside the block, at a row: its loader is given the block's header first. */
  cont?: boolean;
  /** Ends inside the block, after a row: its loader is given the block's end after it. */
  cut?: boolean;
}

/**
 * Writes `head`, then bytes [start, end) of the spool file — waiting for the writer where it
 * is behind — to a tool's stdin. Two buffers, reused: a fresh one per read made garbage
 * collection a fifth of the restore process's CPU on a 512 MB database. A tool that exits
 * early (EPIPE) is judged by its exit code.
 */
export async function feedRange(
  p: ToolProcess,
  head: Buffer,
  fh: FileHandle,
  spool: Spool,
  start: number,
  endOf: () => number | undefined,
  signal: AbortSignal,
  /** What follows the range, asked once it is written (a block may be cut while it is fed). */
  tail?: () => Buffer | undefined,
  /** Bytes of the range the tool has taken (written to its stdin). */
  onWritten?: (bytes: number) => void,
): Promise<void> {
  const stdin = p.child.stdin!;
  let gone = false;
  stdin.on("error", () => (gone = true));
  stdin.on("close", () => (gone = true));
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (gone) return resolve();
      stdin.write(b, (e) => (!e || isPipeError(e) ? resolve() : reject(e)));
    });
  const bufs = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)];
  let k = 0;
  let pending = write(head);
  let pos = start;
  for (;;) {
    if (spool.failure) throw spool.failure;
    if (gone) break;
    // Past the last block header there is only the last block: it ends with the archive.
    const end = endOf() ?? (spool.ended ? spool.written : undefined);
    // The indexer runs ahead of the spool: a block's end is known as soon as the next
    // block's header goes by, before the spool has written the bytes between. Read only
    // what is in the file.
    const limit = Math.min(end ?? Infinity, spool.written);
    if (pos < limit) {
      const buf = bufs[k];
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, limit - pos), pos);
      if (bytesRead === 0) throw new Error("the restore's spool file is shorter than what was written to it");
      pos += bytesRead;
      // This buffer's previous write was awaited one round ago; the other one's now.
      await pending;
      pending = write(buf.subarray(0, bytesRead));
      if (onWritten) pending = pending.then(() => onWritten(bytesRead));
      k ^= 1;
      continue;
    }
    if (end !== undefined && pos >= end) break;
    if (spool.ended) throw new Error("the restore's spool file ended inside a data block");
    await once(spool.progress, "more", { signal });
  }
  await pending;
  const after = tail?.();
  if (after) await write(after);
  if (!gone) stdin.end();
}

/**
 * Sets, in the spool file's own table of contents, where each block of `batch` starts — the
 * bytes pg_dump writes when its output is a file — so a pg_restore given the spool file
 * seeks to them instead of being fed through this process. The position is written before
 * the flag: a pg_restore reading the TOC meanwhile (another loader) sees "not set" or the
 * whole position, never half of one. Answers false when an entry cannot be set.
 */
async function setPositions(fh: FileHandle, batch: Block[], entries: Map<number, TocEntry>, offSize: number): Promise<boolean> {
  for (const b of batch) {
    const e = entries.get(b.dumpId);
    if (!e) return false;
    if (!positionUnset(e)) continue;
    const field = offsetField(b.start, offSize);
    for (const [bytes, at] of [[field.subarray(1), e.offsetAt + 1], [field.subarray(0, 1), e.offsetAt]] as const) {
      const { bytesWritten } = await fh.write(bytes, 0, bytes.length, at);
      if (bytesWritten !== bytes.length) throw new Error("short write to the restore's spool file");
    }
    e.state = field[0];
  }
  return true;
}

export interface StreamedRestoreOptions {
  /** pg_restore's path. */
  bin: string;
  /** Arguments every step shares (connection, --exit-on-error, --no-owner …). */
  args: string[];
  tool: SpawnToolOptions;
  jobs: number;
  /** A private directory for the spool and list files; the caller removes it. */
  dir: string;
  signal?: AbortSignal;
  /** Small data blocks go to one loader together up to this many bytes (default 16 MiB). */
  batchBytes?: number;
  /**
   * A table's rows are cut into parts of about this many bytes, each loaded by its own
   * loader, so one big table fills every job (default 64 MiB; archives compressed inside
   * pg_dump are never cut).
   */
  splitBytes?: number;
  /**
   * Rows are cut only this many bytes into a table's block (default 0). The restore gives
   * the archive's size over `jobs`: only a table bigger than an even share of the work would
   * keep one loader busy while the others wait; cutting smaller ones only makes their
   * loaders contend for the same table (PostgreSQL 15 extends a table under one lock).
   */
  splitAfter?: number;
  /** Called when the schema is made, before any data is loaded. */
  afterSchema?: () => Promise<unknown> | void;
  /** Called when every table's data is in, before indexes and constraints. */
  onDataLoaded?: () => Promise<unknown> | void;
  /** Given, once the spool is open, the counts a heartbeat reads (live-progress.ts). */
  onProgress?: (p: LiveProgress) => void;
}

/** What the last step builds and counts for the restore's progress (decision 157). */
const BUILT = new Set(["INDEX", "CONSTRAINT", "FK CONSTRAINT"]);

/** `pg_restore --verbose --jobs` says "finished item <dumpId> <desc> <tag>" as each entry ends. */
export function finishedItem(line: string): number | null {
  const m = /^pg_restore: finished item (\d+) /.exec(line);
  return m ? Number(m[1]) : null;
}

/** pg_restore's --verbose progress lines: read for the count, not kept for a failure's reason. */
export function isVerboseLine(line: string): boolean {
  return /^pg_restore: (?:launching item|finished item|processing item|skipping item|creating |entering main parallel loop|finished main parallel loop|connecting to database|executing |processing data for table|setting owner and privileges|restoring |implied data-only restore)/.test(line);
}

/**
 * Each table's rows as the indexer counted them (decision 158); null where it counted none
 * (data compressed inside pg_dump). A table whose block it could not count is left out.
 */
export function tableRows(index: Pick<ArchiveIndex, "entries" | "rows">): TableRows[] | null {
  const data = index.entries.filter((e) => e.desc === "TABLE DATA");
  if (data.length && !index.rows.size) return null;
  return data.flatMap((e) => {
    const rows = index.rows.get(e.dumpId);
    return rows === undefined ? [] : [{ schema: e.namespace, table: e.tag, key: e.key, rows }];
  });
}

/** A part of a table's rows (decision 126): loaded alone, given its own block framing. */
const isPart = (b: { cont?: boolean; cut?: boolean }): boolean => Boolean(b.cont || b.cut);

/**
 * The blocks a loader takes from `from`: that one, then those after it whose end is known,
 * while they add up to at most `budget` bytes; the last may still be arriving.
 */
export function takeBatch<B extends { start: number; end?: number; cont?: boolean; cut?: boolean }>(blocks: B[], from: number, budget: number): B[] {
  const batch = [blocks[from]];
  if (isPart(blocks[from])) return batch;
  let bytes = blocks[from].end === undefined ? Infinity : blocks[from].end! - blocks[from].start;
  for (let i = from + 1; i < blocks.length && bytes < budget; i++) {
    const b = blocks[i];
    if (isPart(b)) break;
    const size = b.end === undefined ? 0 : b.end - b.start;
    if (b.end !== undefined && bytes + size > budget) break;
    batch.push(b);
    if (b.end === undefined) break;
    bytes += size;
  }
  return batch;
}

/**
 * The last step's entries in three runs. `pg_restore --jobs` may run two INDEX ATTACH entries
 * of a multi-level partitioned table side by side: one makes a middle index valid while the
 * other attaches its sibling to the top index, neither sees the other's work, and the top
 * index stays invalid for good (PostgreSQL 15; one run in five of the exotic-objects test).
 * Its primary key then enforces nothing at the top, and a foreign key referencing the table
 * fails: "there is no unique constraint matching given keys". So the attachments run one at
 * a time, in archive order, after everything else, and what depends on them (pg_dump makes
 * such foreign keys depend on every attachment below the index they use) after them.
 */
export function restPasses(entries: Pick<TocEntry, "dumpId" | "desc" | "deps">[]): { parallel: number[]; attach: number[]; after: number[] } {
  const attach = new Set(entries.filter((e) => e.desc === "INDEX ATTACH").map((e) => e.dumpId));
  const after = new Set<number>();
  // Archive order puts an entry after what it depends on, so one forward sweep is transitive.
  for (const e of entries) if (!attach.has(e.dumpId) && e.deps.some((d) => attach.has(d) || after.has(d))) after.add(e.dumpId);
  const ids = (keep: (id: number) => boolean) => entries.map((e) => e.dumpId).filter(keep);
  return { parallel: ids((id) => !attach.has(id) && !after.has(id)), attach: ids((id) => attach.has(id)), after: ids((id) => after.has(id)) };
}

export type StreamedRestoreResult =
  /**
   * `loaders`: how many loader runs read their blocks from the spool file, and how many were
   * fed them; `cuts`: where tables' rows were cut into parts loaded side by side.
   */
  | { streamed: true; bytes: number; loaders: { fromFile: number; fed: number }; cuts: number; rows: TableRows[] | null }
  /** Not restored: the archive is in `file`, whole, for the classic path. */
  | { streamed: false; file: string; index: ArchiveIndex; bytes: number };

export async function restoreWhileReading(input: Readable, o: StreamedRestoreOptions): Promise<StreamedRestoreResult> {
  const file = path.join(o.dir, "archive.dump");
  const headFile = path.join(o.dir, "toc.dump");
  const batchBytes = o.batchBytes ?? 16 * 1024 * 1024;
  const splitBytes = o.splitBytes ?? 64 * 1024 * 1024;
  const fh = await open(file, "w+", 0o600);
  const spool = new Spool(fh);
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const tool: SpawnToolOptions = { ...o.tool, signal };
  const running = new Set<ToolProcess>();
  let failure: Error | null = null;
  const fail = (e: unknown) => {
    failure ??= e instanceof Error ? e : new Error(String(e));
    for (const p of running) killTool(p, "SIGKILL");
    spool.fail(failure);
    stop.abort(failure);
  };
  const run = (args: string[], stdin?: (p: ToolProcess) => Promise<void>, onStderrLine?: (line: string) => boolean): Promise<void> => {
    const p = spawnTool(o.bin, args, { ...tool, stdin: stdin ? "pipe" : "ignore", onStderrLine });
    running.add(p);
    const fed = stdin ? stdin(p) : Promise.resolve();
    return Promise.all([p.exited, fed]).then(
      () => void running.delete(p),
      (e: unknown) => {
        running.delete(p);
        throw e;
      },
    );
  };

  const loaders = { fromFile: 0, fed: 0 };
  // Blocks a loader read from the spool file itself count when it exits; fed ones as they go.
  let loaded = 0;
  // Counted from pg_restore's --verbose lines in the last step (decision 157).
  let items: { made: number; of: number } | null = null;
  o.onProgress?.({ unit: "archive", read: () => spool.written, loaded: () => loaded, items: () => items && { ...items } });
  let cuts = 0;
  const blocks: Block[] = [];
  /** The archive has ended: `blocks` is complete and every end is known. */
  let allSeen = false;
  let head: Buffer | null = null;
  let tocSeen: () => void = () => {};
  const toc = new Promise<void>((r) => (tocSeen = r));
  const queued = new EventEmitter().setMaxListeners(0);
  const indexer = new ArchiveOffsetIndexer(undefined, {
    onToc(h) {
      head = Buffer.from(h);
      tocSeen();
    },
    onBlock(dumpId, start) {
      const prev = blocks[blocks.length - 1];
      if (prev) prev.end = start;
      blocks.push({ dumpId, start });
      queued.emit("block");
    },
    onSplit(dumpId, at) {
      const prev = blocks[blocks.length - 1];
      prev.end = at;
      prev.cut = true;
      blocks.push({ dumpId, start: at, cont: true });
      cuts++;
      queued.emit("block");
    },
  }, { splitBytes, splitAfter: o.splitAfter ?? 0 });

  try {
    const spooled = pipeline(input, indexer, spool, { signal }).then(
      () => {
        const last = blocks[blocks.length - 1];
        if (last && last.end === undefined) last.end = spool.written;
        allSeen = true;
        queued.emit("block");
        tocSeen();
      },
      (e: unknown) => {
        fail(e);
        allSeen = true;
        queued.emit("block");
        tocSeen();
        throw e;
      },
    );
    spooled.catch(() => undefined);

    await toc;
    if (failure) throw failure;
    if (!head) {
      // Not a format the indexer reads (it said why): spool it all for the classic path.
      await spooled;
      return { streamed: false, file, index: indexer.index(), bytes: spool.written };
    }
    const headBytes: Buffer = head;
    await writeFile(headFile, headBytes, { mode: 0o600 });
    const tocEntries = new Map(indexer.index().entries.map((e) => [e.dumpId, { ...e }]));
    const { offSize, intSize } = indexer.index();

    const work = (async () => {
      await run([...o.args, "--section=pre-data", headFile]);
      await o.afterSchema?.();
      // The loaders: each takes the next block in archive order, with the small ones
      // after it (one pg_restore per table would parse the whole TOC once per table).
      let next = 0;
      const loader = async () => {
        for (;;) {
          if (failure) return;
          if (next >= blocks.length) {
            if (allSeen) return;
            await once(queued, "block", { signal });
            continue;
          }
          const batch = takeBatch(blocks, next, batchBytes);
          next += batch.length;
          const first = batch[0];
          const last = batch[batch.length - 1];
          // Named by position: the parts of one table's rows are loaded side by side.
          const list = path.join(o.dir, `entries-${first.start}.list`);
          // In archive order: pg_restore then finds each block right after the previous one.
          await writeFile(list, batch.map((b) => `${b.dumpId}\n`).join(""), { mode: 0o600 });
          // Blocks already in the spool file are read there by pg_restore itself (one copy
          // fewer, and none through this process); a block still arriving is fed as it comes.
          if (!isPart(first) && last.end !== undefined && spool.written >= last.end && (await setPositions(fh, batch, tocEntries, offSize))) {
            loaders.fromFile++;
            await run([...o.args, `--use-list=${list}`, file]);
            loaded += last.end - first.start;
          } else {
            loaders.fed++;
            // A part of a table's rows is framed as a block of its own: the block's header
            // before it, a zero-length chunk (the block's end) after it. The last block of a
            // batch may be cut while it is fed (its end was not known when it was taken).
            const head = first.cont ? Buffer.concat([headBytes, dataBlockHeader(first.dumpId, intSize)]) : headBytes;
            const tail = () => (last.cut ? endOfBlock(intSize) : undefined);
            await run([...o.args, `--use-list=${list}`], (p) => feedRange(p, head, fh, spool, first.start, () => last.end, signal, tail, (n) => (loaded += n)));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, loader));
      await spooled;
      const index = indexer.index();
      if (index.disabled) throw new Error(`the archive's data does not match its table of contents (${index.disabled}); nothing was swapped in`);
      const withBlock = new Set(blocks.map((b) => b.dumpId));
      const missing = index.entries.filter((e) => (e.state === 1 || e.state === 2) && !withBlock.has(e.dumpId));
      if (missing.length) throw new Error(`the archive has no data for ${missing.length} of its tables (first: entry ${missing[0].dumpId}); nothing was swapped in`);
      // Every block is in; the TOC and headers between them were never "loaded" bytes.
      loaded = spool.written;
      await o.onDataLoaded?.();
      // The rest, in up to three runs (restPasses): index attachments one at a time.
      const restEntries = index.entries.filter((e) => !withBlock.has(e.dumpId));
      const passes = restPasses(restEntries);
      // The long part: indexes and constraints, counted as pg_restore finishes each.
      const built = new Set(restEntries.filter((e) => BUILT.has(e.desc)).map((e) => e.dumpId));
      const counter = { made: 0, of: built.size };
      items = counter;
      for (const [k, pass] of [passes.parallel, passes.attach, passes.after].entries()) {
        if (!pass.length) continue;
        const rest = path.join(o.dir, `rest-${k}.list`);
        await writeFile(rest, pass.map((id) => `${id}\n`).join(""), { mode: 0o600 });
        const jobs = pass === passes.attach ? 1 : o.jobs;
        const finished = new Set<number>();
        const onLine = (line: string) => {
          const id = finishedItem(line);
          if (id !== null && built.has(id) && !finished.has(id)) {
            finished.add(id);
            counter.made++;
          }
          return isVerboseLine(line);
        };
        await run([...o.args, "--verbose", ...(jobs > 1 ? [`--jobs=${jobs}`] : []), "--section=data", "--section=post-data", `--use-list=${rest}`, headFile], undefined, onLine);
        // A run that ended well made all of its own, reported or not (one job reports none).
        counter.made += pass.filter((id) => built.has(id) && !finished.has(id)).length;
      }
    })();
    await work.catch((e: unknown) => {
      fail(e);
    });
    if (failure) {
      await spooled.catch(() => undefined);
      throw failure;
    }
    return { streamed: true, bytes: spool.written, loaders, cuts, rows: tableRows(indexer.index()) };
  } finally {
    await fh.close().catch(() => undefined);
  }
}
