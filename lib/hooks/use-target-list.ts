"use client";
// Targets as the dashboard's navigation, overview and confirmations read them (GET
// /api/targets). Same cache entry as Settings → Targets (["targets", "list"], the raw
// answer), so a target added or renamed there shows in the switcher at once. Polls
// quickly only while a target's backup runs, like the today banner; every minute otherwise.
import { useQuery } from "@tanstack/react-query";
import { api } from "./api";
import { POLL_MS } from "./use-backups";
import type { TargetDto } from "../targets-client";

const listKey = ["targets", "list"] as const;

export function useTargetListQuery() {
  return useQuery({
    queryKey: listKey,
    queryFn: () => api<{ targets: TargetDto[] }>("/api/targets"),
    select: (d) => d.targets,
    staleTime: 10_000,
    refetchInterval: (q) => (q.state.data?.targets.some((t) => t.today?.state === "running") ? POLL_MS : 60_000),
  });
}

/** One target of the list by id or name (what `?target=` holds); undefined while loading or unknown. */
export function useTarget(selector: string | null | undefined): TargetDto | undefined {
  const targets = useTargetListQuery();
  if (!selector) return undefined;
  return targets.data?.find((t) => t.id === selector || t.name === selector);
}
