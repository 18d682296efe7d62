// A real S3-protocol server (s3rver) on loopback, for the Vitest suites, the fault suite and
// the bench. s3rver 3.7.1 lacks ListMultipartUploads and AbortMultipartUpload, which every
// real store (AWS, MinIO, B2, R2) has and which our cleanup relies on; the two are added
// here on top of s3rver's own upload folders, so tests can see whether an upload was left
// behind. It can go down and come back on the same port and folder (a storage outage), and
// hold every UploadPart (a backup reliably "mid-upload").
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Socket } from "node:net";
import type { Server } from "node:http";
import S3rver from "s3rver";
import { freePort } from "../../lib/embedded-postgres";
import { S3Storage } from "../../lib/backup/storage/s3";

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver's data folder (for inspecting what is on "disk"). */
  directory: string;
  /** Multipart uploads still open, straight from s3rver's folders. */
  openUploads(): Promise<{ key: string; uploadId: string }[]>;
  /** A driver on this server. */
  storage(tuning?: { maxAttempts?: number; requestTimeoutMs?: number; partSize?: number }): S3Storage;
  /** Stops serving at once (an outage): the port closes and open connections are cut. */
  down(): Promise<void>;
  /** Serves again, on the same port and folder. */
  up(): Promise<void>;
  running(): boolean;
  /**
   * While held, every UploadPart request waits (its body unread) until release: a backup
   * is then reliably "mid-upload" with its multipart upload open.
   */
  holdParts(): void;
  releaseParts(): void;
  /** UploadPart requests waiting on the hold right now. */
  heldParts(): number;
  /** Stops for good and removes the folder. */
  stop(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startS3(bucket = "vaultline-test"): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), "vaultline-s3rver-"));
  const uploadsDir = path.join(directory, bucket, "._S3rver_uploads");
  const port = await freePort();
  const openUploads = async () => {
    let ids: string[];
    try {
      ids = await readdir(uploadsDir);
    } catch {
      return [];
    }
    const out: { key: string; uploadId: string }[] = [];
    for (const uploadId of ids) out.push({ key: await readFile(path.join(uploadsDir, uploadId, "key"), "utf8").catch(() => ""), uploadId });
    return out;
  };

  let server: S3rver | null = null;
  let hold: { promise: Promise<void>; release: () => void } | null = null;
  let held = 0;
  let sockets = new Set<Socket>();
  const start = async () => {
    const s = new S3rver({ address: "127.0.0.1", port, silent: true, directory, configureBuckets: [{ name: bucket }] });
    s.middleware.unshift(async (ctx, next) => {
      const [, b, ...rest] = ctx.path.split("/");
      const key = decodeURIComponent(rest.join("/"));
      if (b === bucket && ctx.method === "GET" && !key && "uploads" in ctx.query) {
        const uploads = await openUploads();
        ctx.type = "application/xml";
        ctx.body =
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
          `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
          uploads.map((u) => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`).join("") +
          `</ListMultipartUploadsResult>`;
        return;
      }
      const uploadId = ctx.query.uploadId;
      if (hold && b === bucket && ctx.method === "PUT" && typeof uploadId === "string" && ctx.query.partNumber) {
        held++;
        try {
          await hold.promise;
        } finally {
          held--;
        }
      }
      if (b === bucket && ctx.method === "DELETE" && key && typeof uploadId === "string") {
        const dir = path.join(uploadsDir, path.basename(uploadId));
        if (!(await stat(dir).then(() => true, () => false))) {
          ctx.status = 404;
          ctx.type = "application/xml";
          ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>`;
          return;
        }
        await rm(dir, { recursive: true, force: true });
        ctx.status = 204;
        ctx.body = "";
        return;
      }
      await next();
    });
    await s.run();
    const http = (s as unknown as { httpServer: Server }).httpServer;
    sockets = new Set();
    http.on("connection", (sock: Socket) => {
      sockets.add(sock);
      sock.on("close", () => sockets.delete(sock));
    });
    server = s;
  };
  const down = async () => {
    if (!server) return;
    hold?.release();
    hold = null;
    const s = server;
    server = null;
    const closed = s.close().catch(() => {});
    for (const sock of sockets) sock.destroy();
    await closed;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    directory,
    openUploads,
    storage: (tuning = {}) =>
      new S3Storage({ bucket, region: "us-east-1", endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", forcePathStyle: true, ...tuning }),
    down,
    up: start,
    running: () => server !== null,
    holdParts() {
      if (hold) return;
      let release!: () => void;
      const promise = new Promise<void>((r) => (release = r));
      hold = { promise, release };
    },
    releaseParts() {
      hold?.release();
      hold = null;
    },
    heldParts: () => held,
    async stop() {
      await down();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
