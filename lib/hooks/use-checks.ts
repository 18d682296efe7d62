"use client";
// Checks: the last run (manual, gate or post-restore) and "Run now".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { StoredCheckRun } from "../validation/deploy";

export const checkKeys = { all: ["checks"] as const, last: () => [...checkKeys.all, "last"] as const };

export function useChecksQuery() {
  return useQuery({ queryKey: checkKeys.last(), queryFn: () => api<{ last: StoredCheckRun | null }>("/api/checks") });
}

export function useRunChecks() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ last: StoredCheckRun }>("/api/checks/run", { method: "POST" }),
    onSuccess: (data) => {
      qc.setQueryData(checkKeys.last(), data);
      return qc.invalidateQueries({ queryKey: ["deployments", "state"] });
    },
  });
}
