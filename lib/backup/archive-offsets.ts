// Data offsets for a custom-format archive that was written to a pipe (issue 14 §2).
//
// pg_dump writes each table's data as a block after the table of contents, and when its
// output is a file it goes back and writes every block's position into the TOC. Our
// backups stream pg_dump's stdout, so the TOC says "position not set" for every block.
// `pg_restore --jobs` then has each worker walk the archive block header by block header to
// find the table it was given — with `-Z0` (compression outside pg_dump, decision 50) every
// row is its own small block. A 400 MB archive restored with `--jobs=2` in 18.5–22.3 s
// from the piped archive against 12.0–14.6 s from the same archive written by `pg_dump -f`
// (same machine, alternating runs).
//
// The swap restore spools the archive to a file anyway (`--jobs` needs one). While
// spooling, `ArchiveOffsetIndexer` reads the header and TOC and notes where each data block
// starts; `writeDataOffsets` then writes those positions into the spooled file's TOC, in
// the same bytes pg_dump itself would have written. Anything unexpected — a format version
// not listed here, a block for an unknown entry, a stream that ends early — disables the
// patch and leaves the file exactly as received: pg_restore still reads it, only slower.
//
// Format (pg_backup_archiver.c, pg_backup_custom.c, versions 1.14–1.15 = PostgreSQL
// 12–16): an int is a sign byte and `intSize` little-endian bytes; a string is an int length
// (-1 = NULL) and bytes; an offset is a flag byte (1 not set, 2 set, 3 no data) and
// `offSize` little-endian bytes.
import { Transform, type TransformCallback } from "node:stream";
import { open } from "node:fs/promises";

const K_OFFSET_POS_NOT_SET = 1;
const K_OFFSET_POS_SET = 2;
const BLK_DATA = 1;
const BLK_BLOBS = 3;

const version = (maj: number, min: number, rev = 0) => (maj << 16) | (min << 8) | rev;
// 1.14 (PostgreSQL 12, table access methods) to 1.15 (16, compression algorithm byte).
// Later formats add TOC fields; until they are read here, their archives are left alone.
const V_MIN = version(1, 14);
const V_MAX = version(1, 15, 255);

class NeedMore extends Error {}

/** Sequential reads from a growing buffer; throws NeedMore when it runs out. */
class Reader {
  pos = 0;
  intSize = 4;
  constructor(readonly buf: Buffer) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new NeedMore();
    return this.buf[this.pos++];
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new NeedMore();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  int(): number {
    const sign = this.byte();
    let v = 0;
    for (let i = 0; i < this.intSize; i++) v += this.byte() * 2 ** (8 * i);
    return sign ? -v : v;
  }
  str(): void {
    const n = this.int();
    if (n > 0) this.bytes(n);
  }
  /** A string's text; null for the NULL string (length -1). */
  text(): string | null {
    return this.raw()?.toString("utf8") ?? null;
  }

  /** A string's bytes as the archive has them: in the database's encoding. */
  raw(): Buffer | null {
    const n = this.int();
    if (n < 0) return null;
    return n > 0 ? this.bytes(n) : Buffer.alloc(0);
  }
}

export interface TocEntry {
  dumpId: number;
  /** Position of the entry's offset flag byte in the file. */
  offsetAt: number;
  state: number;
  /** What the entry makes: "TABLE", "TABLE DATA", "INDEX", "CONSTRAINT", "FK CONSTRAINT"… */
  desc: string;
  /** The dump ids this entry depends on. */
  deps: number[];
  /** The object's name: an extension's own name for an EXTENSION entry, the table's for TABLE DATA. */
  tag: string;
  /** The object's schema; null for objects outside one. */
  namespace: string | null;
  /**
   * Schema and name as the archive's bytes, hex, `<schema>.<name>`: the database's own
   * encoding (a LATIN1 database's "Bücher" is not the UTF-8 `tag`), for matching on the server.
   */
  key: string;
}

// Parser states; numbers, not objects: the data part has a header per row.
const HEAD = 0;
const BLOCK_START = 1;
const CHUNK_LEN = 2;
const CHUNK_DATA = 3;
const BLOB_OID = 4;
const OFF = 5;

export interface ArchiveIndex {
  offSize: number;
  /** Bytes of an int after its sign byte (block and chunk headers are ints). */
  intSize: number;
  entries: TocEntry[];
  /** dumpId → position of its data block's type byte. */
  blocks: Map<number, number>;
  /** Why no offsets will be written, when so. */
  disabled?: string;
  /**
   * Rows of each TABLE DATA entry, counted as its block went by, in an archive whose data
   * pg_dump did not compress: pg_dump -Z0 writes a chunk per row (decision 158). Absent for
   * compressed archives and for a block with a chunk that does not end a row.
   */
  rows: Map<number, number>;
}

/** Told as the archive goes by (streamed-restore.ts restores while it arrives). */
export interface IndexerHooks {
  /** The header and table of contents, whole: the archive's first `head.length` bytes. */
  onToc?(head: Buffer): void;
  /** A data block starts at file position `start` (its type byte). */
  onBlock?(dumpId: number, start: number): void;
  /**
   * A table's rows may be cut at file position `at` (a chunk header): at least
   * `splitAfter` bytes into the block and `splitBytes` since its start or the last cut (the
   * indexer's options), in an archive whose data is not compressed inside it, right after a
   * chunk ending a row.
   */
  onSplit?(dumpId: number, at: number): void;
}

/**
 * The archive's two fixed-width fields: a leading byte, then `v` in `size` bytes, least
 * significant first — an int (sign byte; pg_backup_archiver.c, WriteInt) or an offset
 * (flag byte; WriteOffset).
 */
function field(lead: number, v: number, size: number): Buffer {
  const b = Buffer.alloc(1 + size);
  b[0] = lead;
  for (let k = 0; k < size; k++) {
    b[1 + k] = v % 256;
    v = Math.floor(v / 256);
  }
  return b;
}

/** A block header's entry id or a chunk length as the archive writes them. */
export function archiveInt(v: number, intSize: number): Buffer {
  return field(v < 0 ? 1 : 0, Math.abs(v), intSize);
}

/** What a data block with its rows cut short ends with: a zero-length chunk. */
export const endOfBlock = (intSize: number): Buffer => archiveInt(0, intSize);
/** The header a data block of entry `dumpId` starts with. */
export const dataBlockHeader = (dumpId: number, intSize: number): Buffer => Buffer.concat([Buffer.from([BLK_DATA]), archiveInt(dumpId, intSize)]);

/** A TOC entry with what a rewrite of the head needs (extension-versions.ts). */
export interface HeadEntry extends TocEntry {
  /** Where the entry's "has data" int is, in the head (pinned-extensions.ts sets it to 0). */
  hadDumperAt: number;
  /** Where the entry's defn string starts (its length int) and ends, in the head. */
  defnAt: number;
  defnEnd: number;
  /** The entry's SQL as the archive's bytes (the database's encoding); null for none. */
  defn: Buffer | null;
  /** The object's owner; null for none. */
  owner: string | null;
}

export interface ArchiveHead {
  intSize: number;
  offSize: number;
  /** Data compressed inside pg_dump (zlib, lz4, zstd): its chunks are pieces of one stream. */
  compressed: boolean;
  /** Where the data starts: the header and TOC are the first `tocEnd` bytes. */
  tocEnd: number;
  entries: HeadEntry[];
}

/**
 * Reads a custom-format archive's header and table of contents from its first bytes: null
 * while `buf` holds only part of them, `{ disabled }` for an archive not read here.
 */
export function readArchiveHead(buf: Buffer): ArchiveHead | { disabled: string } | null {
  try {
    return parseArchiveHead(new Reader(buf));
  } catch (e) {
    if (e instanceof NeedMore) return null;
    throw e;
  }
}

function parseArchiveHead(r: Reader): ArchiveHead | { disabled: string } {
  if (r.bytes(5).toString("latin1") !== "PGDMP") return { disabled: "not a custom-format archive" };
  const vmaj = r.byte();
  const vmin = r.byte();
  const vrev = r.byte();
  const v = version(vmaj, vmin, vrev);
  if (v < V_MIN || v > V_MAX) return { disabled: `archive format ${vmaj}.${vmin}.${vrev} is not one this indexer knows` };
  const intSize = (r.intSize = r.byte());
  const offSize = r.byte();
  const format = r.byte();
  if (format !== 1) return { disabled: `archive format code ${format} is not custom` };
  if (offSize < 1 || offSize > 8 || intSize < 1 || intSize > 8) return { disabled: "unexpected int or offset size" };
  // The compression algorithm (1.15) or zlib level (before): 0 is none.
  const compressed = (v >= version(1, 15) ? r.byte() : r.int()) !== 0;
  for (let i = 0; i < 7; i++) r.int(); // creation time
  r.str(); // database name
  r.str(); // server version
  r.str(); // pg_dump version
  const n = r.int();
  const entries: HeadEntry[] = [];
  for (let i = 0; i < n; i++) {
    const dumpId = r.int();
    const hadDumperAt = r.pos;
    r.int(); // hadDumper
    r.str(); // tableoid
    r.str(); // oid
    const tagBytes = r.raw() ?? Buffer.alloc(0);
    const tag = tagBytes.toString("utf8");
    const desc = r.text() ?? "";
    r.int(); // section
    const defnAt = r.pos;
    const defn = r.raw();
    const defnEnd = r.pos;
    r.str(); // dropStmt
    r.str(); // copyStmt
    const namespaceBytes = r.raw();
    const namespace = namespaceBytes?.toString("utf8") ?? null;
    r.str(); // tablespace
    r.str(); // tableam
    const owner = r.text();
    r.str(); // "false" (WITH OIDS, no longer supported)
    const deps: number[] = [];
    for (let d = r.text(); d !== null; d = r.text()) deps.push(Number(d)); // up to a NULL
    const offsetAt = r.pos;
    const state = r.byte();
    r.bytes(offSize);
    // A misread field would show here first: the flag is 1, 2 or 3 in every entry.
    if (state < 1 || state > 3) return { disabled: `entry ${i + 1} of ${n} has offset flag ${state}: table of contents not understood` };
    const key = `${namespaceBytes?.toString("hex") ?? ""}.${tagBytes.toString("hex")}`;
    entries.push({ dumpId, offsetAt, state, desc, deps, tag, hadDumperAt, defnAt, defnEnd, defn, owner, namespace, key });
  }
  return { intSize, offSize, compressed, tocEnd: r.pos, entries };
}

/**
 * A pass-through stream that indexes a custom-format archive as it goes by. Bytes are
 * passed on unchanged; `index()` after the end says what `writeDataOffsets` may write.
 */
export class ArchiveOffsetIndexer extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private pos = 0; // file position of the next byte not yet consumed by the data parser
  private state = HEAD;
  private why = "";
  /** Bytes of chunk body still to skip (CHUNK_DATA). */
  private left = 0;
  /** Inside a large-objects block: a chunk list ends with an oid, not a block. */
  private blobs = false;
  private intSize = 4;
  private offSize = 8;
  /** Compression inside pg_dump: its chunks are pieces of a zlib/lz4/zstd stream, never cut. */
  private compressed = true;
  /** Table data (not large objects) of `dumpId`, in an uncompressed archive, cut every `splitBytes`. */
  private splitting = false;
  private dumpId = 0;
  private blockStart = 0;
  private pieceStart = 0;
  /** The last chunk read ended with a newline: in COPY text, always the end of a row. */
  private rowEnd = false;
  private readonly splitBytes: number;
  private readonly splitAfter: number;
  private entries: TocEntry[] = [];
  private blocks = new Map<number, number>();
  private known = new Set<number>();
  /** Rows of the table data block being read: its chunks, each ending a row; -1 once one does not. */
  private rowCount = 0;
  /** The current chunk's first bytes (up to two, big-endian) and how many of them are read. */
  private lead = 0;
  private leadBytes = 0;
  private rows = new Map<number, number>();
  private tableData = new Set<number>();
  // Bytes of a block/chunk header split across chunks.
  private carry: Buffer = Buffer.alloc(0);

  /** The TOC is read whole before data; a TOC above this is not indexed (and not patched). */
  constructor(
    private readonly maxTocBytes = 256 * 1024 * 1024,
    private readonly hooks: IndexerHooks = {},
    /** Where `hooks.onSplit` is told of cuts: every `splitBytes` of a table's rows (0: never), from `splitAfter` bytes into its block on. */
    split: { splitBytes?: number; splitAfter?: number } = {},
  ) {
    super();
    this.splitBytes = split.splitBytes ?? 0;
    this.splitAfter = split.splitAfter ?? 0;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
    } catch (e) {
      this.giveUp(`indexer error: ${(e as Error).message}`);
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.state === HEAD) this.giveUp("the archive ended inside its table of contents");
    else if (this.state !== OFF && this.state !== BLOCK_START) this.giveUp("the archive ended inside a data block");
    else if (this.state === BLOCK_START && this.carry.length) this.giveUp("the archive ended inside a block header");
    cb();
  }

  index(): ArchiveIndex {
    const disabled = this.state === OFF ? this.why : undefined;
    return { offSize: this.offSize, intSize: this.intSize, entries: this.entries, blocks: this.blocks, disabled, rows: this.rows };
  }

  private consume(chunk: Buffer): void {
    if (this.state === OFF) return;
    if (this.state === HEAD) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const buf = Buffer.concat(this.head);
      this.head = [buf];
      let tocEnd: number;
      try {
        tocEnd = this.parseHead(buf);
      } catch (e) {
        if (e instanceof NeedMore) {
          if (this.headBytes > this.maxTocBytes) this.giveUp("table of contents too large to index");
          return;
        }
        throw e;
      }
      if ((this.state as number) === OFF) return;
      this.head = [];
      this.pos = tocEnd;
      this.state = BLOCK_START;
      this.hooks.onToc?.(buf.subarray(0, tocEnd));
      this.data(buf.subarray(tocEnd));
      return;
    }
    this.data(chunk);
  }

  /** Parses header and TOC; answers where the data starts. */
  private parseHead(buf: Buffer): number {
    const head = readArchiveHead(buf);
    if (!head) throw new NeedMore();
    if ("disabled" in head) return this.disable(head.disabled);
    this.intSize = head.intSize;
    this.offSize = head.offSize;
    this.compressed = head.compressed;
    this.entries = head.entries.map(({ dumpId, offsetAt, state, desc, deps, tag, namespace, key }) => ({ dumpId, offsetAt, state, desc, deps, tag, namespace, key }));
    for (const e of this.entries) if (e.state === K_OFFSET_POS_NOT_SET || e.state === K_OFFSET_POS_SET) this.known.add(e.dumpId);
    for (const e of this.entries) if (e.desc === "TABLE DATA") this.tableData.add(e.dumpId);
    return head.tocEnd;
  }

  private disable(why: string): number {
    this.giveUp(why);
    return 0;
  }

  private giveUp(why: string): void {
    this.state = OFF;
    this.why = why;
  }

  /** Walks block and chunk headers; skips chunk bodies without copying them. */
  private data(chunk: Buffer): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.pos - this.carry.length; // file position of buf[0]
    const intSize = this.intSize;
    const intLen = 1 + intSize;
    const readInt = (at: number) => {
      let v = 0;
      for (let k = intSize; k >= 1; k--) v = v * 256 + buf[at + k];
      return buf[at] ? -v : v;
    };
    const n = buf.length;
    let i = 0;
    while (i < n) {
      const state = this.state;
      if (state === CHUNK_DATA) {
        // The chunk's first two bytes, read in place: `\.` opens pg_dump's end-of-data marker.
        if (this.leadBytes < 2) {
          const take = Math.min(2 - this.leadBytes, this.left, n - i);
          for (let k = 0; k < take; k++) this.lead = (this.lead << 8) | buf[i + k];
          this.leadBytes += take;
        }
        const avail = n - i;
        if (this.left <= avail) {
          i += this.left;
          this.left = 0;
          this.state = CHUNK_LEN;
          this.rowEnd = buf[i - 1] === 0x0a;
          // A row ends in a newline; pg_dump's end-of-data marker ("\\.\n\n\n") is no row. A row's
          // own text never starts with `\.`: COPY writes a backslash in a value as `\\`.
          const marker = this.leadBytes === 2 && this.lead === END_OF_DATA_LEAD;
          if (this.rowCount >= 0 && !marker) this.rowCount = this.rowEnd ? this.rowCount + 1 : -1;
        } else {
          this.left -= avail;
          i = n;
        }
      } else if (state === CHUNK_LEN) {
        if (n - i < intLen) break;
        const len = readInt(i);
        if (len > 0 && this.splitting && this.rowEnd && base + i - this.pieceStart >= this.splitBytes && base + i - this.blockStart >= this.splitAfter) {
          this.pieceStart = base + i;
          this.hooks.onSplit?.(this.dumpId, base + i);
        }
        i += intLen;
        if (len > 0) {
          this.left = len;
          this.lead = this.leadBytes = 0;
          this.state = CHUNK_DATA;
        } else if (len === 0) {
          // The block's end: its rows are known, if every chunk ended one.
          if (!this.blobs && !this.compressed && this.rowCount >= 0 && this.tableData.has(this.dumpId)) this.rows.set(this.dumpId, this.rowCount);
          this.state = this.blobs ? BLOB_OID : BLOCK_START;
        }
        else return this.giveUp(`negative chunk length at byte ${base + i - intLen}`);
      } else if (state === BLOCK_START) {
        if (n - i < 1 + intLen) break;
        const type = buf[i];
        const dumpId = readInt(i + 1);
        if ((type !== BLK_DATA && type !== BLK_BLOBS) || !this.known.has(dumpId) || this.blocks.has(dumpId)) {
          return this.giveUp(`unexpected data block (type ${type}, entry ${dumpId}) at byte ${base + i}`);
        }
        this.blocks.set(dumpId, base + i);
        this.hooks.onBlock?.(dumpId, base + i);
        this.dumpId = dumpId;
        this.blockStart = this.pieceStart = base + i;
        this.rowEnd = false;
        this.rowCount = 0;
        this.splitting = type === BLK_DATA && !this.compressed && this.splitBytes > 0 && this.hooks.onSplit !== undefined;
        i += 1 + intLen;
        this.blobs = type === BLK_BLOBS;
        this.state = this.blobs ? BLOB_OID : CHUNK_LEN;
      } else if (state === BLOB_OID) {
        if (n - i < intLen) break;
        const oid = readInt(i);
        i += intLen;
        this.state = oid === 0 ? BLOCK_START : CHUNK_LEN;
      } else return;
    }
    // Keep a split header for the next chunk.
    this.carry = i < n ? Buffer.from(buf.subarray(i)) : EMPTY;
    this.pos = base + n;
  }
}

const EMPTY = Buffer.alloc(0);
/** `\.`, the first two bytes of the end-of-data marker pg_dump writes after a table's rows. */
const END_OF_DATA_LEAD = 0x5c2e;

/**
 * A TOC entry's offset field saying "data at `position`": the flag byte, then the position
 * in `offSize` bytes, least significant first (pg_backup_archiver.c, WriteOffset).
 */
export function offsetField(position: number, offSize: number): Buffer {
  return field(K_OFFSET_POS_SET, position, offSize);
}

/** Whether pg_dump left this entry's data position unset (its archive went to a pipe). */
export function positionUnset(e: TocEntry): boolean {
  return e.state === K_OFFSET_POS_NOT_SET;
}

/**
 * Writes the indexed data positions into the archive file's TOC, as `pg_dump -f` would
 * have. Answers how many entries were set, or the reason nothing was written. Only entries
 * whose offset was "not set" are touched, and only when every such entry's block was seen.
 */
export async function writeDataOffsets(file: string, index: ArchiveIndex): Promise<{ written: number } | { skipped: string }> {
  if (index.disabled) return { skipped: index.disabled };
  const todo = index.entries.filter((e) => e.state === K_OFFSET_POS_NOT_SET);
  if (!todo.length) return { written: 0 };
  const missing = todo.filter((e) => !index.blocks.has(e.dumpId));
  // pg_dump leaves an entry "not set" without a block only when the dump failed midway.
  if (missing.length) return { skipped: `no data block for ${missing.length} entries (first: ${missing[0].dumpId})` };
  const fh = await open(file, "r+");
  try {
    for (const e of todo) {
      const field = offsetField(index.blocks.get(e.dumpId)!, index.offSize);
      await fh.write(field, 0, field.length, e.offsetAt);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { written: todo.length };
}
