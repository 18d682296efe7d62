"use client";
// Backups: one hook per resource over one key factory. Every mutation invalidates the
// whole ["backups"] prefix (list, detail, today, trends); polling runs only while
// something is QUEUED or RUNNING.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { BackupDto, BackupKind, BackupLocksDto, CreateBackupInput, JobStatus } from "../validation/backups";
import type { TodaySummary } from "../backup/today";
import type { SafetyFor } from "../backup/related";
import type { RestorePreview } from "../validation/restores";
import { DEFAULT_TARGET_NAME, targetParam } from "../targets-client";

export type { RestorePreview };

export const POLL_MS = 2000;

export interface BackupListParams {
  limit: number;
  offset: number;
  status?: JobStatus;
  kind?: BackupKind;
  trigger?: string;
  /** A target's id or name; absent = `default` (DESIGN §8). */
  target?: string;
}

export interface BackupList {
  backups: BackupDto[];
  total: number;
  limit: number;
  offset: number;
}

export interface BackupDetail extends BackupDto {
  manifest: unknown;
  metadata: Record<string, unknown> | null;
  /** PRE_RESTORE backups: the restore they were taken for. */
  safetyFor: SafetyFor | null;
  /** A FULL backup's locks on its database (decision 175): live while it dumps, then who waited for it. */
  locks: BackupLocksDto | null;
}

export interface BackupStatus {
  id: string;
  status: JobStatus;
  phase: string | null;
  progressBytes: number;
  sizeBytes: number | null;
}

export const isActive = (s: JobStatus | string) => s === "QUEUED" || s === "RUNNING";

export const backupKeys = {
  all: ["backups"] as const,
  lists: () => [...backupKeys.all, "list"] as const,
  list: (p: BackupListParams) => [...backupKeys.lists(), p] as const,
  detail: (id: string) => [...backupKeys.all, "detail", id] as const,
  preview: (id: string) => [...backupKeys.all, "preview", id] as const,
  today: (target?: string) => [...backupKeys.all, "today", target ?? DEFAULT_TARGET_NAME] as const,
};

function query(p: BackupListParams): string {
  const q = new URLSearchParams({ limit: String(p.limit), offset: String(p.offset) });
  if (p.status) q.set("status", p.status);
  if (p.kind) q.set("kind", p.kind);
  if (p.trigger) q.set("trigger", p.trigger);
  for (const [k, v] of Object.entries(targetParam(p.target))) q.set(k, v);
  return q.toString();
}

export function useBackupsQuery(p: BackupListParams) {
  return useQuery({
    queryKey: backupKeys.list(p),
    queryFn: () => api<BackupList>(`/api/backups?${query(p)}`),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.backups.some((b) => isActive(b.status)) ? POLL_MS : false),
  });
}

/** The last successful backup of a kind: its size is the estimate for a running one. */
export function useLastSuccessQuery(kind: BackupKind, enabled: boolean, target?: string) {
  const p: BackupListParams = { limit: 1, offset: 0, status: "SUCCEEDED", kind, ...targetParam(target) };
  return useQuery({
    queryKey: backupKeys.list(p),
    queryFn: () => api<BackupList>(`/api/backups?${query(p)}`),
    enabled,
    staleTime: 60_000,
    select: (d) => d.backups[0] ?? null,
  });
}

/** Successful backups for the trend charts: the newest 200 (the API's page limit). */
export function useBackupTrendQuery(target?: string) {
  const p: BackupListParams = { limit: 200, offset: 0, status: "SUCCEEDED", ...targetParam(target) };
  return useQuery({ queryKey: backupKeys.list(p), queryFn: () => api<BackupList>(`/api/backups?${query(p)}`), staleTime: 60_000 });
}

export function useTodayQuery(target?: string) {
  const q = new URLSearchParams(targetParam(target)).toString();
  return useQuery({
    queryKey: backupKeys.today(targetParam(target).target),
    queryFn: () => api<TodaySummary>(`/api/today${q ? `?${q}` : ""}`),
    refetchInterval: (q) => (q.state.data?.state === "running" ? POLL_MS : false),
  });
}

export function useBackupQuery(id: string) {
  return useQuery({
    queryKey: backupKeys.detail(id),
    queryFn: () => api<BackupDetail>(`/api/backups/${encodeURIComponent(id)}`),
    refetchInterval: (q) => (q.state.data && isActive(q.state.data.status) ? POLL_MS : false),
  });
}

export function useRestorePreviewQuery(id: string, enabled: boolean) {
  return useQuery({
    queryKey: backupKeys.preview(id),
    queryFn: () => api<RestorePreview>(`/api/backups/${encodeURIComponent(id)}/restore-preview`),
    enabled,
    // The live schema can change between openings; always show a fresh comparison.
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
}

function useInvalidateBackups() {
  const qc = useQueryClient();
  return () => qc.invalidateQueries({ queryKey: backupKeys.all });
}

export function useCreateBackup() {
  const invalidate = useInvalidateBackups();
  const qc = useQueryClient();
  return useMutation({
    // `target` omitted for `default`: the request is exactly today's.
    mutationFn: ({ target, ...input }: CreateBackupInput & { target?: string }) =>
      api<{ id: string; status: JobStatus }>("/api/backups", { method: "POST", json: { ...input, ...targetParam(target) } }),
    onSuccess: () => Promise.all([invalidate(), qc.invalidateQueries({ queryKey: ["targets"] })]),
  });
}

function useBackupAction(path: "verify" | "drill" | "cancel") {
  const invalidate = useInvalidateBackups();
  return useMutation({
    mutationFn: (id: string) => api<unknown>(`/api/backups/${encodeURIComponent(id)}/${path}`, { method: "POST" }),
    onSuccess: invalidate,
  });
}

export const useVerifyBackup = () => useBackupAction("verify");
export const useDrillBackup = () => useBackupAction("drill");
export const useCancelBackup = () => useBackupAction("cancel");

export function useDeleteBackup() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/api/backups/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: (_d, id) => {
      qc.removeQueries({ queryKey: backupKeys.detail(id) });
      return qc.invalidateQueries({ queryKey: backupKeys.all });
    },
  });
}

export function useStartRestore(backupId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({
      ownership = "keep",
      createRoles = false,
      defaultTablespace = false,
      endBlockingSessions = false,
      into = "live",
      decryptionKey,
    }: {
      ownership?: "keep" | "reassign";
      createRoles?: boolean;
      defaultTablespace?: boolean;
      endBlockingSessions?: boolean;
      into?: "live" | "copy";
      decryptionKey?: { privateKey: string; passphrase?: string };
    }) =>
      api<{ restoreId: string; preRestoreBackupId: string | null }>(`/api/backups/${encodeURIComponent(backupId)}/restore`, {
        method: "POST",
        json: { confirm: "RESTORE", ownership, ...(createRoles ? { createRoles } : {}), ...(defaultTablespace ? { tablespaces: "default" } : {}), ...(endBlockingSessions ? { endBlockingSessions } : {}), ...(into === "copy" ? { into } : {}), ...(decryptionKey ? { decryptionKey } : {}) },
      }),
    onSuccess: () => Promise.all([qc.invalidateQueries({ queryKey: backupKeys.all }), qc.invalidateQueries({ queryKey: ["restores"] })]),
  });
}
