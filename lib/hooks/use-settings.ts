"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./api";
import { backupKeys } from "./use-backups";
import type { Settings, SettingsSection, SettingsUpdate } from "../validation/settings";

export interface SectionMetaDto {
  version: number;
  updatedAt: string;
  updatedBy: string | null;
}

export interface SettingsView {
  settings: Settings;
  meta: Record<SettingsSection, SectionMetaDto | null>;
  nextRuns: string[];
}

export const settingsKeys = { all: ["settings"] as const, detail: () => [...settingsKeys.all, "detail"] as const };

export function useSettingsQuery() {
  return useQuery({ queryKey: settingsKeys.detail(), queryFn: () => api<SettingsView>("/api/settings") });
}

export function useUpdateSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (update: SettingsUpdate) => api<SettingsView & { changed: string[] }>("/api/settings", { method: "PUT", json: update }),
    onSuccess: (data) => {
      qc.setQueryData(settingsKeys.detail(), { settings: data.settings, meta: data.meta, nextRuns: data.nextRuns });
      // The banner shows the schedule's next run; the audit log has a new event.
      return Promise.all([qc.invalidateQueries({ queryKey: backupKeys.today() }), qc.invalidateQueries({ queryKey: ["audit"] })]);
    },
  });
}
