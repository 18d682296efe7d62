// GET /api/backups/:id: one backup with its manifest. A manifest that cannot be read is
// answered with a fixed sentence naming the kind of failure; the exception itself (keys,
// hosts, parser text) goes to the log under the request id, never into the response.
import type { BackupContext } from "./context";
import { getBackupRow, toBackupDto } from "./catalog";
import { readManifest } from "./verify";
import { ManifestError } from "./manifest";
import { componentLogger } from "../log";

const log = componentLogger("backups");

function unreadable(e: unknown, requestId: string): string {
  const name = e instanceof Error ? e.name : "";
  const what =
    name === "ObjectNotFoundError"
      ? "the manifest object is missing from storage"
      : name === "StorageUnavailableError"
        ? "storage is unreachable"
        : e instanceof ManifestError
          ? "the stored manifest is damaged"
          : "the manifest could not be read";
  return `${what} (request ${requestId}; details in the server log)`;
}

export async function getBackupDetail(ctx: BackupContext, id: string, requestId: string) {
  const row = await getBackupRow(ctx.db, id);
  let manifest: unknown = null;
  if (row.status === "SUCCEEDED") {
    try {
      manifest = await readManifest(ctx, row);
    } catch (e) {
      log.warn({ requestId, jobId: id, err: e instanceof Error ? e.message : String(e) }, "manifest unreadable");
      manifest = { error: unreadable(e, requestId) };
    }
  }
  return { ...toBackupDto(row), manifest, metadata: row.metadata };
}
