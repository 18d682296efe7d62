// A multipart upload whose parts wait on disk, not in memory. lib-storage holds each part
// in a fresh Buffer while it fills and while it is sent; a sent part is garbage that V8
// frees only at its next full GC, which external memory triggers only after it has grown
// by ~64 MB, so 8 MiB parts floated the backup process ~60 MB above the local one
// (docs/operations.md "Worker memory", decision 107), and the hundreds-of-MiB parts of a
// multi-terabyte database would not fit at all (storage/part-size.ts). Here one part fills
// a temp file while up to queueSize earlier ones go up, each from its own file in 64 KiB
// reads that die young: memory stays at a few stream buffers, disk at queueSize + 1
// parts. Every part but the last has exactly partSize bytes. The files hold the stored
// bytes, which are already encrypted.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createReadStream } from "node:fs";
import { mkdtemp, open, readdir, rm, stat, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";

export interface SpooledUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  partSize: number;
  /** Parts in flight at once (default 1); disk holds one more, the part being filled. */
  queueSize?: number;
  contentType?: string;
  /** Where parts wait; default the OS temp dir. */
  spoolDir?: string;
  /** Attempts per part; each re-reads the part's file from the start. */
  partAttempts?: number;
  /** Stops the part in flight too (the body is stopped by its owner). */
  signal?: AbortSignal;
}

// The parts directory is named after the process that fills it: one killed with -9 cannot
// remove it, and its parts (queueSize + 1 of up to hundreds of MiB each) would stay until
// reboot. The worker's sweep (removeDeadUploadSpools) removes those whose process is gone.
const PARTS_PREFIX = "vaultline-parts-";
const PARTS_NAME = /^vaultline-parts-(\d+)-[A-Za-z0-9]{6}$/;
/** Named before the process id was in the name. */
const LEGACY_PARTS_NAME = /^vaultline-parts-[A-Za-z0-9]{6}$/;
/**
 * A directory whose process is gone is still left alone this long after its last change:
 * a process in another PID namespace sharing the temp dir looks gone from here, and a live
 * upload adds or removes a part file at least every part's transfer time.
 */
const DEAD_AFTER_MS = 30 * 60_000;
const LEGACY_AFTER_MS = 24 * 3600_000;

/** mkdtemp's prefix for this process's parts directories under `dir`. */
export function partsDirPrefix(dir: string): string {
  return path.join(dir, `${PARTS_PREFIX}${process.pid}-`);
}

/** True when a process with this id exists (EPERM: it does, another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes parts directories left by upload processes that are gone (killed with -9, a
 * crash): the process id in the name no longer runs and nothing in the directory changed
 * for half an hour. Answers the names removed.
 */
export async function removeDeadUploadSpools(dir = tmpdir(), now = Date.now(), alive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = PARTS_NAME.exec(name);
    if (!m && !LEGACY_PARTS_NAME.test(name)) continue;
    if (m && (Number(m[1]) === process.pid || alive(Number(m[1])))) continue;
    const full = path.join(dir, name);
    const s = await stat(full).catch(() => null);
    if (!s?.isDirectory() || now - s.mtimeMs < (m ? DEAD_AFTER_MS : LEGACY_AFTER_MS)) continue;
    await rm(full, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

export async function spooledMultipartUpload(o: SpooledUploadOptions): Promise<{ parts: number }> {
  const dir = await mkdtemp(partsDirPrefix(o.spoolDir ?? tmpdir()));
  let uploadId: string | undefined;
  const completed: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let partFailure: { error: unknown } | undefined;
  let file: FileHandle | null = null;
  try {
    const created = await o.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, ContentType: o.contentType }));
    uploadId = created.UploadId;
    if (!uploadId) throw new Error("the store returned no multipart upload id");
    const id = uploadId;

    const sendPart = async (partNumber: number, partFile: string, size: number) => {
      const attempts = o.partAttempts ?? 3;
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await o.client.send(
            new UploadPartCommand({ Bucket: o.bucket, Key: o.key, UploadId: id, PartNumber: partNumber, Body: createReadStream(partFile), ContentLength: size }),
            { abortSignal: o.signal },
          );
          completed.push({ PartNumber: partNumber, ETag: res.ETag });
          break;
        } catch (e) {
          if (attempt >= attempts || o.signal?.aborted) throw e;
        }
      }
      await rm(partFile, { force: true });
    };
    const queueSize = Math.max(1, o.queueSize ?? 1);
    const rethrow = () => {
      if (partFailure) throw partFailure.error;
    };
    /** Starts sending a full (or the last) part once fewer than queueSize are in flight. */
    const ship = async (partNumber: number, partFile: string, size: number) => {
      while (inFlight.size >= queueSize) await Promise.race(inFlight);
      rethrow();
      const sending: Promise<void> = sendPart(partNumber, partFile, size).then(
        () => void inFlight.delete(sending),
        (e: unknown) => {
          partFailure ??= { error: e };
          inFlight.delete(sending);
        },
      );
      inFlight.add(sending);
    };

    let partNumber = 0;
    let filled = 0;
    let partFile = "";
    for await (const chunk of o.body) {
      let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      while (buf.length > 0) {
        if (!file) {
          partNumber++;
          partFile = path.join(dir, `part-${partNumber}`);
          file = await open(partFile, "w", 0o600);
          filled = 0;
        }
        const take = Math.min(buf.length, o.partSize - filled);
        await file.write(buf.subarray(0, take));
        filled += take;
        buf = buf.subarray(take);
        if (filled === o.partSize) {
          await file.close();
          file = null;
          await ship(partNumber, partFile, filled);
        }
      }
    }
    if (file || partNumber === 0) {
      if (!file) {
        partNumber++;
        partFile = path.join(dir, `part-${partNumber}`);
        file = await open(partFile, "w", 0o600);
        filled = 0;
      }
      await file.close();
      file = null;
      await ship(partNumber, partFile, filled);
    }
    await Promise.all(inFlight);
    rethrow();
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await o.client.send(
      new CompleteMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: id, MultipartUpload: { Parts: completed } }),
    );
    return { parts: completed.length };
  } catch (e) {
    await file?.close().catch(() => undefined);
    await Promise.all(inFlight);
    if (uploadId) {
      await o.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId })).catch(() => undefined);
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
