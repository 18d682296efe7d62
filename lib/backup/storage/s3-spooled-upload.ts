// A multipart upload whose parts wait on disk, not in memory: for parts too big for the
// memory budget (storage/part-size.ts — a multi-terabyte database plans parts of hundreds
// of MiB, and lib-storage holds a whole part in memory while it fills and while it is
// sent). One part fills a temp file while the previous one goes up from its own file, so
// memory stays at a few stream buffers and disk at two parts. Every part but the last
// has exactly partSize bytes. The files hold the stored bytes, which are already encrypted.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";

export interface SpooledUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  body: Readable;
  partSize: number;
  contentType?: string;
  /** Where parts wait; default the OS temp dir. */
  spoolDir?: string;
  /** Attempts per part; each re-reads the part's file from the start. */
  partAttempts?: number;
  /** Stops the part in flight too (the body is stopped by its owner). */
  signal?: AbortSignal;
}

export async function spooledMultipartUpload(o: SpooledUploadOptions): Promise<{ parts: number }> {
  const dir = await mkdtemp(path.join(o.spoolDir ?? tmpdir(), "vaultline-parts-"));
  let uploadId: string | undefined;
  const completed: CompletedPart[] = [];
  let inFlight: Promise<void> | null = null;
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
    /** Starts sending a full (or the last) part once the previous one is up: one in flight. */
    const ship = async (partNumber: number, partFile: string, size: number) => {
      if (inFlight) await inFlight;
      inFlight = sendPart(partNumber, partFile, size);
      // Rejections are collected when the next part (or the end) awaits it.
      inFlight.catch(() => undefined);
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
    if (inFlight) await inFlight;
    completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await o.client.send(
      new CompleteMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: id, MultipartUpload: { Parts: completed } }),
    );
    return { parts: completed.length };
  } catch (e) {
    await file?.close().catch(() => undefined);
    if (inFlight) await (inFlight as Promise<void>).catch(() => undefined);
    if (uploadId) {
      await o.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId })).catch(() => undefined);
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
