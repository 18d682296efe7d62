// The manifest shown by GET /api/backups/:id (related.ts). A manifest that cannot be read is
// answered with a fixed sentence naming the kind of failure; the exception itself (keys,
// hosts, parser text) goes to the log under the request id, never into the response.
import type { BackupContext } from "./context";
import { readManifest } from "./verify";
import { ManifestError, manifestForCaller } from "./manifest";
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

/** The manifest to show beside a backup, or a fixed sentence saying why it cannot be read. */
/** `showKeyId`: callers allowed backups.download see the key id; an old fingerprint, nobody. */
export async function manifestForDisplay(ctx: BackupContext, row: { id: string; createdAt: Date }, requestId: string, showKeyId = false): Promise<unknown> {
  try {
    return manifestForCaller(await readManifest(ctx, row), showKeyId);
  } catch (e) {
    log.warn({ requestId, jobId: row.id, err: e instanceof Error ? e.message : String(e) }, "manifest unreadable");
    return { error: unreadable(e, requestId) };
  }
}
