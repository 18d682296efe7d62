"use client";
// /audit: who did what, newest first; filter by action and by kind of actor. Details are
// shown as JSON on demand (webhook URLs arrive masked for non-admins). The one list that
// shows every target when none is chosen (decision 110), and says which it shows.
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useAuditQuery } from "@/lib/hooks/use-audit";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { Badge } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatRelative } from "@/lib/format";
import { TargetContext } from "@/components/targets/target-context";
import { TargetBadge } from "@/components/targets/target-badge";
import { targetFilter } from "@/lib/targets-client";
import type { AuditEventDto } from "@/lib/audit-query";
import { AuditTarget } from "./audit-target";

const PAGE_SIZE = 50;
const ACTOR_TYPES = ["user", "token", "system"] as const;

function hasDetails(d: unknown): boolean {
  return !!d && typeof d === "object" && Object.keys(d as object).length > 0;
}

export function AuditView() {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const action = search.get("action") || undefined;
  const actorType = (ACTOR_TYPES as readonly string[]).includes(search.get("actorType") ?? "") ? search.get("actorType")! : undefined;
  const offset = Math.max(0, Math.floor(Number(search.get("offset")) || 0));
  const target = targetFilter(search.get("target"));
  const list = useAuditQuery({ limit: PAGE_SIZE, offset, action, actorType, target });

  function navigate(next: { action?: string; actorType?: string; offset?: number }) {
    const q = new URLSearchParams();
    if (next.action) q.set("action", next.action);
    if (next.actorType) q.set("actorType", next.actorType);
    if (target) q.set("target", target);
    if (next.offset) q.set("offset", String(next.offset));
    router.push(q.size ? `${pathname}?${q}` : pathname, { scroll: false });
  }

  const actions = list.data?.actions ?? (action ? [action] : []);

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div className="flex flex-col gap-1">
          <h1 className="text-2xl font-semibold">Audit log</h1>
          <AuditScope target={target} allHref={allTargetsHref(pathname, search)} />
        </div>
        <div role="group" aria-label="Filter events" className="flex flex-wrap items-end gap-3">
          <div className="flex flex-col gap-1">
            <label htmlFor="audit-action" className="text-xs font-medium text-slate-600">
              Action
            </label>
            <select
              id="audit-action"
              value={action ?? ""}
              onChange={(e) => navigate({ action: e.target.value || undefined, actorType })}
              className="h-9 max-w-[14rem] rounded-md border border-slate-300 bg-white px-2 text-sm shadow-sm"
            >
              <option value="">All actions</option>
              {actions.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <div className="flex flex-col gap-1">
            <label htmlFor="audit-actor" className="text-xs font-medium text-slate-600">
              Actor
            </label>
            <select
              id="audit-actor"
              value={actorType ?? ""}
              onChange={(e) => navigate({ action, actorType: e.target.value || undefined })}
              className="h-9 rounded-md border border-slate-300 bg-white px-2 text-sm shadow-sm"
            >
              <option value="">Anyone</option>
              <option value="user">Users</option>
              <option value="token">API tokens</option>
              <option value="system">System</option>
            </select>
          </div>
        </div>
      </div>
      {list.isPending ? (
        <TableSkeleton rows={8} label="Loading audit events" />
      ) : list.isError ? (
        <ErrorState title="Could not load the audit log" error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.events.length === 0 ? (
        <EmptyState title={action || actorType ? "No events match these filters" : target ? `No events of ${target} yet` : "No events yet"} />
      ) : (
        <>
          <div className={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined} aria-busy={list.isPlaceholderData}>
          <Table label="Audit events">
            <THead>
              <Th>Time</Th>
              <Th>Actor</Th>
              <Th>Action</Th>
              <Th>Target</Th>
              <Th>Subject</Th>
              <Th>Details</Th>
            </THead>
            <tbody>
              {list.data.events.map((e) => (
                <tr key={e.id} className="border-t border-slate-100 align-top">
                  <Td>
                    <time dateTime={e.at}>{formatDateTimeUtc(e.at)}</time>
                    <p className="text-xs text-slate-500">{formatRelative(e.at)}</p>
                  </Td>
                  <Td>
                    <div className="flex items-center gap-2">
                      <Badge tone={e.actorType === "system" ? "slate" : e.actorType === "token" ? "violet" : "blue"}>{e.actorType}</Badge>
                      <span className="max-w-[16rem] truncate" title={e.actorLabel ?? undefined}>
                        {e.actorLabel ?? e.actorId ?? "—"}
                      </span>
                    </div>
                    {e.ip && <p className="text-xs text-slate-500">{e.ip}</p>}
                  </Td>
                  <Td>
                    <code className="text-xs font-medium">{e.action}</code>
                  </Td>
                  <Td className="max-w-[12rem] whitespace-normal">
                    <EventTarget event={e} />
                  </Td>
                  <Td className="min-w-[12rem] max-w-[18rem] whitespace-normal">
                    <AuditTarget action={e.action} target={e.target} />
                  </Td>
                  <Td className="whitespace-normal">
                    {hasDetails(e.details) ? (
                      <details>
                        <summary className="cursor-pointer text-xs text-slate-600">Show</summary>
                        <pre className="mt-1 max-h-72 max-w-[min(32rem,80vw)] overflow-auto rounded bg-slate-50 p-2 text-xs">{JSON.stringify(e.details, null, 2)}</pre>
                      </details>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
          </div>
          <Pagination total={list.data.total} limit={PAGE_SIZE} offset={list.data.offset} onChange={(o) => navigate({ action, actorType, offset: o })} />
        </>
      )}
    </div>
  );
}

/** The same filters, every target. */
function allTargetsHref(pathname: string, search: URLSearchParams): string {
  const q = new URLSearchParams(search);
  q.delete("target");
  q.delete("offset");
  return q.size ? `${pathname}?${q}` : pathname;
}

/** Which events the page shows: one target's only, or every target's and those of none. */
function AuditScope({ target, allHref }: { target: string | undefined; allHref: string }) {
  if (!target) {
    return (
      <p data-testid="audit-scope" data-scope="all" className="text-sm text-slate-600">
        <span className="font-medium text-slate-900">All targets</span>: every target&apos;s events, and those of none (sign-ins, users, tokens, settings).
      </p>
    );
  }
  return (
    <div data-testid="audit-scope" data-scope={target} className="flex flex-col gap-1">
      <TargetContext name={target} />
      <p className="text-sm text-slate-600">
        Only this target&apos;s events; events of no target (sign-ins, users, tokens, settings) are not shown.{" "}
        <Link href={allHref} className="text-sky-800 underline">
          Show all targets
        </Link>
      </p>
    </div>
  );
}

/** The target an event concerns; a removed target's events keep its id only. */
function EventTarget({ event }: { event: AuditEventDto }) {
  if (event.targetRef) return <TargetBadge target={event.targetRef} />;
  if (event.targetId) {
    return (
      <span className="text-xs text-slate-500" title={event.targetId}>
        removed target <span className="font-mono">{event.targetId}</span>
      </span>
    );
  }
  return <span className="text-slate-400">—</span>;
}
