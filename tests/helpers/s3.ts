// A real S3-protocol server (s3rver) on loopback for integration tests.
// s3rver 3.7.1 lacks ListMultipartUploads and AbortMultipartUpload, which every real store
// (AWS, MinIO, B2, R2) has and which our cleanup relies on; the two are added here on top
// of s3rver's own upload folders, so tests can see whether an upload was left behind.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver's data folder (for inspecting what is on "disk"). */
  directory: string;
  /** Multipart uploads still open, straight from s3rver's folders. */
  openUploads(): Promise<{ key: string; uploadId: string }[]>;
  stop(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function startS3(bucket = "vaultline-test"): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), "vaultline-s3rver-"));
  const uploadsDir = path.join(directory, bucket, "._S3rver_uploads");

  const openUploads = async () => {
    let ids: string[];
    try {
      ids = await readdir(uploadsDir);
    } catch {
      return [];
    }
    const out: { key: string; uploadId: string }[] = [];
    for (const uploadId of ids) {
      const key = await readFile(path.join(uploadsDir, uploadId, "key"), "utf8").catch(() => "");
      out.push({ key, uploadId });
    }
    return out;
  };

  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  server.middleware.unshift(async (ctx, next) => {
    const [, b, ...rest] = ctx.path.split("/");
    const key = decodeURIComponent(rest.join("/"));
    if (b === bucket && ctx.method === "GET" && !key && "uploads" in ctx.query) {
      const uploads = await openUploads();
      ctx.type = "application/xml";
      ctx.body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
        `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
        uploads
          .map((u) => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`)
          .join("") +
        `</ListMultipartUploadsResult>`;
      return;
    }
    const uploadId = ctx.query.uploadId;
    if (b === bucket && ctx.method === "DELETE" && key && typeof uploadId === "string") {
      const dir = path.join(uploadsDir, path.basename(uploadId));
      const exists = await stat(dir).then(() => true, () => false);
      if (!exists) {
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
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    directory,
    openUploads,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
