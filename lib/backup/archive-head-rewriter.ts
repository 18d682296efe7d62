// The archive's head rewritten as it streams in: decision 152's extension versions
// (extension-versions.ts) and decision 201's extensions left out (pinned-extensions.ts).
import { Transform, type TransformCallback } from "node:stream";
import { readArchiveHead, type ArchiveHead } from "./archive-offsets";

/**
 * A pass-through stream for a custom-format archive that rewrites its head. It holds the bytes
 * back until the table of contents has gone by (the first few kilobytes to megabytes), gives
 * them to `rewrite`, and passes everything after unchanged. An archive it does not read is
 * passed as it came, `skipped` saying why. Inactive, it passes every chunk straight on.
 */
export abstract class ArchiveHeadRewriter extends Transform {
  skipped: string | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private passing: boolean;

  constructor(
    active: boolean,
    private readonly maxHeadBytes = 256 * 1024 * 1024,
  ) {
    super();
    this.passing = !active;
  }

  /** The head's bytes (`buf`: the table of contents and what followed it so far) as they go on. */
  protected abstract rewrite(buf: Buffer, head: ArchiveHead): Buffer;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.passing) return cb(null, chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const buf = Buffer.concat(this.held);
    this.held = [buf];
    const head = readArchiveHead(buf);
    if (head === null) {
      if (this.heldBytes > this.maxHeadBytes) this.passOn(buf, "table of contents too large to read", cb);
      else cb();
      return;
    }
    if ("disabled" in head) return this.passOn(buf, head.disabled, cb);
    this.passOn(this.rewrite(buf, head), null, cb);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.passing) {
      // Ended inside the head: pg_restore will say what is wrong with it.
      this.passOn(Buffer.concat(this.held), "the archive ended inside its table of contents", cb);
      return;
    }
    cb();
  }

  private passOn(buf: Buffer, why: string | null, cb: TransformCallback): void {
    if (why) this.skipped = why;
    this.passing = true;
    this.held = [];
    cb(null, buf.length ? buf : undefined);
  }
}
