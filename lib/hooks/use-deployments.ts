"use client";
// Deployments: the gate state, the history, one record's log, deploy and rollback.
// Polling only while something runs: a deploy, a rollback, or the backup the
// "Create a backup first?" dialog is watching.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import { backupKeys, POLL_MS, type BackupStatus } from "./use-backups";
import type { BackupDto, BackupKind } from "../validation/backups";
import { ACTIVE_JOB_STATUSES } from "../validation/backups";
import type { DeploymentDto, DeployState } from "../validation/deploy";
import { DEFAULT_TARGET_NAME, targetParam } from "../targets-client";

export const deployKeys = {
  all: ["deployments"] as const,
  state: (target?: string) => [...deployKeys.all, "state", target ?? DEFAULT_TARGET_NAME] as const,
  list: (p: { limit: number; offset: number; target?: string }) => [...deployKeys.all, "list", p] as const,
  detail: (id: string) => [...deployKeys.all, "detail", id] as const,
};

export interface DeploymentList {
  deployments: DeploymentDto[];
  total: number;
  limit: number;
  offset: number;
}

export function useDeployStateQuery(target?: string) {
  const q = new URLSearchParams(targetParam(target)).toString();
  return useQuery({
    queryKey: deployKeys.state(targetParam(target).target),
    queryFn: () => api<DeployState>(`/api/deploy/state${q ? `?${q}` : ""}`),
    refetchInterval: (q) => (q.state.data?.running ? POLL_MS : 30_000),
  });
}

export function useDeploymentsQuery(p: { limit: number; offset: number; target?: string }) {
  const q = new URLSearchParams({ limit: String(p.limit), offset: String(p.offset), ...targetParam(p.target) });
  return useQuery({
    queryKey: deployKeys.list({ limit: p.limit, offset: p.offset, ...targetParam(p.target) }),
    queryFn: () => api<DeploymentList>(`/api/deployments?${q}`),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.deployments.some((d) => d.status === "RUNNING") ? POLL_MS : false),
  });
}

export function useDeploymentQuery(id: string | null) {
  return useQuery({
    queryKey: deployKeys.detail(id ?? ""),
    queryFn: () => api<DeploymentDto>(`/api/deployments/${encodeURIComponent(id!)}`),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data?.status === "RUNNING" ? 1000 : false),
  });
}

/** A backup's small status view, polled until it ends. */
export function useBackupStatusQuery(id: string | null) {
  return useQuery({
    queryKey: [...backupKeys.all, "status", id ?? ""],
    queryFn: () => api<BackupStatus & { failureReason: string | null }>(`/api/backups/${encodeURIComponent(id!)}/status`),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data && !(ACTIVE_JOB_STATUSES as readonly string[]).includes(q.state.data.status) ? false : 1000),
  });
}

/** Successful backups to roll back to, newest first. */
export function useRollbackTargetsQuery(enabled: boolean, target?: string) {
  const q = new URLSearchParams({ limit: "50", offset: "0", status: "SUCCEEDED", ...targetParam(target) });
  return useQuery({
    queryKey: [...backupKeys.all, "list", { limit: 50, offset: 0, status: "SUCCEEDED", ...targetParam(target) }],
    queryFn: () => api<{ backups: BackupDto[]; total: number }>(`/api/backups?${q}`),
    enabled,
  });
}

function useInvalidateAll() {
  const qc = useQueryClient();
  return () => Promise.all([qc.invalidateQueries({ queryKey: deployKeys.all }), qc.invalidateQueries({ queryKey: backupKeys.all })]);
}

export function useCreatePreDeployBackup() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: ({ target, ...input }: { kind: BackupKind; commitSha?: string; target?: string }) =>
      api<{ id: string; status: string }>("/api/backups", {
        method: "POST",
        json: {
          ...input,
          ...targetParam(target),
          trigger: "PRE_DEPLOY",
          note: input.commitSha ? `Before deploying ${input.commitSha.slice(0, 10)} from the Deployments page` : "Before deploying from the Deployments page",
        },
      }),
    onSuccess: invalidate,
  });
}

export interface RunDeployAnswer {
  allowed: boolean;
  deploymentId: string;
  hook: string | null;
  running?: boolean;
  reasons?: string[];
}

export function useRunDeploy() {
  const invalidate = useInvalidateAll();
  return useMutation({
    mutationFn: (commitSha: string) => api<RunDeployAnswer>("/api/deployments/run", { method: "POST", json: { commitSha } }),
    onSettled: invalidate,
  });
}

export function useRollback() {
  const invalidate = useInvalidateAll();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: { backupId: string; confirm: string }) =>
      api<{ deploymentId: string; restoreId?: string; preRestoreBackupId?: string }>("/api/rollback", { method: "POST", json: input }),
    onSettled: () => Promise.all([invalidate(), qc.invalidateQueries({ queryKey: ["restores"] })]),
  });
}
