// Fewer, larger data chunks in a `pg_dump -Z0` archive (issue 14 §2, decision 131).
//
// With its own compression off (decision 50), pg_dump writes every row of a table's data
// as its own chunk — a 5-byte length and ~100 bytes — and pg_restore sends each chunk to
// the server as its own CopyData message: the 512 MB bench database is 1.87 million chunks,
// pgbench s50 5.06 million. Joined, `pg_restore -1` of pgbench took pg_restore 0.25–0.31
// CPU-s instead of 0.82–0.94 and the server 10.59–11.04 instead of 11.07–11.92 (decision
// 125). pg_dump's own zlib archives carry 4 KiB chunks anyway.
//
// `ChunkMerger` joins the consecutive row chunks of a table-data block that arrive within
// one piece of the stream, **in that piece's own memory**: each joined chunk keeps its
// first row's header (rewritten with the joined length) and the later rows' headers are
// squeezed out by moving the bytes after them down. The output is never longer than the
// input, so every piece leaves as one prefix of itself: no buffer is allocated per piece
// or per joined chunk. (Decision 125's first version gathered into a buffer of its own and
// sent fresh copies; the pgbench backup's peak RSS went from 172 to 321 MiB.) The caller
// gives up its pieces: they are changed in place (pg_dump's stdout chunks, read by no one
// else).
//
// What pg_restore reads out of a block — the COPY data, in order — is the same; only the
// lengths between rows change, and pg_restore does not carry those to the server. Every
// joined chunk is whole rows, so it ends with a row's newline, where the restore may cut a
// table (decision 126). A row whose header or body crosses from one piece to the next
// passes as pg_dump wrote it. The header, the TOC and large-object blocks pass untouched.
// Only what is understood is joined: an archive compressed inside pg_dump, a format
// `archiveHead` does not read, or anything unexpected in the data passes on as it came,
// from there to the end.
import { Transform, type TransformCallback } from "node:stream";
import { archiveHead, BLK_BLOBS, BLK_DATA, readArchiveInt, writeArchiveInt } from "./archive-offsets";

/** A joined chunk's bound (a piece of pg_dump's stdout is 64 KiB; the first after the TOC may be larger). */
export const MERGED_CHUNK_BYTES = 256 * 1024;

const HEAD = 0;
const BLOCK_START = 1;
const CHUNK_LEN = 2;
/** A chunk body that passes as it came (crossing pieces, or a large object's). */
const BODY = 3;
const BLOB_OID = 4;
/** Everything from here on passes as it came. */
const OFF = 5;

export interface MergeCounts {
  /** Table-data chunks read, and written. */
  chunksIn: number;
  chunksOut: number;
  /** Whether the archive's data was understood (and so joined) to its end. */
  merging: boolean;
  /** Why not, when not. */
  why: string;
}

export class ChunkMerger extends Transform {
  private state = HEAD;
  private head: Buffer[] = [];
  private headBytes = 0;
  private intSize = 4;
  private blobs = false;
  /** Bytes of a chunk body still to pass (BODY). */
  private left = 0;
  /** A block or chunk header crossing pieces: its first bytes (already passed on). */
  private readonly field = Buffer.alloc(16);
  private fieldHave = 0;
  readonly counts: MergeCounts = { chunksIn: 0, chunksOut: 0, merging: false, why: "" };

  constructor(
    private readonly maxTocBytes = 256 * 1024 * 1024,
    private readonly mergedBytes = MERGED_CHUNK_BYTES,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
    } catch (e) {
      return cb(e as Error);
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // An archive that ends inside its TOC (pg_dump failed; the backup fails on its exit
    // code) goes on as it came. Nothing else is held here.
    if (this.state === HEAD) for (const b of this.head) this.push(b);
    this.head = [];
    cb();
  }

  private consume(chunk: Buffer): void {
    if (this.state === OFF) {
      this.push(chunk);
      return;
    }
    if (this.state !== HEAD) {
      this.data(chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    const buf = this.head.length === 1 ? chunk : Buffer.concat(this.head);
    this.head = [buf];
    const head = archiveHead(buf);
    if (head === undefined) {
      if (this.headBytes > this.maxTocBytes) this.passAll("table of contents too large to read", buf);
      return;
    }
    this.head = [];
    if ("unreadable" in head) return this.passAll(head.unreadable, buf);
    if (head.compressedInside) return this.passAll("compressed inside pg_dump", buf);
    this.intSize = head.intSize;
    this.counts.merging = true;
    this.push(buf.subarray(0, head.tocEnd));
    this.state = BLOCK_START;
    if (buf.length > head.tocEnd) this.data(buf.subarray(head.tocEnd));
  }

  private passAll(why: string, rest: Buffer): void {
    this.head = [];
    this.counts.merging = false;
    this.counts.why = why;
    this.state = OFF;
    if (rest.length) this.push(rest);
  }

  /**
   * Walks one piece of the data part, compacting it towards its start: `r` reads, `w`
   * writes (w ≤ r always), and the piece leaves as `buf[0, w)`.
   */
  private data(buf: Buffer): void {
    const intSize = this.intSize;
    const intLen = 1 + intSize;
    const n = buf.length;
    let r = 0;
    let w = 0;
    /** Where the joined chunk being built starts in the output (its header), or -1. */
    let run = -1;
    let runLen = 0;
    const pass = (to: number) => {
      if (w !== r) buf.copyWithin(w, r, to);
      w += to - r;
      r = to;
    };
    const endRun = () => {
      if (run >= 0) writeArchiveInt(buf, run, runLen, intSize);
      run = -1;
    };
    while (r < n) {
      const state = this.state;
      if (state === BODY) {
        const take = Math.min(this.left, n - r);
        pass(r + take);
        this.left -= take;
        if (this.left === 0) this.state = CHUNK_LEN;
        continue;
      }
      if (state === OFF) {
        endRun();
        pass(n);
        break;
      }
      const need = state === BLOCK_START ? 1 + intLen : intLen;
      let at: Buffer;
      let p: number;
      let whole: boolean;
      if (this.fieldHave === 0 && n - r >= need) {
        at = buf;
        p = r;
        whole = true;
      } else {
        // A header crossing pieces: its bytes pass as they came, read from `field`.
        const take = Math.min(need - this.fieldHave, n - r);
        buf.copy(this.field, this.fieldHave, r, r + take);
        this.fieldHave += take;
        endRun();
        pass(r + take);
        if (this.fieldHave < need) break;
        this.fieldHave = 0;
        at = this.field;
        p = 0;
        whole = false;
      }
      if (state === BLOCK_START) {
        const type = at[p];
        if (type !== BLK_DATA && type !== BLK_BLOBS) {
          this.stop(`unexpected data block type ${type}`);
          continue;
        }
        if (whole) pass(r + need);
        this.blobs = type === BLK_BLOBS;
        this.state = this.blobs ? BLOB_OID : CHUNK_LEN;
        continue;
      }
      const v = readArchiveInt(at, p, intSize);
      if (state === BLOB_OID) {
        if (whole) pass(r + need);
        this.state = v === 0 ? BLOCK_START : CHUNK_LEN;
        continue;
      }
      // CHUNK_LEN
      if (v < 0) {
        endRun();
        this.stop("negative chunk length");
        continue;
      }
      if (v === 0) {
        endRun();
        if (whole) pass(r + need);
        this.state = this.blobs ? BLOB_OID : BLOCK_START;
        continue;
      }
      if (!this.blobs) this.counts.chunksIn++;
      if (whole && !this.blobs && r + intLen + v <= n) {
        if (run < 0 || runLen + v > this.mergedBytes) {
          endRun();
          run = w;
          runLen = v;
          this.counts.chunksOut++;
          pass(r + intLen + v);
        } else {
          // Joined: the header is dropped, the body moves down after the chunk so far.
          buf.copyWithin(w, r + intLen, r + intLen + v);
          w += v;
          r += intLen + v;
          runLen += v;
        }
        // The rows that follow, while each is whole in this piece: the loop a backup spends
        // its time in here (~5 million rows for pgbench s50), kept to one test per field.
        let joined = 0;
        for (;;) {
          const body = r + intLen;
          if (body > n || buf[r] !== 0) break;
          let len = 0;
          for (let k = intSize; k >= 1; k--) len = len * 256 + buf[r + k];
          const end = body + len;
          if (len === 0 || end > n || runLen + len > this.mergedBytes) break;
          buf.copyWithin(w, body, end);
          w += len;
          r = end;
          runLen += len;
          joined++;
        }
        this.counts.chunksIn += joined;
        continue;
      }
      // A body that crosses pieces, or a large object's: passes as it came.
      endRun();
      if (!this.blobs) this.counts.chunksOut++;
      if (whole) pass(r + need);
      this.left = v;
      this.state = BODY;
    }
    endRun();
    if (w > 0) this.push(buf.subarray(0, w));
  }

  /** Something not understood: from here to the end, the bytes pass as they came. */
  private stop(why: string): void {
    this.counts.merging = false;
    this.counts.why = why;
    this.state = OFF;
  }
}
