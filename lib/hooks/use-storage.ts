"use client";
// How much the stored backups take, and local storage's disk (GET /api/storage): the
// Overview's storage panel. Every minute: it changes with each backup, not faster.
import { useQuery } from "@tanstack/react-query";
import { api } from "./api";
import type { StorageUsage } from "../backup/storage-usage";

export function useStorageQuery() {
  return useQuery({
    queryKey: ["storage"],
    queryFn: () => api<StorageUsage>("/api/storage"),
    staleTime: 10_000,
    refetchInterval: 60_000,
  });
}
