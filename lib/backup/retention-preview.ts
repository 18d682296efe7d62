// The preview of a retention policy: the catalogue's plan (retention-plan.ts, the same one
// pruning executes) as JSON, newest first; `limit` shortens the lists, never the totals.
import type { Db } from "../db";
import type { RetentionPreview } from "../validation/retention";
import { planCatalogue } from "./retention-plan";
import type { RetentionPolicy } from "./retention";

export async function previewRetention(
  db: Db,
  /** targetId: that target's plan, by its own policy (absent = `default`). */
  opts: { proposed?: Partial<RetentionPolicy>; now?: Date; limit?: number; targetId?: string } = {},
): Promise<RetentionPreview> {
  const { plan, rows, policy, timeZone, now } = await planCatalogue(db, opts);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const row = (id: string) => rows.get(id)!;
  const size = (id: string) => Number(row(id).sizeBytes ?? 0);
  return {
    policy,
    timeZone,
    at: now.toISOString(),
    keep: plan.keep.slice(0, limit).map(({ id, reasons }) => ({ id, kind: row(id).kind, createdAt: row(id).createdAt.toISOString(), reasons })),
    prune: plan.prune.slice(0, limit).map(({ id, reason }) => ({ id, kind: row(id).kind, createdAt: row(id).createdAt.toISOString(), sizeBytes: size(id), reason })),
    prunedBytes: plan.prune.reduce((n, p) => n + size(p.id), 0),
    keptCount: plan.keep.length,
    prunedCount: plan.prune.length,
  };
}
