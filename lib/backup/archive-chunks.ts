// Fewer, larger data chunks in a `pg_dump -Z0` archive (issue 14 §2, decision 125).
//
// With its own compression off (decision 50), pg_dump writes every row of a table's data
// as its own chunk — a length and ~100 bytes — and pg_restore sends each chunk to the
// server as its own CopyData message. The 512 MB bench database is 1.87 million chunks,
// pgbench s50 5.06 million. Merged into chunks of up to 64 KiB, `pg_restore -1` of pgbench
// took pg_restore 0.25–0.31 CPU-s instead of 0.82–0.94 and the server 10.59–11.04 instead
// of 11.07–11.92 (3 alternating rounds). pg_dump's zlib archives carry 4 KiB chunks anyway.
//
// `ChunkMerger` passes the archive on with each data block's consecutive chunks joined up
// to MERGED_CHUNK_BYTES. The bytes pg_restore reads out of a block — the COPY data, in
// order — are the same; only the chunk lengths between them change, and pg_restore does
// not carry those to the server (it sends each chunk as it comes; zlib archives cut rows
// anywhere). The header, the TOC and large-object blocks pass untouched. It merges only
// what it understands: an archive compressed inside pg_dump, a format this file does not
// read, or anything unexpected in the data passes on as it came, from there to the end.
// Memory: one merged chunk, in one buffer reused for the whole archive; a chunk already
// that large passes through, not held.
import { Transform, type TransformCallback } from "node:stream";
import { archiveHead, archiveInt, BLK_BLOBS, BLK_DATA } from "./archive-offsets";

export const MERGED_CHUNK_BYTES = 64 * 1024;

const HEAD = 0;
const BLOCK_START = 1;
const CHUNK_LEN = 2;
/** A small chunk's body: gathered into the merged chunk. */
const CHUNK_BODY = 3;
/** A chunk at least MERGED_CHUNK_BYTES long: its body passes through. */
const CHUNK_PASS = 4;
/** Inside a large-objects block: passed through, headers walked. */
const BLOB_OID = 5;
const BLOB_LEN = 6;
const BLOB_BODY = 7;
/** Everything from here on passes as it came. */
const OFF = 8;

export class ChunkMerger extends Transform {
  private state = HEAD;
  private head: Buffer[] = [];
  private headBytes = 0;
  private intSize = 4;
  /** Bytes of a chunk body still to come. */
  private left = 0;
  /** The merged chunk being filled: `intLen` bytes for its length, then bodies. */
  private acc: Buffer = EMPTY;
  private accLen = 0;
  /** Of `accLen`, the bodies complete so far (the rest is the body in progress). */
  private accDone = 0;
  /** The header of the small chunk whose body is in progress. */
  private pendingLen = 0;
  /** A block or chunk header split across input chunks. */
  private carry: Buffer = EMPTY;
  private out: Buffer[] = [];
  /** What was merged, for the manifest and tests. */
  readonly counts = { chunksIn: 0, chunksOut: 0, merging: false, why: "" };

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
    this.flushOut();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // An archive that ends inside a block (pg_dump failed; the backup fails on its exit
    // code): what was gathered goes out as it came — complete bodies as one chunk, the one
    // in progress with its own header — so the output is cut where the input was.
    if (this.state === HEAD) this.passHead();
    else if (this.state === CHUNK_LEN || this.state === CHUNK_BODY) this.emitAcc(true);
    if (this.carry.length) this.out.push(this.carry);
    this.carry = EMPTY;
    this.flushOut();
    cb();
  }

  private flushOut(): void {
    // Each piece as it is: joining them would copy every merged chunk once more.
    for (const b of this.out) this.push(b);
    this.out = [];
  }

  private passHead(): void {
    for (const b of this.head) this.out.push(b);
    this.head = [];
  }

  private giveUp(why: string, rest: Buffer): void {
    if (this.state === CHUNK_LEN || this.state === CHUNK_BODY) this.emitAcc(true);
    this.counts.merging = false;
    this.counts.why = why;
    this.state = OFF;
    if (rest.length) this.out.push(rest);
  }

  private consume(chunk: Buffer): void {
    if (this.state === OFF) {
      this.out.push(chunk);
      return;
    }
    if (this.state === HEAD) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const buf = this.head.length === 1 ? chunk : Buffer.concat(this.head);
      this.head = [buf];
      const head = archiveHead(buf);
      if (head === undefined) {
        if (this.headBytes > this.maxTocBytes) {
          this.passHead();
          this.state = OFF;
          this.counts.why = "table of contents too large to read";
        }
        return;
      }
      this.head = [];
      if ("unreadable" in head || head.compressedInside) {
        this.counts.why = "unreadable" in head ? head.unreadable : "compressed inside pg_dump";
        this.state = OFF;
        this.out.push(buf);
        return;
      }
      this.intSize = head.intSize;
      this.counts.merging = true;
      this.out.push(buf.subarray(0, head.tocEnd));
      this.state = BLOCK_START;
      this.data(buf.subarray(head.tocEnd));
      return;
    }
    this.data(chunk);
  }

  /**
   * The gathering buffer is allocated once and reused: each merged chunk leaves as a fresh
   * copy that the codec is done with within milliseconds. A buffer per merged chunk, kept
   * here while it filled, lived long enough to reach V8's old generation, and only full
   * collections freed those: the pgbench backup's peak RSS went from 172 to 321–326 MiB.
   */
  private newAcc(): void {
    if (!this.acc.length) this.acc = Buffer.allocUnsafe(1 + this.intSize + this.mergedBytes);
    this.accLen = 0;
    this.accDone = 0;
  }

  /** Sends the merged chunk; `cut`: the archive stops here, a body in progress keeps its own header. */
  private emitAcc(cut = false): void {
    const intLen = 1 + this.intSize;
    const done = cut ? this.accDone : this.accLen;
    if (done > 0) {
      const merged = Buffer.allocUnsafe(intLen + done);
      writeInt(merged, 0, done, this.intSize);
      this.acc.copy(merged, intLen, intLen, intLen + done);
      this.out.push(merged);
      this.counts.chunksOut++;
    }
    if (cut && this.accLen > done) {
      const rest = Buffer.allocUnsafe(intLen + this.accLen - done);
      writeInt(rest, 0, this.pendingLen, this.intSize);
      this.acc.copy(rest, intLen, intLen + done, intLen + this.accLen);
      this.out.push(rest);
    }
    if (done > 0 || cut) this.newAcc();
  }

  /** Walks the data blocks, merging chunks; pass-through parts go out as subarrays of `chunk`. */
  private data(chunk: Buffer): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    const intSize = this.intSize;
    const intLen = 1 + intSize;
    const readInt = (at: number) => archiveInt(buf, at, intSize);
    const n = buf.length;
    let i = 0;
    /** Start of bytes that pass through unchanged and have not been pushed yet. */
    let passFrom = -1;
    const pass = (from: number) => {
      if (passFrom < 0) passFrom = from;
    };
    const endPass = (to: number) => {
      if (passFrom >= 0 && to > passFrom) this.out.push(buf.subarray(passFrom, to));
      passFrom = -1;
    };
    // A body or a large-objects block passing through continues from the last chunk.
    if (this.state === CHUNK_PASS || this.state >= BLOB_OID) pass(0);
    while (i < n) {
      const state = this.state;
      if (state === CHUNK_BODY) {
        const take = Math.min(this.left, n - i);
        buf.copy(this.acc, intLen + this.accLen, i, i + take);
        this.accLen += take;
        this.left -= take;
        i += take;
        if (this.left === 0) {
          this.accDone = this.accLen;
          this.state = CHUNK_LEN;
        }
      } else if (state === CHUNK_LEN) {
        if (n - i < intLen) break;
        const len = readInt(i);
        if (len < 0) {
          endPass(i);
          return this.giveUp(`negative chunk length`, buf.subarray(i));
        }
        this.counts.chunksIn += len > 0 ? 1 : 0;
        if (len === 0) {
          this.emitAcc();
          pass(i);
          i += intLen;
          this.state = BLOCK_START;
        } else if (len >= this.mergedBytes) {
          this.emitAcc();
          pass(i);
          i += intLen;
          this.left = len;
          this.state = CHUNK_PASS;
          this.counts.chunksOut++;
        } else {
          if (this.accLen + len > this.mergedBytes) this.emitAcc();
          i += intLen;
          this.left = len;
          this.pendingLen = len;
          this.state = CHUNK_BODY;
        }
      } else if (state === CHUNK_PASS || state === BLOB_BODY) {
        const take = Math.min(this.left, n - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = state === CHUNK_PASS ? CHUNK_LEN : BLOB_LEN;
        if (this.state === CHUNK_LEN) endPass(i);
      } else if (state === BLOCK_START) {
        if (n - i < 1 + intLen) break;
        const type = buf[i];
        if (type !== BLK_DATA && type !== BLK_BLOBS) {
          endPass(i);
          return this.giveUp(`unexpected data block type ${type}`, buf.subarray(i));
        }
        pass(i);
        i += 1 + intLen;
        if (type === BLK_DATA) {
          endPass(i);
          if (!this.acc.length) this.newAcc();
          this.state = CHUNK_LEN;
        } else this.state = BLOB_OID;
      } else if (state === BLOB_OID) {
        if (n - i < intLen) break;
        const oid = readInt(i);
        i += intLen;
        this.state = oid === 0 ? BLOCK_START : BLOB_LEN;
      } else if (state === BLOB_LEN) {
        if (n - i < intLen) break;
        const len = readInt(i);
        i += intLen;
        if (len < 0) {
          endPass(i - intLen);
          return this.giveUp(`negative chunk length`, buf.subarray(i - intLen));
        }
        this.left = len;
        this.state = len === 0 ? BLOB_OID : BLOB_BODY;
      }
    }
    endPass(i);
    // Keep a split header for the next chunk.
    if (i < n) this.carry = Buffer.from(buf.subarray(i));
  }
}

const EMPTY = Buffer.alloc(0);

function writeInt(b: Buffer, at: number, v: number, intSize: number): void {
  b[at] = 0;
  for (let k = 1; k <= intSize; k++) {
    b[at + k] = v % 256;
    v = Math.floor(v / 256);
  }
}
