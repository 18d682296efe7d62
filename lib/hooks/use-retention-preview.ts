"use client";
import { useEffect, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api } from "./api";
import { retentionPreviewParams, type RetentionPreview } from "../validation/retention";
import type { RetentionSettings } from "../validation/settings";

export const retentionKeys = {
  all: ["retention"] as const,
  preview: (query: string) => [...retentionKeys.all, "preview", query] as const,
};

/** `value`, once it has stopped changing for `ms` (typing "120" asks once, not three times). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** What `policy` (unsaved values included) would keep and prune now; null while it is invalid. */
export function useRetentionPreviewQuery(policy: RetentionSettings | null, limit: number) {
  const query = policy ? retentionPreviewParams(policy, limit).toString() : null;
  return useQuery({
    queryKey: retentionKeys.preview(query ?? ""),
    queryFn: () => api<RetentionPreview>(`/api/retention/preview?${query}`),
    enabled: query !== null,
    // The previous plan stays on screen, marked as updating, while the next one loads.
    placeholderData: keepPreviousData,
  });
}
