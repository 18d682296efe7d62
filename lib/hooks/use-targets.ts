"use client";
// Targets as the dashboard lists them (GET /api/targets): the switcher, the overview and
// the confirmation dialogs, which name the target's host and database. Polls quickly only
// while a target's backup runs, like the today banner.
import { useQuery } from "@tanstack/react-query";
import { api } from "./api";
import { POLL_MS } from "./use-backups";
import type { TargetDto } from "../targets-client";

export const targetKeys = {
  all: ["targets"] as const,
  list: () => [...targetKeys.all, "list"] as const,
};

export function useTargetsQuery() {
  return useQuery({
    queryKey: targetKeys.list(),
    queryFn: () => api<{ targets: TargetDto[] }>("/api/targets"),
    select: (d) => d.targets,
    staleTime: 10_000,
    refetchInterval: (q) => (q.state.data?.targets.some((t) => t.today?.state === "running") ? POLL_MS : 60_000),
  });
}

/** One target of the list by id or name (what `?target=` holds); undefined while loading or unknown. */
export function useTarget(selector: string | null | undefined): TargetDto | undefined {
  const targets = useTargetsQuery();
  if (!selector) return undefined;
  return targets.data?.find((t) => t.id === selector || t.name === selector);
}
