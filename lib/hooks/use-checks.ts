"use client";
// Checks: the last run (manual, gate or post-restore) and "Run now".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { StoredCheckRun } from "../validation/deploy";
import { DEFAULT_TARGET_NAME, targetParam } from "../targets-client";

export const checkKeys = { all: ["checks"] as const, last: (target?: string) => [...checkKeys.all, "last", target ?? DEFAULT_TARGET_NAME] as const };

export function useChecksQuery(target?: string) {
  const q = new URLSearchParams(targetParam(target)).toString();
  return useQuery({ queryKey: checkKeys.last(targetParam(target).target), queryFn: () => api<{ last: StoredCheckRun | null }>(`/api/checks${q ? `?${q}` : ""}`) });
}

/** POST /api/checks/run {target?}: the body is `{}` for `default`, as before targets. */
export function useRunChecks(target?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ last: StoredCheckRun }>("/api/checks/run", { method: "POST", json: targetParam(target) }),
    onSuccess: (data) => {
      qc.setQueryData(checkKeys.last(targetParam(target).target), data);
      return qc.invalidateQueries({ queryKey: ["deployments", "state"] });
    },
  });
}
