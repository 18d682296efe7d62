"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import { POLL_MS, isActive } from "./use-backups";
import type { RestoreDto } from "../validation/restores";
import { targetParam } from "../targets-client";

export type { RestoreDto };

export interface RestoreList {
  restores: RestoreDto[];
  total: number;
  limit: number;
  offset: number;
}

export const restoreKeys = {
  all: ["restores"] as const,
  lists: () => [...restoreKeys.all, "list"] as const,
  list: (p: { limit: number; offset: number; target?: string }) => [...restoreKeys.lists(), p] as const,
  detail: (id: string) => [...restoreKeys.all, "detail", id] as const,
};

export function useRestoresQuery(p: { limit: number; offset: number; target?: string }) {
  const q = new URLSearchParams({ limit: String(p.limit), offset: String(p.offset), ...targetParam(p.target) });
  return useQuery({
    queryKey: restoreKeys.list({ limit: p.limit, offset: p.offset, ...targetParam(p.target) }),
    queryFn: () => api<RestoreList>(`/api/restores?${q}`),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.restores.some((r) => isActive(r.status)) ? POLL_MS : false),
  });
}

export function useRestoreQuery(id: string | null) {
  return useQuery({
    queryKey: restoreKeys.detail(id ?? ""),
    queryFn: () => api<RestoreDto>(`/api/restores/${encodeURIComponent(id!)}`),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data && isActive(q.state.data.status) ? POLL_MS : false),
  });
}

export function useUndoRestore(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ restoreId: string; undoneAt: string; swapSeconds: number }>(`/api/restores/${encodeURIComponent(id)}/undo`, { method: "POST", json: { confirm: "UNDO" } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: restoreKeys.all }),
  });
}

/** Drops the database a restore keeps beside the live one, now (decision 170). */
export function useDropKept(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ restoreId: string; database: string; droppedAt: string }>(`/api/restores/${encodeURIComponent(id)}/drop-kept`, { method: "POST", json: { confirm: "DROP" } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: restoreKeys.all }),
  });
}

/** Keeps the database a restore keeps beside the live one until `hours` from now (decision 172). */
export function useKeepKeptLonger(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (hours: number) =>
      api<{ restoreId: string; database: string; keepUntil: string; before: string | null }>(`/api/restores/${encodeURIComponent(id)}/keep`, { method: "POST", json: { hours } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: restoreKeys.all }),
  });
}
