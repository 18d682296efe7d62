"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import type { CreateTargetInput, TargetSettings, UpdateTargetInput } from "../validation/targets";

export interface TargetTestDto {
  ok: boolean;
  serverVersion: string | null;
  pgDump: { version: string | null; compatible: boolean; message: string };
  canBackup: boolean;
  canRestoreInPlace: boolean;
  canSwap: boolean;
  restorable: boolean;
  reasons: { check: string; ok: boolean; message: string; grant?: string }[];
}

export interface TargetDto {
  id: string;
  name: string;
  environment: string;
  host: string;
  database: string;
  isDefault: boolean;
  hasUrl: boolean;
  settings: TargetSettings;
  backupCount: number;
  createdAt: string;
  updatedAt: string;
  today: { state: "ok" | "missing" | "failed" | "running"; lastSuccess: { id: string; kind: string; completedAt: string | null; sizeBytes: number | null } | null; nextRunAt: string | null; sizes: number[] };
}

export const targetKeys = { all: ["targets"] as const, list: () => [...targetKeys.all, "list"] as const };

const invalidate = (qc: ReturnType<typeof useQueryClient>) => Promise.all([qc.invalidateQueries({ queryKey: targetKeys.all }), qc.invalidateQueries({ queryKey: ["audit"] })]);

export function useTargetsQuery() {
  return useQuery({ queryKey: targetKeys.list(), queryFn: () => api<{ targets: TargetDto[] }>("/api/targets") });
}

export function useCreateTarget() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateTargetInput) => api<TargetDto & { test: TargetTestDto }>("/api/targets", { method: "POST", json: input }),
    onSuccess: () => invalidate(qc),
  });
}

export function useUpdateTarget() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: string; input: UpdateTargetInput }) => api<TargetDto & { test?: TargetTestDto }>(`/api/targets/${encodeURIComponent(id)}`, { method: "PATCH", json: input }),
    onSuccess: () => invalidate(qc),
  });
}

export function useDeleteTarget() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, force }: { id: string; force: boolean }) => api<void>(`/api/targets/${encodeURIComponent(id)}${force ? "?force=true" : ""}`, { method: "DELETE" }),
    onSettled: () => invalidate(qc),
  });
}

/** Tests a URL before saving (ADMIN), or a stored target when `id` is given. */
export function useTestTarget() {
  return useMutation({
    mutationFn: (what: { databaseUrl: string } | { id: string }) =>
      "id" in what
        ? api<TargetTestDto>(`/api/targets/${encodeURIComponent(what.id)}/test`, { method: "POST", json: {} })
        : api<TargetTestDto>("/api/targets/test", { method: "POST", json: { databaseUrl: what.databaseUrl } }),
  });
}
