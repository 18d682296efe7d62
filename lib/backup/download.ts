// Downloads: a presigned URL (≤ 15 min) for S3, a stream for local disk; both audited.
import type { BackupContext } from "./context";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import type { Readable } from "node:stream";

export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;

export type Download =
  | { kind: "redirect"; url: string }
  | { kind: "stream"; body: Readable; filename: string; sizeBytes: number | null; contentType: string };

export async function openDownload(ctx: BackupContext, id: string, actor: Actor, ip?: string): Promise<Download> {
  const job = await ctx.db.backupJob.findUnique({ where: { id } });
  if (!job) throw notFound("Backup");
  if (job.status !== "SUCCEEDED" || !job.storageKey) throw new ApiError("CONFLICT", "Only a successful backup can be downloaded");
  const url = await ctx.storage.downloadUrl(job.storageKey, DOWNLOAD_URL_TTL_SECONDS);
  await audit(ctx.db, { actor, action: "backup.downloaded", target: id, targetId: job.targetId, details: { key: job.storageKey, via: url ? "presigned-url" : "stream" }, ip });
  if (url) return { kind: "redirect", url };
  const filename = `vaultline-${job.id}${job.kind === "FULL" ? ".dump.gpg" : "-manifest.json"}`;
  return {
    kind: "stream",
    body: await ctx.storage.get(job.storageKey),
    filename,
    sizeBytes: job.sizeBytes === null ? null : Number(job.sizeBytes),
    contentType: job.kind === "FULL" ? "application/pgp-encrypted" : "application/json",
  };
}
