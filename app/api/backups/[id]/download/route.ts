// GET /api/backups/:id/download — 302 to a presigned URL (S3) or the archive as a stream
import { Readable } from "node:stream";
import { parseId, withAuth } from "@/lib/http";
import { appContext, openDownload } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("backups.download", async (_req, { params, actor, ip }) => {
  const d = await openDownload(appContext(), parseId(params.id), actor, ip);
  if (d.kind === "redirect") return new Response(null, { status: 302, headers: { location: d.url, "cache-control": "no-store" } });
  return new Response(Readable.toWeb(d.body) as ReadableStream, {
    headers: {
      "content-type": d.contentType,
      "content-disposition": `attachment; filename="${d.filename}"`,
      "cache-control": "no-store",
      ...(d.sizeBytes !== null ? { "content-length": String(d.sizeBytes) } : {}),
    },
  });
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
