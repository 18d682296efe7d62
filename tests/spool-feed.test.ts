// feedRange (lib/backup/streamed-restore.ts): a loader fed while the spool still grows.
// The indexer runs ahead of the spool file, so a block's end is often known before the
// bytes up to it are written. CI found a restore failing "the restore's spool file is
// shorter than what was written to it" when the feeder read up to that end at once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { feedRange, Spool } from "../lib/backup/streamed-restore";
import type { ToolProcess } from "../lib/backup/pg-process";
import { waitFor } from "./support/wait";

let dir: string;
let fh: FileHandle;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vl-feed-"));
  fh = await open(path.join(dir, "archive.dump"), "w+", 0o600);
});
afterEach(async () => {
  await fh.close();
  await rm(dir, { recursive: true, force: true });
});

/** A tool whose stdin is collected. */
function collector(): { p: ToolProcess; got: () => Buffer; ended: Promise<void> } {
  const stdin = new PassThrough();
  const parts: Buffer[] = [];
  // A copy: feedRange reuses its read buffers once a write has gone (a pipe has copied it).
  stdin.on("data", (d: Buffer) => parts.push(Buffer.from(d)));
  const ended = new Promise<void>((r) => stdin.on("end", () => r()));
  const p = { child: { stdin }, exited: Promise.resolve(), stderrTail: () => "" } as unknown as ToolProcess;
  return { p, got: () => Buffer.concat(parts), ended };
}

const write = (spool: Spool, b: Buffer) => new Promise<void>((r, j) => spool.write(b, (e) => (e ? j(e) : r())));
const tick = () => new Promise((r) => setTimeout(r, 20));

describe("feeding a loader from the spool file while it grows", () => {
  it("waits for bytes the indexer has seen but the spool has not yet written", async () => {
    const spool = new Spool(fh);
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 251));
    await write(spool, bytes.subarray(0, 100));
    const { p, got, ended } = collector();
    // The block is [40, 250): its end is known, the spool holds only 100 bytes of it.
    const feeding = feedRange(p, Buffer.from("HEAD"), fh, spool, 40, () => 250, new AbortController().signal);
    // Polled, not slept on: the feeder has sent what the spool holds.
    await waitFor(async () => got().length >= 4 + 60, 5_000, 5);
    expect(got().subarray(4)).toEqual(bytes.subarray(40, 100));
    await write(spool, bytes.subarray(100, 180));
    await tick();
    await write(spool, bytes.subarray(180));
    await feeding;
    await ended;
    expect(got()).toEqual(Buffer.concat([Buffer.from("HEAD"), bytes.subarray(40, 250)]));
  });

  it("the last block ends with the archive", async () => {
    const spool = new Spool(fh);
    const { p, got, ended } = collector();
    const feeding = feedRange(p, Buffer.alloc(0), fh, spool, 10, () => undefined, new AbortController().signal);
    await write(spool, Buffer.alloc(64, 7));
    await tick();
    await write(spool, Buffer.alloc(36, 9));
    spool.end();
    await feeding;
    await ended;
    expect(got()).toEqual(Buffer.concat([Buffer.alloc(54, 7), Buffer.alloc(36, 9)]));
  });

  it("fails, not hangs, when the spool ends before the block's known end", async () => {
    const spool = new Spool(fh);
    const { p } = collector();
    await write(spool, Buffer.alloc(50, 1));
    const feeding = feedRange(p, Buffer.alloc(0), fh, spool, 0, () => 80, new AbortController().signal);
    spool.end();
    await expect(feeding).rejects.toThrow(/ended inside a data block/);
  });
});
