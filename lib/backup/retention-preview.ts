// The preview of a retention policy: the catalogue's plan (retention-plan.ts, the same one
// pruning executes) as JSON, newest first.
import type { Db } from "../db";
import type { RetentionPreview } from "../validation/retention";
import { planCatalogue } from "./retention-plan";
import type { RetentionPolicy } from "./retention";

export async function previewRetention(db: Db, opts: { proposed?: Partial<RetentionPolicy>; now?: Date } = {}): Promise<RetentionPreview> {
  const { plan, rows, policy, timeZone, now } = await planCatalogue(db, opts);
  const row = (id: string) => rows.get(id)!;
  const prune = plan.prune.map(({ id, reason }) => {
    const r = row(id);
    return { id, kind: r.kind, createdAt: r.createdAt.toISOString(), sizeBytes: r.sizeBytes === null ? 0 : Number(r.sizeBytes), reason };
  });
  return {
    policy,
    timeZone,
    at: now.toISOString(),
    keep: plan.keep.map(({ id, reasons }) => ({ id, kind: row(id).kind, createdAt: row(id).createdAt.toISOString(), reasons })),
    prune,
    prunedBytes: prune.reduce((n, p) => n + p.sizeBytes, 0),
  };
}
