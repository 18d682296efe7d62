"use client";
// The encryption keys on the Settings page (issue 16): GET /api/keys, re-encryption,
// embedded-mode rotation and retirement.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";

export interface KeysOverviewDto {
  currentKeyId: string;
  recipient: string | null;
  rotatable: boolean;
  keys: { id: string; kind: "passphrase" | "public-key"; current: boolean; configured: boolean; backups: number; backupIds: string[] }[];
  notOnCurrentKey: number;
  reencryptions: { backupId: string; state: string; bytesDone: number; bytesTotal: number }[];
}

export const keyKeys = { all: ["keys"] as const };

export function useKeysQuery() {
  return useQuery({
    queryKey: keyKeys.all,
    queryFn: () => api<KeysOverviewDto>("/api/keys"),
    // Progress while a re-encryption runs; a slow poll otherwise.
    refetchInterval: (q) => ((q.state.data?.reencryptions.length ?? 0) > 0 ? 1500 : 15_000),
  });
}

function useKeyMutation<I, O>(fn: (input: I) => Promise<O>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSettled: () => qc.invalidateQueries({ queryKey: keyKeys.all }) });
}

export const useReencrypt = () =>
  useKeyMutation((input: { all: true } | { ids: string[] }) => api<{ status: "QUEUED"; count: number }>("/api/keys/reencrypt", { method: "POST", json: input }));
export const useRotateKey = () =>
  useKeyMutation((confirm: string) => api<{ keyId: string; passphrase: string; previousKeyId: string }>("/api/keys/rotate", { method: "POST", json: { confirm } }));
export const useRetireKey = () =>
  useKeyMutation((input: { keyId: string; confirm: string }) => api<{ keyId: string; retired: true }>("/api/keys/retire", { method: "POST", json: input }));
