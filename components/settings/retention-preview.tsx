"use client";
// The live preview under the retention form: what the values as typed (saved or not) would
// keep and prune right now — the same plan the pruning run executes.
import { useMemo } from "react";
import Link from "next/link";
import { useDebounced, useRetentionPreviewQuery } from "@/lib/hooks/use-retention-preview";
import type { RetentionSettings } from "@/lib/validation/settings";
import { Badge, KindBadge } from "@/components/ui/badge";
import { Skeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { formatBytes, formatDateTimeUtc, plural } from "@/lib/format";

const SHOWN = 50;

export function RetentionPreviewPanel({ policy, dirty }: { policy: RetentionSettings | null; dirty: boolean }) {
  // A stable key for the debounce: a new object with the same values is no change.
  const key = policy ? JSON.stringify(policy) : null;
  const settled = useDebounced(key, 400);
  const proposed = useMemo(() => (settled ? (JSON.parse(settled) as RetentionSettings) : null), [settled]);
  const q = useRetentionPreviewQuery(proposed, SHOWN);
  const pending = key !== settled || q.isFetching;

  return (
    <section aria-labelledby="retention-preview-heading" aria-busy={pending} className="flex flex-col gap-3 rounded-md border border-slate-200 bg-slate-50 p-3" data-testid="retention-preview">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h3 id="retention-preview-heading" className="text-sm font-semibold">
          Preview{dirty ? " (unsaved values)" : ""}
        </h3>
        <span className="text-xs text-slate-500" aria-live="polite">
          {pending ? "Updating…" : q.data ? `As of ${formatDateTimeUtc(q.data.at)} · periods in ${q.data.timeZone}` : ""}
        </span>
      </div>
      {policy === null ? (
        <p className="text-sm text-slate-600">Fix the values above to see what they would keep and prune.</p>
      ) : q.isError && !q.data ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} title="Could not compute the preview" />
      ) : !q.data ? (
        <Skeleton className="h-16 w-full" label="Computing the preview" />
      ) : (
        <>
          <p className="text-sm" data-testid="retention-preview-summary">
            Keeps <strong>{plural(q.data.keptCount, "backup")}</strong>, prunes <strong>{plural(q.data.prunedCount, "backup")}</strong>
            {q.data.prunedCount > 0 && (
              <>
                {" "}
                and frees <strong>{formatBytes(q.data.prunedBytes)}</strong>
              </>
            )}
            .
          </p>
          {q.data.prunedCount > 0 && (
            <details open>
              <summary className="cursor-pointer text-sm font-medium">
                Would be pruned{q.data.prunedCount > SHOWN ? ` (newest ${SHOWN} of ${q.data.prunedCount})` : ""}
              </summary>
              <div className="mt-2 max-h-96 overflow-y-auto">
                <Table label="Backups the policy would prune">
                  <THead>
                    <Th>Created (UTC)</Th>
                    <Th>Kind</Th>
                    <Th className="text-right">Size</Th>
                    <Th>Why</Th>
                  </THead>
                  <tbody>
                    {q.data.prune.map((p) => (
                      <tr key={p.id}>
                        <Td className="whitespace-nowrap">
                          <Link href={`/backups/${p.id}`} className="text-sky-800 underline-offset-2 hover:underline">
                            {formatDateTimeUtc(p.createdAt)}
                          </Link>
                        </Td>
                        <Td>
                          <KindBadge kind={p.kind} />
                        </Td>
                        <Td className="text-right tabular-nums">{formatBytes(p.sizeBytes)}</Td>
                        <Td className="min-w-72 whitespace-normal text-xs text-slate-600">{p.reason}</Td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              </div>
            </details>
          )}
          <details>
            <summary className="cursor-pointer text-sm font-medium">
              Kept{q.data.keptCount > SHOWN ? ` (newest ${SHOWN} of ${q.data.keptCount})` : ""}
            </summary>
            <div className="mt-2 max-h-96 overflow-y-auto">
              <Table label="Backups the policy keeps">
                <THead>
                  <Th>Created (UTC)</Th>
                  <Th>Kind</Th>
                  <Th>Kept because</Th>
                </THead>
                <tbody>
                  {q.data.keep.map((k) => (
                    <tr key={k.id}>
                      <Td className="whitespace-nowrap">
                        <Link href={`/backups/${k.id}`} className="text-sky-800 underline-offset-2 hover:underline">
                          {formatDateTimeUtc(k.createdAt)}
                        </Link>
                      </Td>
                      <Td>
                        <KindBadge kind={k.kind} />
                      </Td>
                      <Td>
                        <span className="flex flex-wrap gap-1">
                          {k.reasons.map((r) => (
                            <Badge key={r} tone={/^(restoring|drilling|running|queued|newest)/.test(r) ? "blue" : "slate"}>
                              {r}
                            </Badge>
                          ))}
                        </span>
                      </Td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </div>
          </details>
          {q.isError && <p className="text-sm text-red-700" role="alert">Could not update the preview: {q.error.message}. Showing the last one computed.</p>}
        </>
      )}
    </section>
  );
}
